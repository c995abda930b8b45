//! The `generators` and `transformers` fields with kustomize's builtin
//! plugin configs (`apiVersion: builtin`, e.g. `kind: PatchTransformer`):
//! each config runs the same code as the matching kustomization field, with
//! the config's own `fieldSpecs` where it has them. Entries are config
//! files, directories holding a kustomization of configs, or inline YAML.
//! Any other plugin (KRM functions, exec or Go plugins) is refused.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::fieldspec::{Spec, defaults};
use super::generators;
use super::kustomization::{FieldSpec, Generator, Image, Patch, Replica, Selector, StrMap};
use super::resource::{KOrigin, Res, relative_path};
use super::target::Target;
use super::{patch, replacements, transform};
use crate::yaml::{Dialect, parse_stream};

fn is_remote(s: &str) -> bool {
    s.contains("://") || s.starts_with("github.com/") || s.starts_with("git@")
}

/// The plugin configs an entry list names, each with the file it was
/// configured in (relative to the top kustomization, for origins): inline
/// configs first, then those read from files and directories, each group
/// in entry order (as kustomize loads them).
pub fn load_configs(t: &Target, entries: &[String]) -> Result<Vec<(Value, String)>, String> {
    let mut out = Vec::new();
    let mut inline = Vec::new();
    for entry in entries {
        if is_remote(entry) {
            return Err(format!("{}: unsupported remote plugin config '{entry}'", t.label));
        }
        let joined = crate::source::lexical_normalize(&t.dir.join(entry));
        let top = &t.build.top;
        let kfile = relative_path(top, &t.file);
        let docs: Vec<(Value, String)> = if !entry.contains('\n') && joined.is_dir() {
            t.build_subdir(&joined, false)?
                .0
                .into_iter()
                .map(|r| {
                    let from = match &r.korigin {
                        Some(KOrigin::Path(p)) => p.clone(),
                        _ => kfile.clone(),
                    };
                    (r.obj.into_value(), from)
                })
                .collect()
        } else if !entry.contains('\n') && joined.is_file() {
            let from = relative_path(top, &joined);
            let text = String::from_utf8(t.read_file(entry)?).map_err(|_| format!("{entry}: not UTF-8"))?;
            parse_stream(&text, Dialect::Kustomize)
                .map_err(|e| format!("{entry}: invalid YAML: line {}: {}", e.line, e.message))?
                .into_iter()
                .map(|d| (d.value, from.clone()))
                .collect()
        } else {
            let docs = parse_stream(entry, Dialect::Kustomize)
                .map_err(|e| format!("{}: invalid plugin config: {}", t.label, e.message))?;
            let docs: Vec<(Value, String)> = docs.into_iter().map(|d| (d.value, kfile.clone())).collect();
            if !docs.iter().any(|(v, _)| v.is_object()) {
                return Err(format!(
                    "{}: plugin config '{entry}' is neither a file, a directory nor inline YAML",
                    t.label
                ));
            }
            inline.extend(docs.into_iter().filter(|(v, _)| !v.is_null()));
            continue;
        };
        out.extend(docs.into_iter().filter(|(v, _)| !v.is_null()));
    }
    inline.append(&mut out);
    Ok(inline)
}

fn kind_of(config: &Value) -> (&str, &str) {
    let s = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or("");
    (s("apiVersion"), s("kind"))
}

fn builtin<'c>(t: &Target, config: &'c Value) -> Result<&'c str, String> {
    match kind_of(config) {
        ("builtin", kind) => Ok(kind),
        (av, kind) => Err(format!(
            "{}: unsupported plugin {av}/{kind}: only kustomize's builtin plugin configs (apiVersion: builtin) are supported, not KRM functions or exec plugins",
            t.label
        )),
    }
}

/// The config's own fields (without apiVersion, kind and metadata).
fn body(config: &Value) -> Map<String, Value> {
    let mut m = config.as_object().cloned().unwrap_or_default();
    m.remove("apiVersion");
    m.remove("kind");
    m.remove("metadata");
    m
}

fn meta(config: &Value, key: &str) -> String {
    config.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str).unwrap_or("").to_string()
}

fn parse<T: for<'de> Deserialize<'de>>(t: &Target, kind: &str, m: Map<String, Value>) -> Result<T, String> {
    serde_json::from_value(Value::Object(m)).map_err(|e| format!("{}: invalid {kind} config: {e}", t.label))
}

