//! The typed shape of an Argo CD `Application` (the fields this tool reads)
//! and what the tool blocks mean as renderer arguments. Reading is in `read`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// One `argoproj.io/v1alpha1` `Application`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub name: String,
    /// `metadata.namespace` (where Argo CD would keep the Application).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<AppSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<AppSource>,
    pub destination: Destination,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<SyncPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore_differences: Vec<IgnoreDifference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i64>,
    /// `metadata.annotations` (Argo CD Image Updater reads its settings there).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// `file:line` of the document.
    pub file: String,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `spec.source` (or one of `spec.sources`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSource {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectorySpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<KustomizeSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginSpec>,
    /// The source as written (what `.argocd-source*.yaml` overrides merge onto).
    #[serde(skip)]
    pub raw: Value,
}

/// `source.directory`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySpec {
    pub recurse: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude: Option<String>,
    pub jsonnet: JsonnetSpec,
}

/// `source.directory.jsonnet`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonnetSpec {
    pub ext_vars: Vec<JsonnetVar>,
    pub tlas: Vec<JsonnetVar>,
    pub libs: Vec<String>,
}

/// One jsonnet external variable or top-level argument (`code`: the value is jsonnet code).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JsonnetVar {
    pub name: String,
    pub value: String,
    pub code: bool,
}

/// `source.kustomize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizeSpec {
    pub name_prefix: String,
    pub name_suffix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Image overrides, written as `kustomize edit set image` takes them.
    pub images: Vec<KustomizeImage>,
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    pub force_common_labels: bool,
    pub force_common_annotations: bool,
    pub replicas: Vec<KustomizeReplica>,
}

/// One image override: an entry of a kustomization's `images:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizeImage {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl KustomizeImage {
    /// Parse `kustomize edit set image` syntax: `image=newimage[:tag|@digest]`,
    /// `image:tag` or `image@digest`.
    pub fn parse(arg: &str) -> std::result::Result<Self, String> {
        // (name, tag, digest) of `<image>[:tag|@digest]`; a bare name only when allowed.
        let split = |s: &str, bare_ok: bool| -> Option<(String, Option<String>, Option<String>)> {
            if let Some((name, digest)) = s.split_once('@') {
                return Some((name.to_string(), None, Some(digest.to_string())));
            }
            if let Some((name, tag)) = s.rsplit_once(':')
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Some((name.to_string(), Some(tag.to_string()), None));
            }
            (bare_ok && !s.is_empty()).then(|| (s.to_string(), None, None))
        };
        let parsed = match arg.split('=').collect::<Vec<_>>().as_slice() {
            [name, new] => split(new, true).map(|(n, tag, digest)| KustomizeImage {
                name: name.to_string(),
                new_name: Some(n),
                new_tag: tag,
                digest,
            }),
            _ => split(arg, false).map(|(name, tag, digest)| KustomizeImage {
                name,
                new_name: None,
                new_tag: tag,
                digest,
            }),
        };
        parsed.ok_or_else(|| {
            format!("{arg:?} is not an image override (image=newimage:tag, image=newimage@digest, image:tag or image@digest)")
        })
    }
}

/// One `source.kustomize.replicas` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KustomizeReplica {
    pub name: String,
    pub count: i64,
}

/// `source.helm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_name: Option<String>,
    pub value_files: Vec<String>,
    pub ignore_missing_value_files: bool,
    /// `values` (a YAML string) and `valuesObject` (a mapping); the object wins when both are set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_object: Option<Value>,
    pub parameters: Vec<HelmParameter>,
    pub file_parameters: Vec<HelmFileParameter>,
    pub skip_crds: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `source.helm` as `helm template` arguments, the way Argo CD passes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmSetArgs {
    /// `--set name=value`
    pub set: Vec<String>,
    /// `--set-string name=value`
    pub set_string: Vec<String>,
    /// `--set-file name=path` (path relative to the source directory)
    pub set_file: Vec<String>,
}

