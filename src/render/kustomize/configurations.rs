//! `configurations`: custom transformer configurations (kustomize's
//! `TransformerConfig`). Each kustomization's config is kustomize's
//! defaults merged with the files it names; the result is merged into the
//! config accumulated from its bases and components, so a base's field
//! specs also apply to the overlays above it. Field specs merge as
//! kustomize's `FsSlice.MergeOne` does: a spec whose path matches an
//! existing one (the new spec's group/version/kind selecting the old one)
//! is dropped, or refused as conflicting when only `create` differs.
//! `nameReference` entries merge per referred group/version/kind.

use serde_json::{Map, Value};

use super::fieldspec::{Defaults, GvkSel, NameRef, Spec, defaults, split_path};
use super::target::Target;
use super::transform::{ORDER_FIRST, ORDER_LAST};
use crate::yaml::{Dialect, parse_stream};

/// A transformer configuration: the field specs of every built-in
/// transformer, the name references and the var references.
pub type Config = Defaults;

/// Merge one spec into `list` (kustomize's `FsSlice.MergeOne`).
fn merge_one(list: &mut Vec<Spec>, x: &Spec) -> Result<(), String> {
    let found =
        list.iter().find(|e| e.path_text == x.path_text && x.gvk.matches(&e.gvk.group, &e.gvk.version, &e.gvk.kind));
    match found {
        Some(e) if e.create != x.create => Err("conflicting fieldspecs".into()),
        Some(_) => Ok(()),
        None => {
            list.push(x.clone());
            Ok(())
        }
    }
}

fn merge_all(list: &mut Vec<Spec>, incoming: &[Spec], what: &str) -> Result<(), String> {
    for x in incoming {
        merge_one(list, x).map_err(|e| format!("failed to merge {what} fieldSpec: {e}"))?;
    }
    Ok(())
}

/// Merge `other` into `into` (kustomize's `TransformerConfig.Merge`).
pub fn merge(into: &mut Config, other: &Config) -> Result<(), String> {
    merge_all(&mut into.name_prefix, &other.name_prefix, "NamePrefix")?;
    merge_all(&mut into.name_suffix, &other.name_suffix, "NameSuffix")?;
    merge_all(&mut into.namespace, &other.namespace, "NameSpace")?;
    merge_all(&mut into.common_annotations, &other.common_annotations, "CommonAnnotations")?;
    merge_all(&mut into.common_labels, &other.common_labels, "CommonLabels")?;
    merge_all(&mut into.labels, &other.labels, "Labels")?;
    merge_all(&mut into.template_labels, &other.template_labels, "TemplateLabels")?;
    merge_all(&mut into.var_reference, &other.var_reference, "VarReference")?;
    for nr in &other.name_refs {
        match into.name_refs.iter_mut().find(|n| n.referral == nr.referral) {
            Some(n) => merge_all(&mut n.specs, &nr.specs, "NameReference")?,
            None => into.name_refs.push(nr.clone()),
        }
    }
    merge_all(&mut into.images, &other.images, "Images")?;
    merge_all(&mut into.replicas, &other.replicas, "Replicas")?;
    sort(into);
    Ok(())
}

/// kustomize's `Gvk.IsLessThan` key: legacy kind order, then
/// `group_version_kind` with `~G`/`~V`/`~K` for empty parts.
fn gvk_key(g: &GvkSel) -> (i64, String) {
    let first = ORDER_FIRST.iter().position(|k| *k == g.kind).map(|i| i as i64 - ORDER_FIRST.len() as i64);
    let last = ORDER_LAST.iter().position(|k| *k == g.kind).map(|i| i as i64 + 1);
    let or = |s: &str, none: &str| if s.is_empty() { none.to_string() } else { s.to_string() };
    let text = format!("{}_{}_{}", or(&g.group, "~G"), or(&g.version, "~V"), or(&g.kind, "~K"));
    (first.or(last).unwrap_or(0), text)
}

