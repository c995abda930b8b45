//! The typed shape of an Argo CD `Application` (the fields this tool reads),
//! and reading it from a parsed document.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::fields::{Fields, Loc};
use crate::error::Result;

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

/// Read one Application document (apiVersion and kind already checked).
pub(crate) fn read_application(loc: &Loc, doc: &Value) -> Result<Application> {
    let mut top = Fields::new(loc, "", doc)?;
    top.accept("apiVersion");
    top.accept("kind");
    top.accept("status");
    top.accept("operation");
    let mut meta = top.object("metadata")?.ok_or_else(|| loc.err("metadata.name", "missing"))?;
    let name = meta.string("name")?.filter(|n| !n.is_empty()).ok_or_else(|| loc.err("metadata.name", "missing"))?;
    let namespace = meta.string("namespace")?;
    for k in ["labels", "annotations", "finalizers", "uid", "resourceVersion", "generation", "creationTimestamp"] {
        meta.accept(k);
    }
    meta.accept("managedFields");
    meta.finish();
    let mut spec = top.object("spec")?.ok_or_else(|| loc.err("spec", "missing"))?;
    let project = spec.string("project")?.unwrap_or_else(|| "default".into());
    let source = spec.object("source")?.map(read_source).transpose()?;
    let sources = spec.objects("sources", read_source)?;
    if source.is_none() && sources.is_empty() {
        return Err(loc.err("spec.source", "missing (set spec.source or spec.sources)"));
    }
    let destination = match spec.object("destination")? {
        Some(mut d) => {
            let dest =
                Destination { server: d.string("server")?, name: d.string("name")?, namespace: d.string("namespace")? };
            d.finish();
            if dest.server.is_some() && dest.name.is_some() {
                return Err(loc.err("spec.destination", "set either name or server, not both"));
            }
            dest
        }
        None => return Err(loc.err("spec.destination", "missing")),
    };
    let sync_policy = spec.object("syncPolicy")?.map(read_sync_policy).transpose()?;
    let ignore_differences = spec.objects("ignoreDifferences", |mut f| {
        let d = IgnoreDifference {
            group: f.string("group")?.unwrap_or_default(),
            kind: f.string("kind")?.ok_or_else(|| f.loc().err(&f.path_of("kind"), "missing"))?,
            name: f.string("name")?,
            namespace: f.string("namespace")?,
            json_pointers: f.strings("jsonPointers")?,
            jq_path_expressions: f.strings("jqPathExpressions")?,
            managed_fields_managers: f.strings("managedFieldsManagers")?,
        };
        f.finish();
        Ok(d)
    })?;
    let revision_history_limit = spec.int("revisionHistoryLimit")?;
    spec.unsupported("info");
    spec.unsupported("sourceHydrator");
    spec.finish();
    top.finish();
    Ok(Application {
        name,
        namespace,
        project,
        source,
        sources,
        destination,
        sync_policy,
        ignore_differences,
        revision_history_limit,
        file: format!("{}:{}", loc.file, loc.line),
        warnings: loc.warnings.borrow().clone(),
    })
}

fn read_source(mut f: Fields<'_>) -> Result<AppSource> {
    let src = AppSource {
        repo_url: f.string("repoURL")?.unwrap_or_default(),
        target_revision: f.string("targetRevision")?.filter(|r| !r.is_empty()).unwrap_or_else(|| "HEAD".into()),
        path: f.string("path")?.unwrap_or_default(),
        chart: f.string("chart")?,
        reference: f.string("ref")?,
        name: f.string("name")?,
        directory: f.object("directory")?.map(read_directory).transpose()?,
        kustomize: f.object("kustomize")?.map(read_kustomize).transpose()?,
        helm: f.object("helm")?.map(read_helm).transpose()?,
        plugin: f.object("plugin")?.map(read_plugin).transpose()?,
    };
    if src.repo_url.is_empty() {
        return Err(f.loc().err(&f.path_of("repoURL"), "missing"));
    }
    f.finish();
    Ok(src)
}

fn read_var(mut f: Fields<'_>) -> Result<JsonnetVar> {
    let v = JsonnetVar {
        name: f.string("name")?.ok_or_else(|| f.loc().err(&f.path_of("name"), "missing"))?,
        value: f.string("value")?.unwrap_or_default(),
        code: f.bool("code")?.unwrap_or(false),
    };
    f.finish();
    Ok(v)
}

fn read_directory(mut f: Fields<'_>) -> Result<DirectorySpec> {
    let jsonnet = match f.object("jsonnet")? {
        Some(mut j) => {
            let spec = JsonnetSpec {
                ext_vars: j.objects("extVars", read_var)?,
                tlas: j.objects("tlas", read_var)?,
                libs: j.strings("libs")?,
            };
            j.finish();
            spec
        }
        None => JsonnetSpec::default(),
    };
    let d = DirectorySpec {
        recurse: f.bool("recurse")?.unwrap_or(false),
        include: f.string("include")?.filter(|s| !s.is_empty()),
        exclude: f.string("exclude")?.filter(|s| !s.is_empty()),
        jsonnet,
    };
    f.finish();
    Ok(d)
}

