//! Sync history: the entries an app's ApplySet parent keeps, newest last,
//! bounded by `revisionHistoryLimit`. Pure: (de)serialization and trimming;
//! `sync` stores the encoded list in the parent (data key [`DATA_KEY`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Key in the parent's `data` holding the JSON list of entries.
pub const DATA_KEY: &str = "history";
/// Default number of entries kept (Argo CD's `revisionHistoryLimit` default).
pub const DEFAULT_LIMIT: usize = 10;

/// Where the synced objects came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HistorySource {
    /// Repository URL (credentials removed), or the local path.
    pub repo_url: String,
    /// Path inside the repository.
    #[serde(default)]
    pub path: String,
    /// The revision as asked (`main`, a tag, a SHA); empty for a local directory.
    #[serde(default)]
    pub target_revision: String,
    /// The resolved commit SHA, or `local:<sha256 of the rendered set>` for a working directory.
    pub revision: String,
    /// `Directory`, `Kustomize`, `Helm`, `Jsonnet`, `Plugin`.
    #[serde(default)]
    pub tool: String,
    /// How the source was rendered (values, variables, files: see
    /// [`RenderRecord`]), to render it again identically. Stored under
    /// `parameters`, one list of strings per setting.
    #[serde(default, rename = "parameters")]
    pub render: RenderRecord,
}

/// One recorded sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Increasing id, starting at 1.
    pub id: u64,
    /// RFC 3339 time the sync finished.
    pub deployed_at: String,
    /// The kubeconfig user (or context) that ran the sync.
    pub user: String,
    pub source: HistorySource,
    /// `Succeeded` or `Failed: <reason>`.
    pub result: String,
}

/// A render input as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A value given on the command line (or read from a pipe): only the
    /// first 16 hex digits of its SHA-256, never the value, which may be a secret.
    Digest(String),
    /// A file: its absolute path and, when it could be read, the first 16
    /// hex digits of its content's SHA-256.
    File { path: String, sha256: Option<String> },
}

impl Input {
    /// A value given on the command line.
    pub fn value(value: &str) -> Input {
        Input::Digest(short_sha256(value.as_bytes()))
    }

    /// A file, by absolute path and content digest (see [`Input::check`]).
    pub fn file(path: &std::path::Path) -> Input {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let sha256 = std::fs::read(&abs).ok().map(|bytes| short_sha256(&bytes));
        Input::File { path: abs.display().to_string(), sha256 }
    }

    /// A path kept without a digest (a directory, a search path).
    fn path(path: &str) -> Input {
        Input::File { path: path.to_string(), sha256: None }
    }

    /// The stored form: `(not stored) sha256:HEX`, or `PATH @sha256:HEX`, or `PATH`.
    fn encode(&self) -> String {
        match self {
            Input::Digest(hex) => format!("{SECRET_PREFIX}{hex}"),
            Input::File { path, sha256: Some(hex) } => format!("{path}{FILE_DIGEST_SEP}{hex}"),
            Input::File { path, sha256: None } => path.clone(),
        }
    }

    fn decode(text: &str) -> Input {
        if let Some(hex) = text.strip_prefix(SECRET_PREFIX) {
            return Input::Digest(hex.to_string());
        }
        match text.rsplit_once(FILE_DIGEST_SEP) {
            Some((path, hex)) => Input::File { path: path.to_string(), sha256: Some(hex.to_string()) },
            None => Input::path(text),
        }
    }

    /// The file's path (`None` for a value kept as a digest).
    pub fn file_path(&self) -> Option<&str> {
        match self {
            Input::File { path, .. } => Some(path),
            Input::Digest(_) => None,
        }
    }

    /// For a file: whether it still has the recorded content (`Err` says what differs).
    pub fn check(&self) -> std::result::Result<(), String> {
        let Input::File { path, sha256: Some(digest) } = self else { return Ok(()) };
        match std::fs::read(path) {
            Ok(bytes) if short_sha256(&bytes) == *digest => Ok(()),
            Ok(bytes) => {
                Err(format!("{path} has changed (sha256 {digest} when deployed, {} now)", short_sha256(&bytes)))
            }
            Err(e) => Err(format!("{path}: {e}")),
        }
    }
}

/// An input with a name: a Jsonnet variable, a `--set-file` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub input: Input,
}

impl Named {
    pub fn new(name: &str, input: Input) -> Named {
        Named { name: name.to_string(), input }
    }

    fn encode(&self) -> String {
        format!("{}={}", self.name, self.input.encode())
    }

