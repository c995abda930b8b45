//! Charts fetched from Helm repositories (`index.yaml` over HTTP(S)) and
//! OCI registries, as `helm pull` and Argo CD fetch them: the version picked
//! from an exact version or a constraint ([`index::Index::select`]), the
//! archive checked against its digest and kept in the cache by digest
//! ([`cache::ChartCache`]), `--offline` served from the cache alone.
//!
//! Credentials are per host ([`RepoOptions::credentials`]; an OCI registry's
//! also from the Docker config), sent only to that host: a chart URL or a
//! redirect elsewhere gets none.

pub mod cache;
pub mod deps;
pub mod index;
mod oci;

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::net::{self, BlockingClient, Credential, HttpOptions, Request, display_url};
use crate::source::git::Cache;
use cache::ChartCache;

/// A chart in a repository, at a version or constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRef {
    /// `https://...` (a Helm repository), `oci://host/path` or Argo CD's `host/path` (an OCI registry).
    pub repo: String,
    pub chart: String,
    /// An exact version or a Masterminds constraint (empty: the newest stable).
    pub version: String,
}

/// Credentials for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCredential {
    /// `host` (any port) or `host:port`, lower case.
    pub host: String,
    pub credential: Credential,
}

/// Settings of every chart fetch of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoOptions {
    pub http: HttpOptions,
    /// Serve from the cache only.
    pub offline: bool,
    pub credentials: Vec<HostCredential>,
    /// The Docker config file with registry `auths` (default:
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// helm's repositories file, for dependencies whose repository is an
    /// alias (`@name`); see [`deps::repositories_file`].
    pub repositories_file: Option<PathBuf>,
}

impl RepoOptions {
    /// The credential given for `url`'s host.
    pub fn credential_for(&self, url: &url::Url) -> Option<Credential> {
        let host = url.host_str()?.trim_matches(['[', ']']).to_ascii_lowercase();
        let with_port = url.port_or_known_default().map(|p| format!("{host}:{p}"));
        self.credentials
            .iter()
            .find(|c| with_port.as_deref() == Some(c.host.as_str()))
            .or_else(|| self.credentials.iter().find(|c| c.host == host))
            .map(|c| c.credential.clone())
    }
}

/// A fetched chart archive, in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedChart {
    /// The cached archive.
    pub path: PathBuf,
    pub name: String,
    pub version: String,
    /// sha256 of the archive, hex.
    pub digest: String,
    /// The repository, credentials removed.
    pub repo: String,
}

