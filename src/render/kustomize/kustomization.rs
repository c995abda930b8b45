//! The kustomization file: finding it in a directory, reading it with
//! go-yaml v3 rules, and checking its fields strictly (an unknown field is an
//! error, as `kustomize build` reports; out-of-scope fields are refused by
//! name instead of being ignored).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::KustError;
use crate::render::KUSTOMIZATION_FILES;
use crate::yaml::{Dialect, DuplicateKeys, parse_stream_with};

pub const API_VERSION_BETA: &str = "kustomize.config.k8s.io/v1beta1";
pub const API_VERSION_ALPHA: &str = "kustomize.config.k8s.io/v1alpha1";

/// A string-to-string map that also accepts numbers and booleans, as
/// kustomize's YAML-to-JSON step turns them into strings for labels.
#[derive(Debug, Clone, Default)]
pub struct StrMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = Option::<Map<String, Value>>::deserialize(d)?.unwrap_or_default();
        let mut out = StrMap::default();
        for (k, v) in m {
            let s = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(serde::de::Error::custom(format!("value of {k:?} must be a string, found {other}")));
                }
            };
            out.0.insert(k, s);
        }
        Ok(out)
    }
}

impl StrMap {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub path: String,
    #[serde(default, rename = "create")]
    pub create: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Label {
    #[serde(default)]
    pub pairs: StrMap,
    #[serde(default)]
    pub include_selectors: bool,
    #[serde(default)]
    pub include_templates: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Selector {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub label_selector: String,
    #[serde(default)]
    pub annotation_selector: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchOptions {
    #[serde(default)]
    pub allow_name_change: bool,
    #[serde(default)]
    pub allow_kind_change: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Patch {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub patch: String,
    pub target: Option<Selector>,
    #[serde(default)]
    pub options: PatchOptions,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Image {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub new_name: String,
    #[serde(default)]
    pub new_tag: Option<Value>,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub tag_suffix: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Replica {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorOptions {
    #[serde(default)]
    pub labels: StrMap,
    #[serde(default)]
    pub annotations: StrMap,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Generator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub behavior: String,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub literals: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    #[serde(default)]
    pub env: String,
    pub options: Option<GeneratorOptions>,
    /// Secrets only.
    #[serde(default, rename = "type")]
    pub type_: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SortOptions {
    #[serde(default)]
    pub order: String,
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LegacySortOptions {
    #[serde(default)]
    pub order_first: Vec<String>,
    #[serde(default)]
    pub order_last: Vec<String>,
}

/// A kustomization (or component) file, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kustomization {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    /// Accepted and unused (kustomize ignores it too).
    #[serde(rename = "metadata")]
    pub _metadata: Option<Value>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub bases: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub name_prefix: String,
    #[serde(default)]
    pub name_suffix: String,
    #[serde(default)]
    pub common_labels: StrMap,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub common_annotations: StrMap,
    #[serde(default)]
    pub patches: Vec<Patch>,
    #[serde(default)]
    pub patches_strategic_merge: Vec<String>,
    #[serde(default)]
    pub patches_json6902: Vec<Patch>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub image_tags: Vec<Image>,
    #[serde(default)]
    pub replicas: Vec<Replica>,
    #[serde(default)]
    pub config_map_generator: Vec<Generator>,
    #[serde(default)]
    pub secret_generator: Vec<Generator>,
    pub generator_options: Option<GeneratorOptions>,
    #[serde(default)]
    pub replacements: Vec<Value>,
    pub sort_options: Option<SortOptions>,
    #[serde(default)]
    pub build_metadata: Vec<String>,
    #[serde(default)]
    pub vars: Vec<Value>,
    #[serde(default)]
    pub configurations: Vec<String>,
    /// A custom OpenAPI schema (`path`) or built-in version (see `openapi.rs`).
    pub openapi: Option<Value>,
    /// OpenAPI definition files of custom kinds (see `crds.rs`).
    pub crds: Option<Value>,
    // Out of scope: refused with a clear error when present.
    pub helm_charts: Option<Value>,
    pub helm_globals: Option<Value>,
    pub helm_chart_inflation_generator: Option<Value>,
    #[serde(default)]
    pub transformers: Vec<String>,
    #[serde(default)]
    pub generators: Vec<String>,
    pub validators: Option<Value>,
}

/// Every top-level field name of a kustomization, as spelled in the file.
const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "images",
    "imageTags",
    "replicas",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "replacements",
    "sortOptions",
    "buildMetadata",
    "vars",
    "openapi",
    "crds",
    "configurations",
    "helmCharts",
    "helmGlobals",
    "helmChartInflationGenerator",
    "transformers",
    "generators",
    "validators",
];

/// Top-level keys spelled in another case (`nameprefix`) renamed to the
/// field they name, as kustomize's JSON decoding matches them.
fn canonical_keys(value: Value) -> Value {
    let Value::Object(m) = value else { return value };
    let mut out = Map::new();
    for (k, v) in m {
        let name = match FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&k)) {
            Some(f) if !out.contains_key(*f) => f.to_string(),
            _ => k,
        };
        out.insert(name, v);
    }
    Value::Object(out)
}

/// A loaded kustomization with the file it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub k: Kustomization,
    pub file: PathBuf,
    pub dir: PathBuf,
}

/// The kustomization file of `dir`: exactly one of the accepted names.
pub fn find_file(dir: &Path) -> Result<PathBuf, KustError> {
    let found: Vec<PathBuf> = KUSTOMIZATION_FILES.iter().map(|f| dir.join(f)).filter(|p| p.is_file()).collect();
    match found.len() {
        0 => Err(KustError::new(format!(
            "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'",
            dir.display()
        ))),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        _ => Err(KustError::new(format!(
            "Found multiple kustomization files under: {}; keep only one of them",
            dir.display()
        ))),
    }
}

/// Read and check the kustomization of `dir`.
pub fn load(dir: &Path, label: &str) -> Result<Loaded, KustError> {
    let file = find_file(dir)?;
    let text = std::fs::read_to_string(&file).map_err(|e| KustError::new(format!("{label}: {e}")))?;
    let docs = parse_stream_with(&text, Dialect::Kustomize, DuplicateKeys::LastWins)
        .map_err(|e| KustError::new(format!("{label}: invalid YAML: line {}: {}", e.line, e.message)))?;
    if docs.len() > 1 {
        return Err(KustError::new(format!("{label}: a kustomization file holds one YAML document")));
    }
    let value = docs.into_iter().next().map(|d| d.value).unwrap_or(Value::Null);
    let value = if value.is_null() { Value::Object(Map::new()) } else { value };
    let value = canonical_keys(value);
    let mut k: Kustomization =
        serde_json::from_value(value).map_err(|e| KustError::new(format!("{label}: invalid Kustomization: {e}")))?;
    let unsupported = [
        (
            "helmCharts",
            k.helm_charts.is_some(),
            "Helm chart inflation is not supported here; render the chart as its own source",
        ),
        ("helmGlobals", k.helm_globals.is_some(), "Helm chart inflation is not supported"),
        (
            "helmChartInflationGenerator",
            k.helm_chart_inflation_generator.is_some(),
            "Helm chart inflation is not supported",
        ),
        ("validators", k.validators.is_some(), "validator plugins are not supported"),
    ];
    for (field, present, why) in unsupported {
        if present {
            return Err(KustError::new(format!("{label}: unsupported field {field}: {why}")));
        }
    }
    if k.kind.is_empty() {
        k.kind = "Kustomization".into();
    }
    match k.kind.as_str() {
        "Kustomization" => {
            if !k.api_version.is_empty() && k.api_version != API_VERSION_BETA {
                return Err(KustError::new(format!(
                    "{label}: apiVersion for Kustomization should be {API_VERSION_BETA}"
                )));
            }
        }
        "Component" => {
            if !k.api_version.is_empty() && k.api_version != API_VERSION_ALPHA {
                return Err(KustError::new(format!("{label}: apiVersion for Component should be {API_VERSION_ALPHA}")));
            }
        }
        other => {
            return Err(KustError::new(format!(
                "{label}: unknown kind {other:?} (expected Kustomization or Component)"
            )));
        }
    }
    let legacy_images = std::mem::take(&mut k.image_tags);
    k.images.extend(legacy_images);
    let bases = std::mem::take(&mut k.bases);
    k.resources.extend(bases);
    Ok(Loaded { k, file, dir: dir.to_path_buf() })
}
