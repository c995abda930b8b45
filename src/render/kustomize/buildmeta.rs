//! The top kustomization's `buildMetadata` options and the transformer
//! annotation (`alpha.config.kubernetes.io/transformations`) they ask for.
//!
//! kustomize tracks build metadata on every layer once the top
//! kustomization names any option. After each transformer instance runs it
//! appends that transformer's origin to every resource in the layer, even
//! to resources the transformer left alone: for built-in fields the
//! kustomization file that configured it and `builtin`/`<Kind>`; for
//! entries of `transformers:` the file the plugin config came from (the
//! kustomization for inline configs) and the config's own apiVersion, kind,
//! name and namespace. Each built-in field yields one instance, except
//! `patches`, `patchesJson6902`, `replicas` and `images` (one per entry) and
//! labels (one per `labels` entry plus one for `commonLabels`).
//! The list is written out only when the top kustomization asks for it.

use std::rc::Rc;

use serde_json::Value;

use super::resource::{Res, relative_path};
use super::target::Target;

/// Annotation listing the transformers a resource went through.
pub const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";
/// Annotation naming where a resource came from.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// The `buildMetadata` options of the top kustomization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub origin_annotations: bool,
    pub transformer_annotations: bool,
}

impl Options {
    /// Read the option list; `label` names the kustomization file.
    pub fn parse(list: &[String], label: &str) -> Result<Options, String> {
        let mut o = Options::default();
        for m in list {
            match m.as_str() {
                "originAnnotations" => o.origin_annotations = true,
                "transformerAnnotations" => o.transformer_annotations = true,
                other => {
                    return Err(format!(
                        "{label}: unsupported field buildMetadata: option {other:?} is not supported (only originAnnotations and transformerAnnotations)"
                    ));
                }
            }
        }
        Ok(o)
    }
}

/// One transformer a resource went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transformation {
    /// The file that configured it, relative to the directory built.
    pub configured_in: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl Transformation {
    /// A transformer configured by a field of `t`'s kustomization file.
    pub fn builtin(t: &Target, kind: &str) -> Self {
        Transformation {
            configured_in: relative_path(&t.build.top, &t.file),
            api_version: "builtin".into(),
            kind: kind.into(),
            name: String::new(),
            namespace: String::new(),
        }
    }

    /// A transformer plugin config (an entry of `transformers:`) read from `from`.
    pub fn plugin(config: &Value, from: &str) -> Self {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let meta = config.get("metadata");
        Transformation {
            configured_in: from.to_string(),
            api_version: s(config.get("apiVersion")),
            kind: s(config.get("kind")),
            name: s(meta.and_then(|m| m.get("name"))),
            namespace: s(meta.and_then(|m| m.get("namespace"))),
        }
    }
}

/// Note that a transformer ran on every resource of the layer, when the
/// build records transformations (`make` is called only then).
pub fn record(t: &Target, ra: &mut [Res], make: impl FnOnce() -> Transformation) {
    if !t.build.meta.transformer_annotations {
        return;
    }
    let tr = Rc::new(make());
    for r in ra.iter_mut() {
        r.transformations.push(Rc::clone(&tr));
    }
}

/// A YAML scalar as kustomize's writer would print it (quoted if needed).
fn scalar(s: &str) -> String {
    crate::yaml::to_yaml_string(&Value::String(s.to_string())).trim_end_matches('\n').to_string()
}

/// The transformations annotation value: a YAML list, oldest first.
pub fn annotation(list: &[Rc<Transformation>]) -> String {
    let mut out = String::new();
    for t in list {
        out.push_str(&format!("- configuredIn: {}\n  configuredBy:\n", scalar(&t.configured_in)));
        for (key, value) in
            [("apiVersion", &t.api_version), ("kind", &t.kind), ("name", &t.name), ("namespace", &t.namespace)]
        {
            if !value.is_empty() {
                out.push_str(&format!("    {key}: {}\n", scalar(value)));
            }
        }
    }
    out
}

/// Write the annotations the options ask for on the final resources.
pub fn annotate(ra: &mut [Res], opts: Options) {
    for r in ra.iter_mut() {
        if let Some(o) = r.korigin.as_ref().filter(|_| opts.origin_annotations) {
            let text = o.annotation();
            r.obj.set_annotation(ORIGIN_ANNOTATION, &text);
        }
        if opts.transformer_annotations && !r.transformations.is_empty() {
            let text = annotation(&r.transformations);
            r.obj.set_annotation(TRANSFORMATIONS_ANNOTATION, &text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_parse_known_and_refuse_others() {
        let o = Options::parse(&["originAnnotations".into(), "transformerAnnotations".into()], "/k.yaml").unwrap();
        assert!(o.origin_annotations && o.transformer_annotations);
        let e = Options::parse(&["managedByLabel".into()], "/k.yaml").unwrap_err();
        assert!(e.contains("/k.yaml") && e.contains("managedByLabel"), "{e}");
    }

    #[test]
    fn plugin_origin_names_the_config() {
        let cfg = json!({"apiVersion": "builtin", "kind": "NamespaceTransformer",
            "metadata": {"name": "nst", "namespace": "test"}});
        let t = Transformation::plugin(&cfg, "kustomization.yaml");
        assert_eq!(
            annotation(&[Rc::new(t)]),
            "- configuredIn: kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: NamespaceTransformer\n    name: nst\n    namespace: test\n"
        );
    }

    #[test]
    fn annotation_lists_in_order_and_quotes() {
        let mk = |file: &str, kind: &str| {
            Rc::new(Transformation {
                configured_in: file.into(),
                api_version: "builtin".into(),
                kind: kind.into(),
                name: "true".into(),
                namespace: String::new(),
            })
        };
        let text = annotation(&[mk("../base/kustomization.yaml", "PrefixTransformer"), mk("k.yaml", "X")]);
        assert_eq!(
            text,
            "- configuredIn: ../base/kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: PrefixTransformer\n    name: \"true\"\n- configuredIn: k.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: X\n    name: \"true\"\n"
        );
    }
}
