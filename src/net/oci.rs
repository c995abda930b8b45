//! A client for the OCI distribution API (registries of images and Helm
//! charts): the `/v2/` probe, tags lists with `Link` pagination,
//! manifests, blobs checked against their digest, and authentication as
//! registries ask for it in `WWW-Authenticate`: HTTP basic, or a bearer
//! token from the realm it names (with the basic credentials when the realm
//! is on the registry's own host, anonymously otherwise). Credentials come
//! from the caller or from a Docker config file's `auths`
//! ([`docker_credential`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use super::{Credential, HttpClient, Request, Response, display_url};
use crate::error::{Error, Result};

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The OCI image index media type (a multi-platform image).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker's manifest list media type (a multi-platform image).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Every manifest and index media type of images.
pub const IMAGE_MEDIA_TYPES: [&str; 4] = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST];
/// The layer media type of a Helm chart's archive.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Most pages of a tags list followed.
const MAX_PAGES: usize = 1000;

/// A registry and the credentials for it.
pub struct Registry {
    http: HttpClient,
    /// `http` or `https`.
    scheme: &'static str,
    /// `host[:port]`.
    host: String,
    credential: Option<Credential>,
    /// Bearer tokens by scope.
    tokens: Mutex<HashMap<String, String>>,
    /// At most this many requests a second to the registry (token requests included).
    pacer: Option<Pacer>,
}

/// Spaces requests evenly: each waits for the slot after the previous one's.
struct Pacer {
    interval: std::time::Duration,
    next: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacer {
    async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = tokio::time::Instant::now();
        let at = next.filter(|t| *t > now).unwrap_or(now);
        *next = Some(at + self.interval);
        drop(next);
        tokio::time::sleep_until(at).await;
    }
}

/// One entry of an image index: a platform's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub digest: String,
    pub media_type: String,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

/// A manifest as fetched.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub digest: String,
    pub media_type: String,
    pub json: Value,
}

impl Manifest {
    /// Is this an image index (OCI) or manifest list (Docker)?
    pub fn is_index(&self) -> bool {
        matches!(self.media_type.as_str(), OCI_INDEX | DOCKER_MANIFEST_LIST)
            || (self.json.get("manifests").is_some() && self.json.get("layers").is_none())
    }

    /// The config blob's digest of an image manifest.
    pub fn config_digest(&self) -> Option<&str> {
        self.json.get("config").and_then(|c| c.get("digest")).and_then(Value::as_str)
    }

    /// The entries of an index, with their platforms (empty strings when an entry names none).
    pub fn index_entries(&self) -> Vec<IndexEntry> {
        let s = |v: Option<&Value>, k: &str| v.and_then(|p| p.get(k)).and_then(Value::as_str).map(String::from);
        self.json
            .get("manifests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let platform = m.get("platform");
                Some(IndexEntry {
                    digest: m.get("digest")?.as_str()?.to_string(),
                    media_type: s(Some(m), "mediaType").unwrap_or_default(),
                    os: s(platform, "os").unwrap_or_default(),
                    architecture: s(platform, "architecture").unwrap_or_default(),
                    variant: s(platform, "variant").filter(|v| !v.is_empty()),
                })
            })
            .collect()
    }

    /// The layers with `media_type`: (digest, size).
    pub fn layers(&self, media_type: &str) -> Vec<(String, u64)> {
        self.json
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|l| l.get("mediaType").and_then(Value::as_str) == Some(media_type))
            .filter_map(|l| {
                Some((l.get("digest")?.as_str()?.to_string(), l.get("size").and_then(Value::as_u64).unwrap_or(0)))
            })
            .collect()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// One challenge of `WWW-Authenticate`: its scheme and parameters.
fn parse_challenge(header: &str) -> (String, HashMap<String, String>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else { break };
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (quoted[..end].to_string(), &quoted[end + 1..]),
                None => (quoted.to_string(), ""),
            }
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.insert(key, value);
        rest = next.trim_start_matches([',', ' ']);
    }
    (scheme.to_ascii_lowercase(), params)
}