    fn decode(text: &str) -> Named {
        match text.split_once('=') {
            Some((name, rest)) => Named::new(name, Input::decode(rest)),
            None => Named::new(text, Input::path("")),
        }
    }
}

/// How a source was rendered, as a sync records it: where it was (what
/// the repository and path alone do not say) and every render setting.
/// Values given on the command line are kept as digests ([`Input::Digest`]),
/// files by path and digest. Stored as one list of strings per setting,
/// named as the command line names it (the format of every entry so far).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "BTreeMap<String, Vec<String>>", from = "BTreeMap<String, Vec<String>>")]
pub struct RenderRecord {
    /// The Application file (absolute path) and which Application of it.
    pub app_file: Option<String>,
    pub app_name: Option<String>,
    /// A chart from a repository (`--chart`, an Application's `chart`) and
    /// the version asked for (`--version`: exact or a range).
    pub chart: Option<String>,
    pub chart_version: Option<String>,
    /// `--plain-http`, `--ca-file` (absolute path) for chart repositories.
    pub plain_http: bool,
    pub ca_file: Option<String>,
    /// The revision asked for over the Application's.
    pub app_revision: Option<String>,
    /// `--root` of a local source (absolute path).
    pub root: Option<String>,
    /// The namespace the app was synced into.
    pub namespace: Option<String>,
    /// A multi-source Application's other sources (`repo@commit`).
    pub other_sources: Vec<String>,
    pub recursive: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub release_name: Option<String>,
    /// Values files in order (a file read from a pipe is a digest).
    pub values: Vec<Input>,
    pub set: Vec<Input>,
    pub set_string: Vec<Input>,
    pub set_json: Vec<Input>,
    pub set_literal: Vec<Input>,
    pub set_file: Vec<Named>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    pub skip_crds: bool,
    pub plugin: Option<String>,
    pub plugin_dirs: Vec<String>,
    pub allow_repo_plugins: bool,
    pub plugin_env: Vec<Input>,
    pub jsonnet_main: Option<String>,
    pub jpath: Vec<String>,
    pub ext_str: Vec<Named>,
    pub ext_code: Vec<Named>,
    pub ext_str_file: Vec<Named>,
    pub ext_code_file: Vec<Named>,
    pub tla_str: Vec<Named>,
    pub tla_code: Vec<Named>,
    pub tla_str_file: Vec<Named>,
    pub tla_code_file: Vec<Named>,
    /// Settings this version does not know (written by a newer one): kept as stored.
    pub unknown: BTreeMap<String, Vec<String>>,
}

impl RenderRecord {
    /// The settings kept only as digests (given on the command line), by
    /// the flag that gives them again: a re-render needs them.
    pub fn unstored(&self) -> Vec<String> {
        let digests = |v: &[Input]| v.iter().any(|i| matches!(i, Input::Digest(_)));
        let named = |v: &[Named]| v.iter().any(|n| matches!(n.input, Input::Digest(_)));
        let mut out = Vec::new();
        let mut check = |flag: &str, any: bool| {
            if any {
                out.push(format!("--{flag}"));
            }
        };
        check("values", digests(&self.values));
        check("set", digests(&self.set));
        check("set-string", digests(&self.set_string));
        check("set-json", digests(&self.set_json));
        check("set-literal", digests(&self.set_literal));
        check("set-file", named(&self.set_file));
        check("plugin-env", digests(&self.plugin_env));
        for (flag, list) in self.jsonnet_vars() {
            check(flag, named(list));
        }
        out
    }

    /// The files the render read that no longer hold what was deployed.
    pub fn changed_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |flag: &str, input: &Input| {
            if let Err(e) = input.check() {
                out.push(format!("--{flag} {e}"));
            }
        };
        self.values.iter().for_each(|i| check("values", i));
        self.set_file.iter().for_each(|n| check("set-file", &n.input));
        for (flag, list) in self.jsonnet_vars() {
            list.iter().for_each(|n| check(flag, &n.input));
        }
        out
    }

    /// The Jsonnet variables by flag.
    pub fn jsonnet_vars(&self) -> [(&'static str, &[Named]); 8] {
        [
            ("ext-str", &self.ext_str),
            ("ext-code", &self.ext_code),
            ("ext-str-file", &self.ext_str_file),
            ("ext-code-file", &self.ext_code_file),
            ("tla-str", &self.tla_str),
            ("tla-code", &self.tla_code),
            ("tla-str-file", &self.tla_str_file),
            ("tla-code-file", &self.tla_code_file),
        ]
    }

    fn jsonnet_var_mut(&mut self, flag: &str) -> Option<&mut Vec<Named>> {
        Some(match flag {
            "ext-str" => &mut self.ext_str,
            "ext-code" => &mut self.ext_code,
            "ext-str-file" => &mut self.ext_str_file,
            "ext-code-file" => &mut self.ext_code_file,
            "tla-str" => &mut self.tla_str,
            "tla-code" => &mut self.tla_code,
            "tla-str-file" => &mut self.tla_str_file,
            "tla-code-file" => &mut self.tla_code_file,
            _ => return None,
        })
    }
}