fn read_kustomize(mut f: Fields<'_>) -> Result<KustomizeSpec> {
    let replicas = f.objects("replicas", |mut r| {
        let name = r.string("name")?.ok_or_else(|| r.loc().err(&r.path_of("name"), "missing"))?;
        let count_path = r.path_of("count");
        let count = match r.get("count") {
            Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
            Some(Value::String(s)) => {
                s.parse().map_err(|_| r.loc().err(&count_path, format!("{s:?} is not an integer")))?
            }
            _ => return Err(r.loc().err(&count_path, "missing or not an integer")),
        };
        r.finish();
        Ok(KustomizeReplica { name, count })
    })?;
    let k = KustomizeSpec {
        name_prefix: f.string("namePrefix")?.unwrap_or_default(),
        name_suffix: f.string("nameSuffix")?.unwrap_or_default(),
        namespace: f.string("namespace")?.filter(|s| !s.is_empty()),
        images: {
            let field = f.path_of("images");
            let raw = f.strings("images")?;
            raw.iter()
                .enumerate()
                .map(|(i, s)| KustomizeImage::parse(s).map_err(|e| f.loc().err(&format!("{field}[{i}]"), e)))
                .collect::<Result<Vec<_>>>()?
        },
        common_labels: f.string_map("commonLabels")?,
        common_annotations: f.string_map("commonAnnotations")?,
        force_common_labels: f.bool("forceCommonLabels")?.unwrap_or(false),
        force_common_annotations: f.bool("forceCommonAnnotations")?.unwrap_or(false),
        replicas,
    };
    for key in ["version", "commonAnnotationsEnvsubst", "patches", "components", "labelWithoutSelector"] {
        f.unsupported(key);
    }
    for key in ["kubeVersion", "apiVersions", "labelIncludeTemplates", "ignoreMissingComponents"] {
        f.unsupported(key);
    }
    f.finish();
    Ok(k)
}

fn read_helm(mut f: Fields<'_>) -> Result<HelmSpec> {
    let parameters = f.objects("parameters", |mut p| {
        let v = HelmParameter {
            name: p.string("name")?.ok_or_else(|| p.loc().err(&p.path_of("name"), "missing"))?,
            value: p.string("value")?.unwrap_or_default(),
            force_string: p.bool("forceString")?.unwrap_or(false),
        };
        p.finish();
        Ok(v)
    })?;
    let file_parameters = f.objects("fileParameters", |mut p| {
        let v = HelmFileParameter {
            name: p.string("name")?.ok_or_else(|| p.loc().err(&p.path_of("name"), "missing"))?,
            path: p.string("path")?.ok_or_else(|| p.loc().err(&p.path_of("path"), "missing"))?,
        };
        p.finish();
        Ok(v)
    })?;
    let values_object = match f.get("valuesObject") {
        None => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(f.loc().err(&f.path_of("valuesObject"), "expected a mapping")),
    };
    let h = HelmSpec {
        release_name: f.string("releaseName")?.filter(|s| !s.is_empty()),
        value_files: f.strings("valueFiles")?,
        ignore_missing_value_files: f.bool("ignoreMissingValueFiles")?.unwrap_or(false),
        values: f.string("values")?,
        values_object,
        parameters,
        file_parameters,
        skip_crds: f.bool("skipCrds")?.unwrap_or(false),
        namespace: f.string("namespace")?.filter(|s| !s.is_empty()),
    };
    for key in ["version", "passCredentials", "kubeVersion", "apiVersions", "skipTests", "skipSchemaValidation"] {
        f.unsupported(key);
    }
    f.finish();
    Ok(h)
}

fn read_plugin(mut f: Fields<'_>) -> Result<PluginSpec> {
    let env = f.objects("env", |mut e| {
        let v = (
            e.string("name")?.ok_or_else(|| e.loc().err(&e.path_of("name"), "missing"))?,
            e.string("value")?.unwrap_or_default(),
        );
        e.finish();
        Ok(v)
    })?;
    let parameters = f.objects("parameters", |mut p| {
        let name = p.string("name")?.ok_or_else(|| p.loc().err(&p.path_of("name"), "missing"))?;
        let string = p.string("string")?;
        let array = p.get("array").is_some().then(|| p.strings("array")).transpose()?;
        let map = p.get("map").is_some().then(|| p.string_map("map")).transpose()?;
        let value = match (string, array, map) {
            (Some(s), None, None) => PluginValue::String(s),
            (None, Some(a), None) => PluginValue::Array(a),
            (None, None, Some(m)) => PluginValue::Map(m),
            (None, None, None) => PluginValue::String(String::new()),
            _ => return Err(p.loc().err(p.here(), "set only one of string, array and map")),
        };
        p.finish();
        Ok(PluginParameter { name, value })
    })?;
    let spec = PluginSpec { name: f.string("name")?.filter(|s| !s.is_empty()), env, parameters };
    f.finish();
    Ok(spec)
}

fn read_sync_policy(mut f: Fields<'_>) -> Result<SyncPolicy> {
    let automated = match f.object("automated")? {
        Some(mut a) => {
            let v = Automated {
                enabled: a.bool("enabled")?.unwrap_or(true),
                prune: a.bool("prune")?.unwrap_or(false),
                self_heal: a.bool("selfHeal")?.unwrap_or(false),
                allow_empty: a.bool("allowEmpty")?.unwrap_or(false),
            };
            a.finish();
            Some(v)
        }
        None => None,
    };
    let mut sync_options = Vec::new();
    let field = f.path_of("syncOptions");
    for (i, raw) in f.strings("syncOptions")?.iter().enumerate() {
        let path = format!("{field}[{i}]");
        match SyncOption::parse(raw) {
            Ok(Some(o)) => sync_options.push(o),
            Ok(None) => f.loc().warn(&path, &format!("unknown sync option {raw:?}; ignored")),
            Err(e) => return Err(f.loc().err(&path, e)),
        }
    }
    let retry = f.get("retry").cloned();
    let managed_namespace_metadata = match f.object("managedNamespaceMetadata")? {
        Some(mut m) => {
            let v =
                ManagedNamespaceMetadata { labels: m.string_map("labels")?, annotations: m.string_map("annotations")? };
            m.finish();
            Some(v)
        }
        None => None,
    };
    f.finish();
    Ok(SyncPolicy { automated, sync_options, retry, managed_namespace_metadata })
}