impl FetchedChart {
    pub fn bytes(&self) -> Result<Vec<u8>> {
        std::fs::read(&self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Is `repo` an OCI reference (`oci://`, or a bare `host/path` as Argo CD writes it)?
pub fn is_oci(repo: &str) -> bool {
    repo.starts_with("oci://")
        || (!repo.contains("://") && !repo.starts_with('/') && !repo.starts_with('.') && repo.contains('/'))
}

/// Fetch `chart` (through the cache).
pub fn fetch(chart: &ChartRef, options: &RepoOptions, cache: &Cache) -> Result<FetchedChart> {
    let client = Fetcher::new(options, cache)?;
    client.fetch(chart)
}

/// One command's chart fetches: the HTTP client and cache, shared.
pub struct Fetcher {
    /// Made on first use (offline: never).
    client: std::sync::OnceLock<BlockingClient>,
    options: RepoOptions,
    cache: ChartCache,
    /// Index keys already refreshed by this fetcher (a repository's index is fetched once per run).
    fresh: std::sync::Mutex<Vec<String>>,
}

impl Fetcher {
    pub fn new(options: &RepoOptions, cache: &Cache) -> Result<Self> {
        Ok(Fetcher {
            client: std::sync::OnceLock::new(),
            options: options.clone(),
            cache: ChartCache::new(cache),
            fresh: Default::default(),
        })
    }

    /// The HTTP client, made on first use (offline runs never make one).
    fn client(&self) -> Result<&BlockingClient> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = BlockingClient::new(self.options.http.clone())?;
        Ok(self.client.get_or_init(|| c))
    }

    /// Fetch `chart` from its repository (Helm or OCI).
    pub fn fetch(&self, chart: &ChartRef) -> Result<FetchedChart> {
        self.fetch_as(chart, None)
    }

    /// Fetch `chart` with `credential` for its repository's origin (helm's
    /// repositories file names them per repository), before the per-host ones.
    pub fn fetch_as(&self, chart: &ChartRef, credential: Option<&Credential>) -> Result<FetchedChart> {
        if is_oci(&chart.repo) {
            return oci::fetch(self, chart, credential);
        }
        let fail = |repo: &str, message: String| Error::ChartFetch {
            repo: repo.to_string(),
            chart: chart.chart.clone(),
            version: if chart.version.is_empty() { "(newest)".into() } else { chart.version.clone() },
            message,
        };
        let mut req = Request::get(&chart.repo)?;
        let repo_url = req.url.clone();
        let shown = display_url(&repo_url);
        let credential =
            req.credential.take().or_else(|| credential.cloned()).or_else(|| self.options.credential_for(&repo_url));
        let index = self.index(&repo_url, credential.as_ref()).map_err(|e| match e {
            Error::Http { message, url } => fail(&shown, format!("{url}: {message}")),
            other => other,
        })?;
        let entry = index.select(&chart.chart, &chart.version).map_err(|m| fail(&shown, m))?;
        let first = entry
            .urls
            .first()
            .ok_or_else(|| fail(&shown, format!("version {} has no URL in the index", entry.version)))?;
        let url = index::resolve_chart_url(&repo_url, first).map_err(|m| fail(&shown, m))?;
        let url_key = cache::key(url.as_str());
        let known = if entry.digest.is_empty() { self.cache.digest_of(&url_key)? } else { Some(entry.digest.clone()) };
        let found = |path: PathBuf, digest: String| FetchedChart {
            path,
            name: entry.name.clone(),
            version: entry.version.clone(),
            digest,
            repo: shown.clone(),
        };
        if let Some(d) = &known
            && let Some((path, _)) = self.cache.blob(d)?
        {
            tracing::debug!("chart {} {} from the cache", entry.name, entry.version);
            return Ok(found(path, d.clone()));
        }
        if self.options.offline {
            return Err(fail(
                &shown,
                format!("version {} is not in the cache (run once without --offline to fetch it)", entry.version),
            ));
        }
        // The repository's credentials only where the repository is.
        let credential = credential.filter(|_| net::same_origin(&url, &repo_url));
        let resp = self.client()?.get(&Request::get(url.as_str())?.credential(credential)).and_then(|r| r.success());
        let resp = resp.map_err(|e| fail(&shown, format!("downloading version {}: {e}", entry.version)))?;
        let digest = cache::sha256_hex(&resp.body);
        if !entry.digest.is_empty() && digest != entry.digest {
            return Err(fail(
                &shown,
                format!(
                    "{}: the archive's digest sha256:{digest} is not the index's sha256:{}",
                    display_url(&url),
                    entry.digest
                ),
            ));
        }
        let path = self.cache.store_blob(&digest, &resp.body)?;
        if entry.digest.is_empty() {
            self.cache.store_digest_of(&url_key, &digest)?;
        }
        Ok(found(path, digest))
    }

    /// The repository's index: fetched (with the cached ETag) once per
    /// fetcher, or from the cache offline.
    fn index(&self, repo: &url::Url, credential: Option<&Credential>) -> Result<index::Index> {
        let mut index_url = repo.clone();
        index_url.set_path(&format!("{}/index.yaml", repo.path().trim_end_matches('/')));
        let key = cache::key(index_url.as_str());
        let shown = display_url(repo);
        let lock = self.cache.lock(&key, &shown)?;
        let cached = self.cache.index(&key, &lock)?;
        let fresh = self.fresh.lock().map(|f| f.contains(&key)).unwrap_or(false);
        let bytes = match cached {
            Some((bytes, _)) if self.options.offline || fresh => bytes,
            None if self.options.offline => {
                return Err(Error::Http {
                    url: display_url(&index_url),
                    message: "the repository's index is not in the cache (run once without --offline to fetch it)"
                        .into(),
                });
            }
            cached => {
                let mut req = Request::get(index_url.as_str())?.credential(credential.cloned());
                if let Some((_, Some(etag))) = &cached {
                    req = req.header("if-none-match", etag.clone());
                }
                let resp = self.client()?.get(&req)?;
                let bytes = match (resp.status, cached) {
                    (304, Some((bytes, _))) => bytes,
                    _ => {
                        let resp = resp.success()?;
                        self.cache.store_index(&key, &resp.body, resp.header("etag"), &lock)?;
                        resp.body
                    }
                };
                if let Ok(mut f) = self.fresh.lock() {
                    f.push(key.clone());
                }
                bytes
            }
        };
        drop(lock);
        let text = String::from_utf8(bytes).map_err(|_| Error::Http {
            url: display_url(&index_url),
            message: "index.yaml is not UTF-8 text".into(),
        })?;
        index::Index::parse(&text).map_err(|message| Error::Http { url: display_url(&index_url), message })
    }
}