/// The next page of a tags list from a `Link: <url>; rel="next"` header.
fn next_link(resp: &Response) -> Option<String> {
    resp.header_all("link").into_iter().flat_map(|h| h.split(',')).find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

impl Registry {
    /// A client for `host` (`host[:port]`), over plain HTTP when the
    /// client's options allow it (helm's `--plain-http`), else HTTPS.
    pub fn new(http: HttpClient, host: &str, credential: Option<Credential>) -> Self {
        let scheme = if http.options().plain_http { "http" } else { "https" };
        Registry {
            http,
            scheme,
            host: host.to_ascii_lowercase(),
            credential,
            tokens: Mutex::new(HashMap::new()),
            pacer: None,
        }
    }

    /// At most `per_second` requests a second to this registry (0: no limit).
    pub fn with_rate_limit(mut self, per_second: u32) -> Self {
        self.pacer = (per_second > 0).then(|| Pacer {
            interval: std::time::Duration::from_secs(1) / per_second,
            next: tokio::sync::Mutex::new(None),
        });
        self
    }

    async fn pace(&self) {
        if let Some(p) = &self.pacer {
            p.wait().await;
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.host)
    }

    /// GET `path` (or an absolute URL on this registry) with the registry's
    /// authentication; `scope` is the token scope (`repository:NAME:pull`).
    async fn get(&self, path_or_url: &str, accept: &[&str], scope: &str) -> Result<Response> {
        let url = if path_or_url.starts_with('/') { self.url(path_or_url) } else { path_or_url.to_string() };
        let mut req = Request::get(&url)?;
        // A link elsewhere gets neither the credentials nor the token.
        if !super::same_origin(&req.url, &super::parse_url(&self.url("/"))?) {
            return Err(Error::Http {
                url: display_url(&req.url),
                message: format!("not on the registry {}", self.host),
            });
        }
        if !accept.is_empty() {
            req = req.header("accept", accept.join(", "));
        }
        let token = self.tokens.lock().ok().and_then(|t| t.get(scope).cloned());
        let first = match &token {
            Some(t) => req.clone().credential(Some(Credential::Bearer(t.clone()))),
            None => req.clone(),
        };
        self.pace().await;
        let resp = self.http.get(&first).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let Some(challenge) = resp.header("www-authenticate").map(String::from) else { return Ok(resp) };
        let (scheme, params) = parse_challenge(&challenge);
        match scheme.as_str() {
            "basic" if self.credential.is_some() => {
                let basic = self.credential.clone().filter(|c| matches!(c, Credential::Basic { .. }));
                self.pace().await;
                self.http.get(&req.credential(basic)).await
            }
            "bearer" => {
                let token = self.token(&params, scope).await?;
                if let Ok(mut t) = self.tokens.lock() {
                    t.insert(scope.to_string(), token.clone());
                }
                self.pace().await;
                self.http.get(&req.credential(Some(Credential::Bearer(token)))).await
            }
            _ => Ok(resp),
        }
    }

    /// A bearer token from the challenge's realm. The basic credentials go
    /// along only when the realm is on the registry's own host.
    async fn token(&self, params: &HashMap<String, String>, scope: &str) -> Result<String> {
        let realm = params.get("realm").ok_or_else(|| Error::Http {
            url: self.url("/v2/"),
            message: "the registry asks for a bearer token without a realm".into(),
        })?;
        let mut url = super::parse_url(realm)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = params.get("service") {
                q.append_pair("service", service);
            }
            let scope = params.get("scope").map_or(scope, String::as_str);
            if !scope.is_empty() {
                q.append_pair("scope", scope);
            }
        }
        let own_host = self.host.split(':').next().unwrap_or(&self.host);
        let same_host = url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(own_host));
        let credential = match &self.credential {
            Some(c @ Credential::Basic { .. }) if same_host => Some(c.clone()),
            Some(_) if !same_host => {
                tracing::debug!("token realm {} is not on {}: asking anonymously", display_url(&url), self.host);
                None
            }
            _ => None,
        };
        self.pace().await;
        let resp = self.http.get(&Request { url: url.clone(), headers: Vec::new(), credential }).await?.success()?;
        let json: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| Error::Http { url: display_url(&url), message: format!("invalid token answer: {e}") })?;
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| Error::Http { url: display_url(&url), message: "the token answer holds no token".into() })
    }

    /// The `/v2/` probe: `Ok` when the registry speaks the distribution API
    /// (and accepts our credentials).
    pub async fn ping(&self) -> Result<()> {
        self.get("/v2/", &[], "").await?.success().map(|_| ())
    }

    /// Every tag of `repository`, following `Link` pagination.
    pub async fn tags(&self, repository: &str) -> Result<Vec<String>> {
        let scope = format!("repository:{repository}:pull");
        let mut next = Some(format!("/v2/{repository}/tags/list"));
        let mut tags = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(Error::Http {
                    url: self.url(&format!("/v2/{repository}/tags/list")),
                    message: format!("more than {MAX_PAGES} pages of tags"),
                });
            }
            let resp = self.get(&path, &["application/json"], &scope).await?.success()?;
            let json: Value = serde_json::from_slice(&resp.body)
                .map_err(|e| Error::Http { url: display_url(&resp.url), message: format!("invalid tags list: {e}") })?;
            tags.extend(
                json.get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(String::from),
            );
            next = next_link(&resp).map(|link| resp.url.join(&link).map(|u| u.to_string()).unwrap_or(link));
        }
        Ok(tags)
    }

    /// The manifest of `repository` at `reference` (a tag or a digest),
    /// checked against the digest when one was asked for.
    pub async fn manifest(&self, repository: &str, reference: &str) -> Result<Manifest> {
        self.manifest_accepting(repository, reference, &[OCI_MANIFEST, DOCKER_MANIFEST]).await
    }

    /// [`Registry::manifest`] accepting the given media types (e.g.
    /// [`IMAGE_MEDIA_TYPES`], indexes included).
    pub async fn manifest_accepting(&self, repository: &str, reference: &str, accept: &[&str]) -> Result<Manifest> {
        let scope = format!("repository:{repository}:pull");
        let resp = self.get(&format!("/v2/{repository}/manifests/{reference}"), accept, &scope).await?.success()?;
        let digest = format!("sha256:{}", sha256_hex(&resp.body));
        if reference.starts_with("sha256:") && reference != digest {
            return Err(Error::Http {
                url: display_url(&resp.url),
                message: format!("the manifest's digest is {digest}, not {reference}"),
            });
        }
        let json: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| Error::Http { url: display_url(&resp.url), message: format!("invalid manifest: {e}") })?;
        let media_type = json
            .get("mediaType")
            .and_then(Value::as_str)
            .or_else(|| resp.header("content-type"))
            .unwrap_or(OCI_MANIFEST)
            .to_string();
        Ok(Manifest { digest, media_type, json })
    }

    /// The blob `digest` of `repository`, checked against it.
    pub async fn blob(&self, repository: &str, digest: &str) -> Result<Vec<u8>> {
        let scope = format!("repository:{repository}:pull");
        let resp = self.get(&format!("/v2/{repository}/blobs/{digest}"), &[], &scope).await?.success()?;
        let got = format!("sha256:{}", sha256_hex(&resp.body));
        if got != digest {
            return Err(Error::Http {
                url: display_url(&resp.url),
                message: format!("the blob's digest is {got}, not {digest}"),
            });
        }
        Ok(resp.body)
    }
}

