//! `dependencies` in a chart's `Chart.yaml` that `charts/` does not hold,
//! resolved as `helm dependency build` resolves them:
//! - repositories named by alias (`@name`, `alias:name`) become the URL of
//!   that entry of helm's repositories file;
//! - with a `Chart.lock`, its digest must equal helm's hash of the
//!   requirements and the lock (else helm's error: the lock is out of
//!   sync), and the locked versions are fetched; without one, the newest
//!   version matching each range;
//! - `https://` and `oci://` repositories are fetched ([`super::Fetcher`]),
//!   `file://` ones are chart directories that must lie inside the source
//!   root; an empty repository means the chart must already be in `charts/`.
//!
//! The result goes to the renderer as [`ExtraChart`]s, with what could not
//! be fetched and why (a disabled dependency needs no fetching, so the
//! renderer decides, once conditions and tags are known); the render stage
//! itself never touches the network.

use std::path::{Path, PathBuf};

use super::{ChartRef, Fetcher};
use crate::error::{Error, Result};
use crate::net::Credential;
use crate::render::chart::ExtraChart;
use crate::render::chart::deps::{Lock, hash_req, parse_lock};
use crate::render::chart::load::{Dependency, parse_metadata, requirements_dependencies};
use crate::source::LocalSource;

/// An entry of helm's repositories file: a name (for `@name`), its URL,
/// and its credentials (sent to that repository's origin only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoAlias {
    pub name: String,
    pub url: String,
    pub credential: Option<Credential>,
}

/// helm's repositories file: `$HELM_REPOSITORY_CONFIG`, else
/// `$XDG_CONFIG_HOME/helm/repositories.yaml`, else `~/.config/helm/repositories.yaml`.
pub fn repositories_file() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("HELM_REPOSITORY_CONFIG")
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("helm/repositories.yaml")))
        .or_else(|| var("HOME").map(|h| h.join(".config/helm/repositories.yaml")))
}

/// The entries (name, url) of a repositories file; none when it is missing.
pub fn read_aliases(file: &Path) -> Result<Vec<RepoAlias>> {
    let Ok(text) = std::fs::read_to_string(file) else { return Ok(Vec::new()) };
    let doc = crate::yaml::parse_one(&text, crate::yaml::Dialect::Kubectl)
        .map_err(|source| Error::Yaml { file: file.display().to_string(), source })?;
    let list = doc.get("repositories").and_then(|r| r.as_array()).cloned().unwrap_or_default();
    Ok(list
        .iter()
        .filter_map(|r| {
            let s = |k: &str| r.get(k).and_then(|v| v.as_str()).map(String::from);
            let credential = s("username")
                .map(|username| Credential::Basic { username, password: s("password").unwrap_or_default() });
            Some(RepoAlias { name: s("name")?, url: s("url")?, credential })
        })
        .collect())
}

/// The dependencies of the chart at `src` to add to it (see the module docs).
/// `fetcher` is only asked for when a dependency is missing (a chart whose
/// dependencies are all vendored needs no cache).
pub fn build_dependencies<'f>(src: &LocalSource, fetcher: &dyn Fn() -> Result<&'f Fetcher>) -> Result<Resolution> {
    let dir = src.dir().to_path_buf();
    let chart_yaml = src.confine(&dir.join("Chart.yaml"))?;
    let text = std::fs::read_to_string(&chart_yaml).map_err(|e| Error::io(&chart_yaml, e))?;
    let meta = parse_metadata(&text).map_err(|message| Error::Chart { path: chart_yaml.clone(), message })?;
    let mut reqs = meta.dependencies;
    // helm 2's requirements.yaml, as helm's loader reads it.
    let requirements = dir.join("requirements.yaml");
    if requirements.is_file() {
        let real = src.confine(&requirements)?;
        let text = std::fs::read_to_string(&real).map_err(|e| Error::io(&real, e))?;
        let deps = requirements_dependencies(&text).map_err(|message| Error::Chart { path: real.clone(), message })?;
        if deps.is_some() {
            reqs = deps;
        }
    }
    let Some(reqs) = reqs else { return Ok(Resolution::default()) };
    let present = vendored(src, &dir)?;
    let missing: Vec<usize> = (0..reqs.len())
        .filter(|&i| !present.iter().any(|(n, v)| *n == reqs[i].name && reqs[i].matches_version(v)))
        .collect();
    let mut out = Resolution::default();
    if missing.is_empty() {
        return Ok(out);
    }
    // Aliases resolved first: helm hashes the requirements with their URLs.
    let mut resolved = reqs.clone();
    let fetcher = fetcher()?;
    let aliases = match &fetcher.options.repositories_file {
        Some(f) => read_aliases(f)?,
        None => Vec::new(),
    };
    for r in &mut resolved {
        let alias = r.repository.strip_prefix('@').or_else(|| r.repository.strip_prefix("alias:"));
        if let Some(alias) = alias {
            match aliases.iter().find(|a| a.name == alias) {
                Some(found) => r.repository = found.url.clone(),
                None => out.failures.push((
                    r.name.clone(),
                    format!(
                        "no repository named {alias:?} in helm's repositories file ({}); add it with `helm repo add`",
                        fetcher.options.repositories_file.as_deref().map_or("none".into(), |p| p.display().to_string())
                    ),
                )),
            }
        }
    }
    let lock = read_lock(src, &dir)?;
    if let Some(lock) = &lock
        && hash_req(&resolved, &lock.dependencies).as_deref() != Some(lock.digest.as_str())
    {
        // helm's words; nothing is fetched.
        let why = "the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). Please update the dependencies";
        out.failures = missing.iter().map(|&i| (reqs[i].name.clone(), why.to_string())).collect();
        return Ok(out);
    }
    let mut fetched: Vec<(String, String, String)> = Vec::new();
    for i in missing {
        let d = &resolved[i];
        if out.failures.iter().any(|(n, _)| *n == d.name) {
            continue;
        }
        let (version, repository) = match lock.as_ref().and_then(|l| l.dependencies.iter().find(|l| l.name == d.name)) {
            Some(l) => (l.version.clone(), l.repository.clone()),
            None => (d.version.clone(), d.repository.clone()),
        };
        if fetched.iter().any(|(n, v, r)| *n == d.name && *v == version && *r == repository) {
            continue;
        }
        fetched.push((d.name.clone(), version.clone(), repository.clone()));
        // helm uses the credentials of the repositories-file entry with this URL.
        let same = |a: &RepoAlias| a.url.trim_end_matches('/') == repository.trim_end_matches('/');
        let credential = aliases.iter().find(|a| same(a)).and_then(|a| a.credential.as_ref());
        match resolve_one(src, &dir, d, &version, &repository, fetcher, credential) {
            Ok(chart) => out.charts.push(chart),
            Err(e) => {
                tracing::debug!("dependency {} of {}: {e}", d.name, dir.display());
                out.failures.push((d.name.clone(), e.to_string()));
            }
        }
    }
    Ok(out)
}