/// Order every list as kustomize does after each merge (`sortFields`);
/// the order decides which of two overlapping specs a later merge keeps.
fn sort(c: &mut Config) {
    for list in [
        &mut c.name_prefix,
        &mut c.name_suffix,
        &mut c.namespace,
        &mut c.common_labels,
        &mut c.labels,
        &mut c.template_labels,
        &mut c.common_annotations,
        &mut c.var_reference,
        &mut c.images,
        &mut c.replicas,
    ] {
        list.sort_by_cached_key(|s| gvk_key(&s.gvk));
    }
    c.name_refs.sort_by_cached_key(|n| gvk_key(&n.referral));
}

/// The config of one kustomization: the defaults merged with the
/// configuration files it names (kustomize's `MakeTransformerConfig`).
pub fn for_target(t: &Target) -> Result<Config, String> {
    static SORTED: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    let mut config = SORTED
        .get_or_init(|| {
            let mut d = defaults().clone();
            sort(&mut d);
            d
        })
        .clone();
    if t.k.configurations.is_empty() {
        return Ok(config);
    }
    let mut from_files = Config::default();
    for entry in &t.k.configurations {
        let bytes = t.read_file(entry).map_err(|e| format!("{}: configurations: {e}", t.label))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{}: configurations: {entry}: not UTF-8", t.label))?;
        let parsed = parse(&text).map_err(|e| format!("{}: configurations: {entry}: {e}", t.label))?;
        merge(&mut from_files, &parsed).map_err(|e| format!("{}: configurations: {entry}: {e}", t.label))?;
    }
    merge(&mut config, &from_files).map_err(|e| format!("{}: configurations: {e}", t.label))?;
    Ok(config)
}

/// The value of `key` in `m`, matching names the way Go's JSON decoding
/// does (exact first, then ignoring ASCII case), as kustomize reads these
/// files through `sigs.k8s.io/yaml`.
pub fn get_ci<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// A string field (`null` or absent is empty).
pub fn str_field(m: &Map<String, Value>, key: &str, what: &str) -> Result<String, String> {
    match get_ci(m, key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("{what}.{key}: expected a string, found {other}")),
    }
}

/// kustomize v5.5 reads configuration files strictly: an unknown field
/// (one of a newer kustomize, say) is an error.
fn known(m: &Map<String, Value>, fields: &[&str]) -> Result<(), String> {
    match m.keys().find(|k| !fields.iter().any(|f| f.eq_ignore_ascii_case(k))) {
        Some(k) => Err(format!("error unmarshaling JSON: while decoding JSON: json: unknown field {k:?}")),
        None => Ok(()),
    }
}

fn field_spec(v: &Value, what: &str) -> Result<Spec, String> {
    let Value::Object(m) = v else { return Err(format!("{what}: expected a field spec mapping, found {v}")) };
    known(m, &["group", "version", "kind", "path", "create"])?;
    let create = match get_ci(m, "create") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("{what}.create: expected a boolean, found {other}")),
    };
    let path = str_field(m, "path", what)?;
    Ok(Spec {
        gvk: GvkSel {
            group: str_field(m, "group", what)?,
            version: str_field(m, "version", what)?,
            kind: str_field(m, "kind", what)?,
        },
        path: split_path(&path),
        path_text: path,
        create,
    })
}

fn list<'v>(m: &'v Map<String, Value>, key: &str) -> Result<&'v [Value], String> {
    match get_ci(m, key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{key}: expected a list, found {other}")),
    }
}

fn specs(m: &Map<String, Value>, key: &str) -> Result<Vec<Spec>, String> {
    list(m, key)?.iter().enumerate().map(|(i, v)| field_spec(v, &format!("{key}[{i}]"))).collect()
}