impl From<RenderRecord> for BTreeMap<String, Vec<String>> {
    fn from(r: RenderRecord) -> Self {
        let mut p = r.unknown.clone();
        let mut put = |k: &str, v: Vec<String>| {
            if !v.is_empty() {
                p.insert(k.to_string(), v);
            }
        };
        let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
        let flag = |on: bool| if on { vec!["true".to_string()] } else { Vec::new() };
        let inputs = |v: &[Input]| v.iter().map(Input::encode).collect::<Vec<_>>();
        let named = |v: &[Named]| v.iter().map(Named::encode).collect::<Vec<_>>();
        put("app", one(&r.app_file));
        put("app-name", one(&r.app_name));
        put("chart", one(&r.chart));
        put("version", one(&r.chart_version));
        put("plain-http", flag(r.plain_http));
        put("ca-file", one(&r.ca_file));
        put("revision", one(&r.app_revision));
        put("root", one(&r.root));
        put("namespace", one(&r.namespace));
        put("sources", r.other_sources.clone());
        put("recursive", flag(r.recursive));
        put("include", r.include.clone());
        put("exclude", r.exclude.clone());
        put("release-name", one(&r.release_name));
        put("values", inputs(&r.values));
        put("set", inputs(&r.set));
        put("set-string", inputs(&r.set_string));
        put("set-file", named(&r.set_file));
        put("set-json", inputs(&r.set_json));
        put("set-literal", inputs(&r.set_literal));
        put("kube-version", one(&r.kube_version));
        put("api-versions", r.api_versions.clone());
        put("plugin", one(&r.plugin));
        put("plugin-dir", r.plugin_dirs.clone());
        put("skip-crds", flag(r.skip_crds));
        put("allow-repo-plugins", flag(r.allow_repo_plugins));
        put("plugin-env", inputs(&r.plugin_env));
        put("jsonnet-main", one(&r.jsonnet_main));
        put("jpath", r.jpath.clone());
        for (flag, list) in r.jsonnet_vars() {
            put(flag, named(list));
        }
        p
    }
}

impl From<BTreeMap<String, Vec<String>>> for RenderRecord {
    fn from(map: BTreeMap<String, Vec<String>>) -> Self {
        let mut r = RenderRecord::default();
        for (key, values) in map {
            let first = values.first().cloned();
            let inputs = || values.iter().map(|v| Input::decode(v)).collect::<Vec<_>>();
            let named = || values.iter().map(|v| Named::decode(v)).collect::<Vec<_>>();
            match key.as_str() {
                "app" => r.app_file = first,
                "app-name" => r.app_name = first,
                "chart" => r.chart = first,
                "version" => r.chart_version = first,
                "plain-http" => r.plain_http = true,
                "ca-file" => r.ca_file = first,
                "revision" => r.app_revision = first,
                "root" => r.root = first,
                "namespace" => r.namespace = first,
                "sources" => r.other_sources = values,
                "recursive" => r.recursive = true,
                "include" => r.include = values,
                "exclude" => r.exclude = values,
                "release-name" => r.release_name = first,
                "values" => r.values = inputs(),
                "set" => r.set = inputs(),
                "set-string" => r.set_string = inputs(),
                "set-json" => r.set_json = inputs(),
                "set-literal" => r.set_literal = inputs(),
                "set-file" => r.set_file = named(),
                "kube-version" => r.kube_version = first,
                "api-versions" => r.api_versions = values,
                "plugin" => r.plugin = first,
                "plugin-dir" => r.plugin_dirs = values,
                "skip-crds" => r.skip_crds = true,
                "allow-repo-plugins" => r.allow_repo_plugins = true,
                "plugin-env" => r.plugin_env = inputs(),
                "jsonnet-main" => r.jsonnet_main = first,
                "jpath" => r.jpath = values,
                flag => {
                    let list = named();
                    match r.jsonnet_var_mut(flag) {
                        Some(field) => *field = list,
                        None => {
                            r.unknown.insert(key, values);
                        }
                    }
                }
            }
        }
        r
    }
}

/// How a value that is not stored appears in a record ([`Input::Digest`]).
const SECRET_PREFIX: &str = "(not stored) sha256:";