/// What [`build_dependencies`] found: the charts to add, and the
/// dependencies it could not fetch (name, why) for the renderer, which
/// refuses an enabled one and warns about a disabled one.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub charts: Vec<ExtraChart>,
    pub failures: Vec<(String, String)>,
}

fn resolve_one(
    src: &LocalSource,
    dir: &Path,
    d: &Dependency,
    version: &str,
    repository: &str,
    fetcher: &Fetcher,
    credential: Option<&Credential>,
) -> Result<ExtraChart> {
    if repository.is_empty() {
        return Err(Error::Usage("no repository to fetch it from".into()));
    }
    if let Some(rel) = repository.strip_prefix("file://") {
        // Inside the source root only (confine refuses the rest).
        let sub = src.confine(&dir.join(rel))?;
        let yaml = sub.join("Chart.yaml");
        let text = std::fs::read_to_string(&yaml).map_err(|e| Error::io(&yaml, e))?;
        let meta = parse_metadata(&text).map_err(|message| Error::Chart { path: yaml.clone(), message })?;
        if meta.name != d.name
            || !(Dependency { version: version.to_string(), ..d.clone() }).matches_version(&meta.version)
        {
            return Err(Error::Chart {
                path: dir.to_path_buf(),
                message: format!(
                    "dependency {} ({version}) from {repository}: that directory holds chart {} {}",
                    d.name, meta.name, meta.version
                ),
            });
        }
        return Ok(ExtraChart::Dir(sub));
    }
    let chart = ChartRef { repo: repository.to_string(), chart: d.name.clone(), version: version.to_string() };
    Ok(ExtraChart::Archive(fetcher.fetch_as(&chart, credential)?.path))
}

/// `Chart.lock` next to `Chart.yaml`, when there is one.
fn read_lock(src: &LocalSource, dir: &Path) -> Result<Option<Lock>> {
    let path = dir.join("Chart.lock");
    if !path.exists() {
        return Ok(None);
    }
    let real = src.confine(&path)?;
    let text = std::fs::read_to_string(&real).map_err(|e| Error::io(&real, e))?;
    parse_lock(&text).map(Some).ok_or_else(|| Error::Chart { path: real, message: "invalid Chart.lock".into() })
}

/// (name, version) of each chart under `charts/`.
fn vendored(src: &LocalSource, dir: &Path) -> Result<Vec<(String, String)>> {
    let charts = dir.join("charts");
    let Ok(entries) = std::fs::read_dir(&charts) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let real = src.confine(&p)?;
        let meta = if real.is_dir() {
            let Ok(text) = std::fs::read_to_string(real.join("Chart.yaml")) else { continue };
            parse_metadata(&text).ok()
        } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
            let bytes = std::fs::read(&real).map_err(|e| Error::io(&real, e))?;
            crate::render::chart::archive::load_archive(&bytes, &p, &name).ok().map(|c| c.meta)
        } else {
            None
        };
        if let Some(m) = meta {
            out.push((m.name, m.version));
        }
    }
    Ok(out)
}