impl HelmSpec {
    /// `parameters` and `fileParameters` as `--set`, `--set-string` and
    /// `--set-file` arguments: one per name (the last entry wins), commas in
    /// values escaped unless already escaped or the value is a `{a,b}` list.
    pub fn set_args(&self) -> HelmSetArgs {
        fn escape(v: &str) -> String {
            if v.starts_with('{') && v.ends_with('}') {
                return v.to_string();
            }
            let mut out = String::with_capacity(v.len());
            let mut prev = None;
            for c in v.chars() {
                if c == ',' && prev != Some('\\') {
                    out.push_str("\\,");
                } else {
                    out.push(c);
                }
                prev = Some(c);
            }
            out
        }
        let mut args = HelmSetArgs::default();
        let last = |name: &str, i: usize| self.parameters.iter().rposition(|q| q.name == name) == Some(i);
        for (i, p) in self.parameters.iter().enumerate() {
            if !last(&p.name, i) {
                continue;
            }
            let arg = format!("{}={}", p.name, escape(&p.value));
            if p.force_string { args.set_string.push(arg) } else { args.set.push(arg) }
        }
        let last_file = |name: &str, i: usize| self.file_parameters.iter().rposition(|q| q.name == name) == Some(i);
        for (i, p) in self.file_parameters.iter().enumerate() {
            if last_file(&p.name, i) {
                args.set_file.push(format!("{}={}", p.name, escape(&p.path)));
            }
        }
        args
    }

    /// The inline values (`valuesObject`, else `values` read as YAML), which
    /// Argo CD passes after the value files and before the `--set` family.
    pub fn inline_values(&self) -> std::result::Result<Option<Value>, String> {
        if let Some(v) = &self.values_object {
            return Ok(Some(v.clone()));
        }
        match self.values.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => match crate::yaml::parse_one(text, crate::yaml::Dialect::Kubectl) {
                Ok(v @ Value::Object(_)) => Ok(Some(v)),
                Ok(Value::Null) => Ok(None),
                Ok(_) => Err("helm.values must be a YAML mapping".into()),
                Err(e) => Err(format!("helm.values: line {}: {}", e.line, e.message)),
            },
        }
    }
}

/// `--set name=value` (`force_string`: `--set-string`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmParameter {
    pub name: String,
    pub value: String,
    pub force_string: bool,
}

/// `--set-file name=path` (the path is inside the source).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HelmFileParameter {
    pub name: String,
    pub path: String,
}

/// `source.plugin`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PluginSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub env: Vec<(String, String)>,
    pub parameters: Vec<PluginParameter>,
}

impl PluginSpec {
    /// The environment Argo CD gives a plugin for this block: `env` entries
    /// as `ARGOCD_ENV_<NAME>`, the parameters as one JSON list in
    /// `ARGOCD_APP_PARAMETERS` and one variable each: `PARAM_<NAME>`,
    /// `PARAM_<NAME>_<INDEX>` for arrays, `PARAM_<NAME>_<KEY>` for maps
    /// (names upper-cased, characters outside `[A-Za-z0-9_]` made `_`).
    pub fn plugin_env(&self) -> Vec<(String, String)> {
        let sanitize = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c.to_ascii_uppercase() } else { '_' })
                .collect::<String>()
        };
        let mut env: Vec<(String, String)> =
            self.env.iter().map(|(k, v)| (format!("ARGOCD_ENV_{k}"), v.clone())).collect();
        if !self.parameters.is_empty() {
            let json = serde_json::to_string(&self.parameters).unwrap_or_else(|_| "[]".into());
            env.push(("ARGOCD_APP_PARAMETERS".into(), json));
        }
        for p in &self.parameters {
            let base = format!("PARAM_{}", sanitize(&p.name));
            match &p.value {
                PluginValue::String(v) => env.push((base, v.clone())),
                PluginValue::Array(items) => {
                    env.extend(items.iter().enumerate().map(|(i, v)| (format!("{base}_{i}"), v.clone())))
                }
                PluginValue::Map(m) => {
                    env.extend(m.iter().map(|(k, v)| (format!("{base}_{}", sanitize(k)), v.clone())))
                }
            }
        }
        env
    }
}

/// One plugin parameter: a string, an array or a map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginParameter {
    pub name: String,
    #[serde(flatten)]
    pub value: PluginValue,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginValue {
    String(String),
    Array(Vec<String>),
    Map(BTreeMap<String, String>),
}

/// `spec.destination`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Destination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Destination {
    /// The cluster as written: the name, else the server, else `-`.
    pub fn cluster(&self) -> &str {
        self.name.as_deref().or(self.server.as_deref()).unwrap_or("-")
    }
}

