//! A Helm repository's `index.yaml`: its entries, the version a request
//! picks (helm's `IndexFile.Get`: an exact version string first, else the
//! newest version satisfying the Masterminds constraint, prereleases only
//! when the constraint names one), and the nearest versions for a miss.

use serde_json::Value;

use crate::render::chart::semver::{self, Version};

/// One chart version of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub name: String,
    pub version: String,
    /// Where the archive is, absolute or relative to the repository URL.
    pub urls: Vec<String>,
    /// sha256 of the archive, hex (empty when the index gives none).
    pub digest: String,
}

/// The parsed index: per chart, its versions newest first.
#[derive(Debug, Clone, Default)]
pub struct Index {
    entries: std::collections::BTreeMap<String, Vec<IndexEntry>>,
}

impl Index {
    /// Parse `index.yaml` (YAML or JSON), as helm's `loadIndex`: an
    /// `apiVersion` is required; versions that are not semantic versions
    /// are skipped; each chart's versions are sorted newest first.
    pub fn parse(text: &str) -> Result<Index, String> {
        let doc = crate::yaml::parse_one(text, crate::yaml::Dialect::Kubectl)
            .map_err(|e| format!("invalid index.yaml: line {}: {}", e.line, e.message))?;
        let Value::Object(doc) = doc else { return Err("invalid index.yaml: not a mapping".into()) };
        if doc.get("apiVersion").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err("no API version specified in index.yaml".into());
        }
        let mut entries = std::collections::BTreeMap::new();
        let Some(Value::Object(map)) = doc.get("entries") else { return Ok(Index { entries }) };
        for (name, list) in map {
            let mut versions: Vec<(Version, IndexEntry)> = Vec::new();
            for item in list.as_array().into_iter().flatten() {
                let s = |k: &str| match item.get(k) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                };
                let version = s("version");
                let Some(parsed) = Version::parse(&version) else {
                    tracing::debug!("index.yaml: {name} {version:?} is not a semantic version; skipped");
                    continue;
                };
                let urls = item
                    .get("urls")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
                    .unwrap_or_default();
                let digest = s("digest");
                let digest = digest.strip_prefix("sha256:").unwrap_or(&digest).to_ascii_lowercase();
                versions.push((parsed, IndexEntry { name: name.clone(), version, urls, digest }));
            }
            // Newest first; equal versions keep the index's order (Go's stable sort).
            versions.sort_by(|a, b| b.0.cmp(&a.0));
            entries.insert(name.clone(), versions.into_iter().map(|(_, e)| e).collect());
        }
        Ok(Index { entries })
    }

    /// The chart names, sorted.
    pub fn charts(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Every version of `chart`, newest first.
    pub fn versions(&self, chart: &str) -> &[IndexEntry] {
        self.entries.get(chart).map_or(&[], Vec::as_slice)
    }

    /// The version of `chart` that `wanted` picks (empty: the newest
    /// stable). `Err` explains a miss: unknown chart (with similar names),
    /// invalid constraint, or no match (with the nearest versions).
    pub fn select(&self, chart: &str, wanted: &str) -> Result<&IndexEntry, String> {
        let Some(versions) = self.entries.get(chart).filter(|v| !v.is_empty()) else {
            let similar: Vec<&str> =
                self.charts().filter(|c| c.contains(chart) || chart.contains(*c)).take(5).collect();
            let hint = if similar.is_empty() { String::new() } else { format!(" (similar: {})", similar.join(", ")) };
            return Err(format!("no chart named {chart:?} in the repository's index{hint}"));
        };
        let wanted = wanted.trim();
        if !wanted.is_empty()
            && let Some(exact) = versions.iter().find(|v| v.version == wanted)
        {
            return Ok(exact);
        }
        let constraint = if wanted.is_empty() { "*" } else { wanted };
        for v in versions {
            match semver::satisfies(constraint, &v.version) {
                Ok(true) => return Ok(v),
                Ok(false) => {}
                Err(e) if e.starts_with("improper constraint") => {
                    return Err(format!("{wanted:?} is neither a version nor a version constraint"));
                }
                Err(_) => {}
            }
        }
        Err(format!("no version matches {constraint:?}; nearest: {}", nearest(versions, wanted).join(", ")))
    }
}