/// How a file input (a values file, `--set-file`, `--ext-str-file`...) is
/// recorded: its absolute path, this separator, and the first 16 hex digits
/// of its content's SHA-256, so that a rollback can tell whether the file
/// still holds what was deployed ([`Input::File`]).
const FILE_DIGEST_SEP: &str = " @sha256:";

fn short_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Decode the stored list (an absent key is an empty history).
pub fn decode(bytes: Option<&[u8]>) -> Result<Vec<HistoryEntry>> {
    match bytes {
        None => Ok(Vec::new()),
        Some(b) => {
            serde_json::from_slice(b).map_err(|e| Error::Usage(format!("the app's stored history is unreadable: {e}")))
        }
    }
}

/// Encode the list for storage.
pub fn encode(entries: &[HistoryEntry]) -> Vec<u8> {
    serde_json::to_vec(entries).expect("history entries serialize")
}

/// Append an entry (its id is the last id + 1) and keep the newest `limit`.
pub fn record(entries: &mut Vec<HistoryEntry>, mut entry: HistoryEntry, limit: usize) -> u64 {
    entry.id = entries.last().map_or(1, |e| e.id + 1);
    let id = entry.id;
    entries.push(entry);
    let limit = limit.max(1);
    if entries.len() > limit {
        entries.drain(..entries.len() - limit);
    }
    id
}

/// The current time, RFC 3339 in UTC to the second (`2026-11-25T17:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// `secs` since the Unix epoch as RFC 3339 UTC (proleptic Gregorian calendar).
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The entry with this id.
pub fn find(entries: &[HistoryEntry], id: u64) -> Option<&HistoryEntry> {
    entries.iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rev: &str) -> HistoryEntry {
        HistoryEntry {
            id: 0,
            deployed_at: "2026-11-25T17:00:00Z".into(),
            user: "admin".into(),
            source: HistorySource { repo_url: "file:///repo".into(), revision: rev.into(), ..Default::default() },
            result: "Succeeded".into(),
        }
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_625_999), "2026-11-25T16:59:59Z");
        assert!(now_rfc3339().ends_with('Z'));
    }

    #[test]
    fn ids_increase_and_the_limit_trims_the_oldest() {
        let mut h = Vec::new();
        for i in 0..5 {
            record(&mut h, entry(&format!("r{i}")), 3);
        }
        assert_eq!(h.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(find(&h, 4).unwrap().source.revision, "r3");
        assert!(find(&h, 1).is_none());
        let back = decode(Some(&encode(&h))).unwrap();
        assert_eq!(back, h);
        assert!(decode(None).unwrap().is_empty());
        assert!(decode(Some(b"not json")).is_err());
    }

    #[test]
    fn render_records_keep_the_stored_form_of_every_entry_so_far() {
        // An entry as earlier versions wrote it reads into typed settings and writes back unchanged.
        let stored = serde_json::json!({
            "app": ["/x/app.yaml"], "namespace": ["team"], "recursive": ["true"],
            "values": ["/x/prod.yaml @sha256:0123456789abcdef", "(not stored) sha256:fedcba9876543210"],
            "set": ["(not stored) sha256:1111111111111111"],
            "set-file": ["cfg=/x/c.txt @sha256:2222222222222222"],
            "tla-str": ["t=(not stored) sha256:3333333333333333"],
            "jpath": ["/x/lib"], "from-a-newer-version": ["x"]
        });
        let r: RenderRecord = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(r.app_file.as_deref(), Some("/x/app.yaml"));
        assert_eq!(r.namespace.as_deref(), Some("team"));
        assert!(r.recursive && !r.skip_crds);
        let file = Input::File { path: "/x/prod.yaml".into(), sha256: Some("0123456789abcdef".into()) };
        assert_eq!(r.values, [file, Input::Digest("fedcba9876543210".into())]);
        assert_eq!(
            r.set_file,
            [Named::new("cfg", Input::File { path: "/x/c.txt".into(), sha256: Some("2222222222222222".into()) })]
        );
        assert_eq!(r.tla_str, [Named::new("t", Input::Digest("3333333333333333".into()))]);
        assert_eq!(r.unstored(), ["--values", "--set", "--tla-str"]);
        assert_eq!(r.unknown.keys().collect::<Vec<_>>(), ["from-a-newer-version"]);
        assert_eq!(serde_json::to_value(&r).unwrap(), stored);
        // A value is kept as its digest only.
        let v = Input::value("password=hunter2");
        assert!(
            !serde_json::to_string(&RenderRecord { set: vec![v], ..Default::default() }).unwrap().contains("hunter2")
        );
    }
}