/// `spec.syncPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automated: Option<Automated>,
    pub sync_options: Vec<SyncOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_namespace_metadata: Option<ManagedNamespaceMetadata>,
}

/// `spec.syncPolicy.automated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    pub enabled: bool,
    pub prune: bool,
    pub self_heal: bool,
    pub allow_empty: bool,
}

/// `spec.syncPolicy.managedNamespaceMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ManagedNamespaceMetadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// How dependents are deleted when pruning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PropagationPolicy {
    Foreground,
    Background,
    Orphan,
}

/// One `syncOptions` entry, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOption {
    Validate(bool),
    CreateNamespace(bool),
    PruneLast(bool),
    ApplyOutOfSyncOnly(bool),
    Replace(bool),
    ServerSideApply(bool),
    FailOnSharedResource(bool),
    RespectIgnoreDifferences(bool),
    SkipDryRunOnMissingResource(bool),
    Prune(bool),
    Delete(bool),
    PrunePropagationPolicy(PropagationPolicy),
}

impl SyncOption {
    /// Parse `Key=value`; `Ok(None)` for a key this tool does not know.
    pub fn parse(s: &str) -> std::result::Result<Option<Self>, String> {
        let (key, value) = s.split_once('=').ok_or_else(|| format!("{s:?} is not Key=value"))?;
        let flag = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{key} must be true or false, not {value:?}")),
        };
        Ok(Some(match key {
            "Validate" => SyncOption::Validate(flag()?),
            "CreateNamespace" => SyncOption::CreateNamespace(flag()?),
            "PruneLast" => SyncOption::PruneLast(flag()?),
            "ApplyOutOfSyncOnly" => SyncOption::ApplyOutOfSyncOnly(flag()?),
            "Replace" => SyncOption::Replace(flag()?),
            "ServerSideApply" => SyncOption::ServerSideApply(flag()?),
            "FailOnSharedResource" => SyncOption::FailOnSharedResource(flag()?),
            "RespectIgnoreDifferences" => SyncOption::RespectIgnoreDifferences(flag()?),
            "SkipDryRunOnMissingResource" => SyncOption::SkipDryRunOnMissingResource(flag()?),
            "Prune" => SyncOption::Prune(flag()?),
            "Delete" => SyncOption::Delete(flag()?),
            "PrunePropagationPolicy" => SyncOption::PrunePropagationPolicy(match value {
                "foreground" => PropagationPolicy::Foreground,
                "background" => PropagationPolicy::Background,
                "orphan" => PropagationPolicy::Orphan,
                _ => {
                    return Err(format!(
                        "PrunePropagationPolicy must be foreground, background or orphan, not {value:?}"
                    ));
                }
            }),
            _ => return Ok(None),
        }))
    }
}

impl fmt::Display for SyncOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, v) = match self {
            SyncOption::Validate(b) => ("Validate", b.to_string()),
            SyncOption::CreateNamespace(b) => ("CreateNamespace", b.to_string()),
            SyncOption::PruneLast(b) => ("PruneLast", b.to_string()),
            SyncOption::ApplyOutOfSyncOnly(b) => ("ApplyOutOfSyncOnly", b.to_string()),
            SyncOption::Replace(b) => ("Replace", b.to_string()),
            SyncOption::ServerSideApply(b) => ("ServerSideApply", b.to_string()),
            SyncOption::FailOnSharedResource(b) => ("FailOnSharedResource", b.to_string()),
            SyncOption::RespectIgnoreDifferences(b) => ("RespectIgnoreDifferences", b.to_string()),
            SyncOption::SkipDryRunOnMissingResource(b) => ("SkipDryRunOnMissingResource", b.to_string()),
            SyncOption::Prune(b) => ("Prune", b.to_string()),
            SyncOption::Delete(b) => ("Delete", b.to_string()),
            SyncOption::PrunePropagationPolicy(p) => ("PrunePropagationPolicy", format!("{p:?}").to_lowercase()),
        };
        write!(f, "{k}={v}")
    }
}

impl Serialize for SyncOption {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One `spec.ignoreDifferences` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreDifference {
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub json_pointers: Vec<String>,
    pub jq_path_expressions: Vec<String>,
    pub managed_fields_managers: Vec<String>,
}
