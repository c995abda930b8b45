//! Charts in OCI registries, as `helm pull oci://...` and Argo CD fetch
//! them: `oci://host/path` (or Argo CD's `host/path`) and the chart name
//! make the repository `path/chart`; an exact version is the tag (`+`
//! written `_`), a constraint is matched against the semantic-version
//! tags; the manifest's Helm chart layer is downloaded and checked against
//! its digest. Offline, the tags and the tag's layer digest come from the
//! cache.

use super::{ChartRef, FetchedChart, Fetcher, cache};
use crate::error::{Error, Result};
use crate::net::Credential;
use crate::net::oci::{HELM_CHART_LAYER, Registry, docker_config_path, docker_credential};
use crate::render::chart::semver::Version;

/// `(host, repository)` of an OCI chart reference.
fn split(chart: &ChartRef) -> std::result::Result<(String, String), String> {
    let rest = chart.repo.strip_prefix("oci://").unwrap_or(&chart.repo).trim_end_matches('/');
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    if host.is_empty() || host.contains('@') || chart.chart.is_empty() || chart.chart.contains(['/', ':', '@']) {
        return Err(format!("{:?} with chart {:?} is not an OCI chart reference", chart.repo, chart.chart));
    }
    let repository = if path.is_empty() { chart.chart.clone() } else { format!("{path}/{}", chart.chart) };
    Ok((host.to_ascii_lowercase(), repository))
}

pub(super) fn fetch(f: &Fetcher, chart: &ChartRef, given: Option<&Credential>) -> Result<FetchedChart> {
    let shown = format!("oci://{}", chart.repo.strip_prefix("oci://").unwrap_or(&chart.repo).trim_end_matches('/'));
    let fail = |message: String| Error::ChartFetch {
        repo: shown.clone(),
        chart: chart.chart.clone(),
        version: if chart.version.is_empty() { "(newest)".into() } else { chart.version.clone() },
        message,
    };
    let (host, repository) = split(chart).map_err(&fail)?;
    let wrap = |e: Error| match e {
        Error::Http { url, message } => fail(format!("{url}: {message}")),
        other => other,
    };
    let tags_key = cache::key(&format!("oci-tags:{host}/{repository}"));
    let wanted = chart.version.trim();
    // An exact version needs no tags list.
    let exact = Version::parse(wanted).is_some()
        && wanted.split(['-', '+']).next().is_some_and(|core| core.split('.').count() == 3)
        && !wanted.starts_with(['=', '~', '^', '<', '>', '!', 'v']);
    let registry = if f.options.offline {
        None
    } else {
        let url =
            url::Url::parse(&format!("https://{host}/")).map_err(|e| fail(format!("invalid registry host: {e}")))?;
        // Given for this repository, else for the host, else the Docker config's.
        let mut credential = given.cloned().or_else(|| f.options.credential_for(&url));
        if credential.is_none()
            && let Some(config) = docker_config_path(f.options.docker_config.as_deref())
        {
            credential = docker_credential(&config, &host)?;
        }
        Some(Registry::new(f.client()?.client().clone(), &host, credential))
    };
    let version = if exact {
        wanted.to_string()
    } else {
        let tags = match &registry {
            Some(r) => {
                let tags = f.client()?.block_on(r.tags(&repository)).map_err(wrap)?;
                let lock = f.cache.lock(&tags_key, &shown)?;
                f.cache.store_index(
                    &tags_key,
                    serde_json::to_string(&tags).unwrap_or_default().as_bytes(),
                    None,
                    &lock,
                )?;
                tags
            }
            None => {
                let lock = f.cache.lock(&tags_key, &shown)?;
                let cached =
                    f.cache.index(&tags_key, &lock)?.and_then(|(b, _)| serde_json::from_slice::<Vec<String>>(&b).ok());
                cached.ok_or_else(|| {
                    fail("the registry's tags are not in the cache (run once without --offline to fetch them)".into())
                })?
            }
        };
        pick(&tags, wanted).map_err(&fail)?
    };
    let tag = version.replace('+', "_");
    let ref_key = cache::key(&format!("oci:{host}/{repository}:{tag}"));
    let found = |path, digest: String| FetchedChart {
        path,
        name: chart.chart.clone(),
        version: version.clone(),
        digest,
        repo: shown.clone(),
    };
    let Some(registry) = registry else {
        let digest = f.cache.digest_of(&ref_key)?;
        return match digest.map(|d| f.cache.blob(&d).map(|b| (d, b))).transpose()? {
            Some((d, Some((path, _)))) => Ok(found(path, d)),
            _ => Err(fail(format!("version {version} is not in the cache (run once without --offline to fetch it)"))),
        };
    };
    let manifest = match f.client()?.block_on(registry.manifest(&repository, &tag)) {
        Ok(m) => m,
        // An exact version that is not there: say which ones are.
        Err(Error::Http { message, .. }) if exact && message.starts_with("HTTP 404") => {
            let tags = f.client()?.block_on(registry.tags(&repository)).map_err(wrap)?;
            return Err(fail(pick(&tags, wanted).err().unwrap_or(message)));
        }
        Err(e) => return Err(wrap(e)),
    };
    let layers = manifest.layers(HELM_CHART_LAYER);
    let [(layer, _)] = layers.as_slice() else {
        return Err(fail(format!(
            "{host}/{repository}:{tag} ({}) has {} layers of type {HELM_CHART_LAYER}; a chart has one",
            manifest.digest,
            layers.len()
        )));
    };
    let hex =
        layer.strip_prefix("sha256:").ok_or_else(|| fail(format!("unsupported layer digest {layer}")))?.to_string();
    let path = match f.cache.blob(&hex)? {
        Some((path, _)) => path,
        None => {
            let bytes = f.client()?.block_on(registry.blob(&repository, layer)).map_err(wrap)?;
            f.cache.store_blob(&hex, &bytes)?
        }
    };
    f.cache.store_digest_of(&ref_key, &hex)?;
    Ok(found(path, hex))
}