/// Run a generator config (`from`: the file it is configured in).
pub fn generate(t: &Target, config: &Value, from: &str) -> Result<Vec<Res>, String> {
    let kind = builtin(t, config)?;
    let secret = match kind {
        "ConfigMapGenerator" => false,
        "SecretGenerator" => true,
        "IAMPolicyGenerator" => {
            let mut res = iam_policy(t, config)?;
            res.korigin = Some(KOrigin::Generated {
                configured_in: from.to_string(),
                kind: kind.to_string(),
                name: meta(config, "name"),
            });
            return Ok(vec![res]);
        }
        other => return Err(format!("{}: unsupported builtin generator {other}", t.label)),
    };
    // kustomize reads builtin generator configs leniently: unknown fields
    // (a stray `labels:`) are ignored.
    let mut fields = body(config);
    fields.retain(|k, _| {
        ["name", "namespace", "behavior", "files", "literals", "envs", "env", "options", "type"].contains(&k.as_str())
    });
    let mut g: Generator = parse(t, kind, fields)?;
    if g.name.is_empty() {
        g.name = meta(config, "name");
    }
    if g.namespace.is_empty() {
        g.namespace = meta(config, "namespace");
    }
    let mut res = generators::generate(t, &g, secret).map_err(|e| format!("{}: {e}", t.label))?;
    res.korigin = Some(KOrigin::Generated {
        configured_in: from.to_string(),
        kind: kind.to_string(),
        name: meta(config, "name"),
    });
    Ok(vec![res])
}

/// kustomize's `IAMPolicyGenerator` (GKE workload identity): a
/// ServiceAccount annotated with the Google service account it acts as.
fn iam_policy(t: &Target, config: &Value) -> Result<Res, String> {
    let s = |a: &str, b: &str| config.get(a).and_then(|v| v.get(b)).and_then(Value::as_str).unwrap_or("").to_string();
    let cloud = config.get("cloud").and_then(Value::as_str).unwrap_or("");
    if cloud != "gke" {
        return Err(format!("{}: IAMPolicyGenerator: cloud {cloud:?} is not supported (only gke)", t.label));
    }
    let (name, ns) = (s("kubernetesService", "name"), s("kubernetesService", "namespace"));
    let gsa = format!("{}@{}.iam.gserviceaccount.com", s("serviceAccount", "name"), s("serviceAccount", "projectId"));
    let mut meta = Map::new();
    meta.insert("name".into(), Value::String(name));
    if !ns.is_empty() {
        meta.insert("namespace".into(), Value::String(ns));
    }
    meta.insert("annotations".into(), serde_json::json!({"iam.gke.io/gcp-service-account": gsa}));
    let obj = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta});
    let origin = crate::model::Origin::new(t.label.trim_start_matches('/'), 0, 0);
    crate::model::Object::new(obj, origin).map(Res::new).map_err(|e| format!("{}: IAMPolicyGenerator: {e}", t.label))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Affix {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    #[serde(default)]
    labels: StrMap,
    #[serde(default)]
    annotations: StrMap,
    #[serde(default)]
    field_specs: Vec<FieldSpec>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Json6902 {
    target: Option<Selector>,
    #[serde(default)]
    path: String,
    #[serde(default)]
    json_op: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Smp {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    patches: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Misc {
    image_tag: Option<Image>,
    replica: Option<Replica>,
    #[serde(default)]
    replacements: Vec<Value>,
}

/// Run a transformer config on the resources.
pub fn transform(t: &Target, config: &Value, ra: &mut Vec<Res>) -> Result<(), String> {
    let kind = builtin(t, config)?;
    let b = body(config);
    match kind {
        "PatchTransformer" => patch::apply_patch(t, &parse::<Patch>(t, kind, b)?, ra),
        "PatchJson6902Transformer" => {
            let j: Json6902 = parse(t, kind, b)?;
            let p = Patch { path: j.path, patch: j.json_op, target: j.target, options: Default::default() };
            patch::apply_json6902(t, &p, ra)
        }
        "PatchStrategicMergeTransformer" => {
            let s: Smp = parse(t, kind, b)?;
            for p in s.paths.iter().chain(Some(&s.patches).filter(|p| !p.trim().is_empty())) {
                patch::patches_strategic_merge(t, p, ra)?;
            }
            Ok(())
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let a: Affix = parse(t, kind, b)?;
            let specs: Vec<Spec> = a.field_specs.iter().map(Spec::from_user).collect();
            transform::prefix_suffix_specs(&a.prefix, true, &specs, ra);
            transform::prefix_suffix_specs(&a.suffix, false, &specs, ra);
            Ok(())
        }
        "LabelTransformer" | "AnnotationsTransformer" => {
            let a: Affix = parse(t, kind, b)?;
            let specs: Vec<Spec> = a.field_specs.iter().map(Spec::from_user).collect();
            if kind == "LabelTransformer" {
                transform::map_with_specs(&specs, &a.labels, ra, "labels")
            } else {
                transform::map_with_specs(&specs, &a.annotations, ra, "annotations")
            }
        }
        "NamespaceTransformer" => {
            let ns = meta(config, "namespace");
            if ns.is_empty() { Ok(()) } else { transform::namespace(&ns, &defaults().namespace, ra) }
        }
        "ImageTagTransformer" | "ReplicaCountTransformer" | "ReplacementTransformer" => {
            let m: Misc = parse(t, kind, b)?;
            if let Some(i) = &m.image_tag {
                transform::images(i, &defaults().images, ra)?;
            }
            if let Some(r) = &m.replica {
                transform::replicas(r, &defaults().replicas, ra)?;
            }
            if !m.replacements.is_empty() {
                replacements::run(t, &m.replacements, ra)?;
            }
            Ok(())
        }
        other => Err(format!("{}: unable to load builtin {other}.builtin.[noGrp]: not supported here", t.label)),
    }
}