/// Up to five versions around `wanted` (when it is a version), else the newest five.
fn nearest(versions: &[IndexEntry], wanted: &str) -> Vec<String> {
    let base = wanted.trim_start_matches(['=', 'v', '~', '^', '>', '<', ' ']);
    let Some(target) = Version::parse(base) else {
        return versions.iter().take(5).map(|v| v.version.clone()).collect();
    };
    let mut ranked: Vec<(u64, &IndexEntry)> = versions
        .iter()
        .filter_map(|e| {
            let v = Version::parse(&e.version)?;
            let d = |a: u64, b: u64| a.abs_diff(b);
            // major, then minor, then patch distance, by weight.
            let score = d(v.major, target.major).saturating_mul(1 << 40)
                + d(v.minor, target.minor).saturating_mul(1 << 20)
                + d(v.patch, target.patch).min((1 << 20) - 1);
            Some((score, e))
        })
        .collect();
    ranked.sort_by_key(|(s, _)| *s);
    let mut picked: Vec<&IndexEntry> = ranked.into_iter().take(5).map(|(_, e)| e).collect();
    picked.sort_by(|a, b| Version::parse(&b.version).cmp(&Version::parse(&a.version)));
    picked.into_iter().map(|e| e.version.clone()).collect()
}

/// helm's `ResolveReferenceURL`: an absolute chart URL as it is, a
/// relative one against the repository URL taken as a directory (the
/// repository URL's query kept).
pub fn resolve_chart_url(repo: &url::Url, chart_url: &str) -> Result<url::Url, String> {
    if let Ok(abs) = url::Url::parse(chart_url) {
        return Ok(abs);
    }
    let mut base = repo.clone();
    let path = format!("{}/", base.path().trim_end_matches('/'));
    base.set_path(&path);
    let query = base.query().map(String::from);
    let mut joined = base.join(chart_url).map_err(|e| format!("chart URL {chart_url:?}: {e}"))?;
    joined.set_query(query.as_deref());
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"
apiVersion: v1
entries:
  web:
  - name: web
    version: 1.2.0
    urls: [web-1.2.0.tgz]
    digest: abc
  - name: web
    version: 1.10.0
    urls: [https://cdn.example.com/web-1.10.0.tgz]
  - name: web
    version: 2.0.0-rc.1
    urls: [web-2.0.0-rc.1.tgz]
  - name: web
    version: 1.3.1
    urls: [web-1.3.1.tgz]
  - name: web
    version: not-a-version
    urls: [x.tgz]
  db:
  - name: db
    version: "1.0"
    urls: [db-1.0.tgz]
"#;

    #[test]
    fn picks_exact_then_newest_matching_stable() {
        let i = Index::parse(INDEX).unwrap();
        assert_eq!(
            i.versions("web").iter().map(|e| e.version.as_str()).collect::<Vec<_>>(),
            ["2.0.0-rc.1", "1.10.0", "1.3.1", "1.2.0"]
        );
        assert_eq!(i.select("web", "1.2.0").unwrap().digest, "abc");
        assert_eq!(i.select("web", "").unwrap().version, "1.10.0");
        assert_eq!(i.select("web", "~1.3").unwrap().version, "1.3.1");
        assert_eq!(i.select("web", ">=1.0 <1.5").unwrap().version, "1.3.1");
        assert_eq!(i.select("web", ">=2.0.0-0").unwrap().version, "2.0.0-rc.1");
        assert_eq!(i.select("db", "1.0").unwrap().version, "1.0");
        let e = i.select("web", "1.3.0").unwrap_err();
        assert_eq!(e, "no version matches \"1.3.0\"; nearest: 2.0.0-rc.1, 1.10.0, 1.3.1, 1.2.0");
        assert!(i.select("webs", "1").unwrap_err().contains("similar: web"), "{}", i.select("webs", "1").unwrap_err());
        assert!(i.select("web", "latest!").unwrap_err().contains("neither a version nor"));
        assert!(Index::parse("entries: {}").unwrap_err().contains("no API version"));
    }

    #[test]
    fn chart_urls_resolve_as_helm_does() {
        let repo = url::Url::parse("https://h.example/charts?sig=1").unwrap();
        assert_eq!(
            resolve_chart_url(&repo, "web-1.0.0.tgz").unwrap().as_str(),
            "https://h.example/charts/web-1.0.0.tgz?sig=1"
        );
        assert_eq!(resolve_chart_url(&repo, "/abs/web.tgz").unwrap().as_str(), "https://h.example/abs/web.tgz?sig=1");
        assert_eq!(resolve_chart_url(&repo, "https://o.example/x.tgz").unwrap().as_str(), "https://o.example/x.tgz");
    }
}