/// The Docker config file: `path`, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path(path: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = path {
        return Some(p.to_path_buf());
    }
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("DOCKER_CONFIG").map(|d| d.join("config.json")).or_else(|| var("HOME").map(|h| h.join(".docker/config.json")))
}

/// The credential of `registry` (`host[:port]`) in a Docker config's
/// `auths` (keys compared without scheme or path; `auth` is base64
/// `user:password`, else `username`/`password`; an `identitytoken` is a
/// refresh token, sent as the password as Docker does). A missing file is
/// no credential; credential helpers (`credsStore`) are not run.
pub fn docker_credential(config: &Path, registry: &str) -> Result<Option<Credential>> {
    let Ok(text) = std::fs::read_to_string(config) else { return Ok(None) };
    docker_credential_in(&text, &config.display().to_string(), registry)
}

/// [`docker_credential`] from a Docker config's text (a pull Secret's
/// `.dockerconfigjson`); `label` names it in errors.
pub fn docker_credential_in(text: &str, label: &str, registry: &str) -> Result<Option<Credential>> {
    let json: Value =
        serde_json::from_str(text).map_err(|e| Error::Usage(format!("{label}: invalid Docker config: {e}")))?;
    let key = |k: &str| {
        let k = k.split_once("://").map_or(k, |(_, rest)| rest);
        k.split('/').next().unwrap_or("").to_ascii_lowercase()
    };
    let wanted = registry.to_ascii_lowercase();
    let Some(entry) = json
        .get("auths")
        .and_then(Value::as_object)
        .and_then(|a| a.iter().find(|(k, _)| key(k) == wanted))
        .map(|(_, v)| v)
    else {
        if json.get("credsStore").is_some() || json.get("credHelpers").is_some() {
            tracing::debug!("{}: credential helpers are not run; no entry for {registry} in auths", label);
        }
        return Ok(None);
    };
    let s = |k: &str| entry.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(String::from);
    if let Some(auth) = s("auth") {
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| Error::Usage(format!("{}: auths.{registry}.auth is not base64 user:password", label)))?;
        let (username, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
        let password = s("identitytoken").unwrap_or_else(|| password.to_string());
        return Ok(Some(Credential::Basic { username: username.to_string(), password }));
    }
    match (s("username"), s("password").or_else(|| s("identitytoken"))) {
        (Some(username), Some(password)) => Ok(Some(Credential::Basic { username, password })),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_registries_write_them() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull");
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((s.as_str(), p["realm"].as_str()), ("basic", "Registry Realm"));
    }

    #[test]
    fn docker_config_auths_by_host() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("config.json");
        std::fs::write(
            &f,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}, "127.0.0.1:5000": {"username": "a", "password": "b"}}, "credsStore": "desktop"}"#,
        )
        .unwrap();
        assert_eq!(
            docker_credential(&f, "index.docker.io").unwrap(),
            Some(Credential::Basic { username: "u".into(), password: "p".into() })
        );
        assert_eq!(
            docker_credential(&f, "127.0.0.1:5000").unwrap(),
            Some(Credential::Basic { username: "a".into(), password: "b".into() })
        );
        assert_eq!(docker_credential(&f, "127.0.0.1:5001").unwrap(), None);
        assert_eq!(docker_credential(&tmp.path().join("none.json"), "x").unwrap(), None);
    }
}