/// The newest tag (as a version: `_` read as `+`) matching `wanted`.
fn pick(tags: &[String], wanted: &str) -> std::result::Result<String, String> {
    let text = format!(
        "apiVersion: v1\nentries:\n  c:\n{}",
        tags.iter()
            .map(|t| format!("  - version: {}\n", serde_json::to_string(&t.replace('_', "+")).unwrap_or_default()))
            .collect::<String>()
    );
    let index = super::index::Index::parse(&text)?;
    index
        .select("c", wanted)
        .map(|e| e.version.clone())
        .map_err(|e| e.replace("no chart named \"c\" in the repository's index", "the repository has no version tags"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_tags() {
        let r = |repo: &str, chart: &str| {
            split(&ChartRef { repo: repo.into(), chart: chart.into(), version: String::new() })
        };
        assert_eq!(
            r("oci://Reg.example:5000/charts", "web").unwrap(),
            ("reg.example:5000".into(), "charts/web".into())
        );
        assert_eq!(r("ghcr.io/org/charts/", "web").unwrap(), ("ghcr.io".into(), "org/charts/web".into()));
        assert_eq!(r("oci://reg.example", "web").unwrap(), ("reg.example".into(), "web".into()));
        assert!(r("oci://reg.example/x", "../web").is_err());
        let tags: Vec<String> =
            ["1.0.0", "1.1.0", "1.2.0_build.1", "latest", "2.0.0-rc.1"].iter().map(|s| s.to_string()).collect();
        assert_eq!(pick(&tags, "~1.1").unwrap(), "1.1.0");
        assert_eq!(pick(&tags, "").unwrap(), "1.2.0+build.1");
        assert!(pick(&tags, "3.x").unwrap_err().starts_with("no version matches \"3.x\"; nearest: 2.0.0-rc.1"));
    }
}