/// Parse a configuration file (field names match without regard to case,
/// unknown ones are errors, as kustomize v5.5 reads it).
pub fn parse(text: &str) -> Result<Config, String> {
    let docs =
        parse_stream(text, Dialect::Kustomize).map_err(|e| format!("invalid YAML: line {}: {}", e.line, e.message))?;
    let mut config = Config::default();
    let Some(doc) = docs.into_iter().map(|d| d.value).find(|v| !v.is_null()) else { return Ok(config) };
    let Value::Object(m) = doc else { return Err(format!("expected a mapping of field specs, found {doc}")) };
    known(
        &m,
        &[
            "namePrefix",
            "nameSuffix",
            "namespace",
            "commonLabels",
            "labels",
            "templateLabels",
            "commonAnnotations",
            "nameReference",
            "varReference",
            "images",
            "replicas",
        ],
    )?;
    config.name_prefix = specs(&m, "namePrefix")?;
    config.name_suffix = specs(&m, "nameSuffix")?;
    config.namespace = specs(&m, "namespace")?;
    config.common_labels = specs(&m, "commonLabels")?;
    config.labels = specs(&m, "labels")?;
    config.template_labels = specs(&m, "templateLabels")?;
    config.common_annotations = specs(&m, "commonAnnotations")?;
    config.var_reference = specs(&m, "varReference")?;
    config.images = specs(&m, "images")?;
    config.replicas = specs(&m, "replicas")?;
    for (i, v) in list(&m, "nameReference")?.iter().enumerate() {
        let what = format!("nameReference[{i}]");
        let Value::Object(n) = v else { return Err(format!("{what}: expected a mapping, found {v}")) };
        known(n, &["group", "version", "kind", "fieldSpecs"])?;
        let referral = GvkSel {
            group: str_field(n, "group", &what)?,
            version: str_field(n, "version", &what)?,
            kind: str_field(n, "kind", &what)?,
        };
        let refs = specs(n, "fieldSpecs").map_err(|e| format!("{what}.{e}"))?;
        config.name_refs.push(NameRef { referral, specs: refs });
    }
    sort(&mut config);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_specs_are_added_once_and_conflicts_refused() {
        let custom = parse(
            "commonLabels:\n- kind: MyKind\n  path: spec/selector\n  create: true\n- kind: MyKind\n  path: spec/selector\n  create: true\nnameReference:\n- kind: ConfigMap\n  version: v1\n  fieldSpecs:\n  - kind: MyKind\n    path: spec/configRef\n",
        )
        .unwrap();
        let mut config = defaults().clone();
        let before = config.common_labels.len();
        merge(&mut config, &custom).unwrap();
        assert_eq!(config.common_labels.len(), before + 1);
        let cm = config.name_refs.iter().find(|n| n.referral.kind == "ConfigMap" && n.referral.version == "v1");
        assert!(cm.unwrap().specs.iter().any(|s| s.path_text == "spec/configRef"));
        // The default `metadata/labels` spec creates; a custom one that does not conflicts.
        let conflict = parse("commonLabels:\n- path: metadata/labels\n  create: false\n").unwrap();
        let err = merge(&mut config, &conflict).unwrap_err();
        assert_eq!(err, "failed to merge CommonLabels fieldSpec: conflicting fieldspecs");
    }

    #[test]
    fn keys_match_without_case_and_bad_types_are_errors() {
        let c = parse("varreference:\n- Path: spec/x\n  Kind: Foo\n").unwrap();
        assert_eq!(c.var_reference[0].path_text, "spec/x");
        assert_eq!(c.var_reference[0].gvk.kind, "Foo");
        let err = parse("images:\n- path: [a]\n").unwrap_err();
        assert!(err.contains("images[0].path"), "{err}");
        assert!(parse("images: 3\n").unwrap_err().contains("images: expected a list"));
        let err = parse("volumeClaimTemplateLabels: []\n").unwrap_err();
        assert!(err.ends_with("json: unknown field \"volumeClaimTemplateLabels\""), "{err}");
        assert!(parse("images:\n- path: a\n  paht: b\n").unwrap_err().contains("unknown field \"paht\""));
    }
}
