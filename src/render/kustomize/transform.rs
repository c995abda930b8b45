//! The simple built-in transformers: namespace, name prefix/suffix, labels,
//! annotations, replicas, images; and the optional legacy output order.

use serde_json::{Map, Value};

use super::configurations::Config;
use super::fieldspec::{Create, Spec, visit};
use super::kustomization::{Image, Kustomization, Replica, SortOptions, StrMap};
use super::resource::{Res, is_cluster_scoped};
use crate::model::Object;

fn set_entries(node: &mut Value, pairs: &StrMap, what: &str) -> Result<(), String> {
    match node {
        Value::Object(m) => {
            for (k, v) in &pairs.0 {
                m.insert(k.clone(), Value::String(v.clone()));
            }
            Ok(())
        }
        Value::Null => {
            let m: Map<String, Value> = pairs.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
            *node = Value::Object(m);
            Ok(())
        }
        other => Err(format!("{what}: expected a mapping, found {other}")),
    }
}

fn apply_map(specs: &[Spec], pairs: &StrMap, ra: &mut [Res], what: &str) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    for r in ra.iter_mut() {
        for s in specs {
            if !s.gvk.matches_obj(r.data()) {
                continue;
            }
            let mut v = Value::Object(std::mem::take(r.data_mut()));
            let out = visit(&mut v, &s.path, s.create, Create::Map, &mut |n| set_entries(n, pairs, what));
            if let Value::Object(m) = v {
                *r.data_mut() = m;
            }
            out.map_err(|e| format!("{what}: {e} (kind {}, name {})", r.obj.kind(), r.obj.name()))?;
        }
    }
    Ok(())
}

/// `commonLabels` and `labels`.
pub fn labels(k: &Kustomization, d: &Config, ra: &mut [Res]) -> Result<(), String> {
    for l in &k.labels {
        let mut specs: Vec<Spec> = l.fields.iter().map(Spec::from_user).collect();
        specs.extend(d.labels.iter().cloned());
        if l.include_selectors {
            specs.extend(d.common_labels.iter().cloned());
        } else {
            if l.include_templates {
                specs.extend(d.template_labels.iter().cloned());
            }
            if !specs.iter().any(|s| s.path_text == "metadata/labels" && s.gvk.kind.is_empty()) {
                specs.push(Spec {
                    gvk: Default::default(),
                    path: vec!["metadata".into(), "labels".into()],
                    path_text: "metadata/labels".into(),
                    create: true,
                });
            }
        }
        apply_map(&dedup(specs), &l.pairs, ra, "labels")?;
    }
    apply_map(&d.common_labels, &k.common_labels, ra, "commonLabels")
}

/// Merge field specs as kustomize's `FsSlice.MergeAll` does: the first
/// spec for a gvk+path wins.
fn dedup(specs: Vec<Spec>) -> Vec<Spec> {
    let mut out: Vec<Spec> = Vec::new();
    for s in specs {
        if !out.iter().any(|o| o.gvk == s.gvk && o.path_text == s.path_text) {
            out.push(s);
        }
    }
    out
}

/// `commonAnnotations`.
pub fn annotations(pairs: &StrMap, specs: &[Spec], ra: &mut [Res]) -> Result<(), String> {
    apply_map(specs, pairs, ra, "commonAnnotations")
}

/// `namespace`.
pub fn namespace(ns: &str, specs: &[Spec], ra: &mut [Res]) -> Result<(), String> {
    for r in ra.iter_mut() {
        if r.data().is_empty() {
            continue;
        }
        r.store_previous_id();
        let group = r.obj.group().to_string();
        let kind = r.obj.kind().to_string();
        if !is_cluster_scoped(&group, &kind) {
            r.obj.set_namespace(Some(ns));
        }
        if (kind == "RoleBinding" || kind == "ClusterRoleBinding")
            && let Some(Value::Array(subjects)) = r.data_mut().get_mut("subjects")
        {
            for s in subjects.iter_mut() {
                if let Value::Object(m) = s
                    && m.get("name").and_then(Value::as_str) == Some("default")
                {
                    m.insert("namespace".into(), Value::String(ns.into()));
                }
            }
        }
        let api_version = r.obj.api_version().to_string();
        for s in specs {
            if !s.gvk.matches_obj(r.data()) || s.path_text == "metadata/namespace" {
                continue;
            }
            if s.path_text == "metadata/name" && api_version != "v1" {
                continue;
            }
            let mut v = Value::Object(std::mem::take(r.data_mut()));
            let out = visit(&mut v, &s.path, s.create, Create::Scalar, &mut |n| {
                *n = Value::String(ns.into());
                Ok(())
            });
            if let Value::Object(m) = v {
                *r.data_mut() = m;
            }
            out.map_err(|e| format!("namespace transformation failed: {e}"))?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in ra.iter() {
        let id = r.cur_id();
        if !seen.insert((
            id.group.clone(),
            id.version.clone(),
            id.kind.clone(),
            id.name.clone(),
            id.effective_namespace().to_string(),
        )) {
            return Err(format!("namespace transformation produces ID conflict: {id}"));
        }
    }
    Ok(())
}

/// A prefix (`prefix == true`) or suffix on the fields `specs` name
/// (`namePrefix`/`nameSuffix` field specs or a plugin's `fieldSpecs`);
/// `metadata/name` also records the rename for name references.
pub fn prefix_suffix_specs(affix: &str, prefix: bool, specs: &[Spec], ra: &mut [Res]) {
    for r in ra.iter_mut() {
        let org = r.org_id();
        let skip = org.kind == "CustomResourceDefinition"
            || org.kind == "Namespace"
            || (org.kind == "APIService" && org.group == "apiregistration.k8s.io");
        if skip {
            continue;
        }
        for s in specs {
            if !s.gvk.matches(&org.group, &org.version, &org.kind) {
                continue;
            }
            if s.path_text == "metadata/name" {
                if affix.is_empty() {
                    continue;
                }
                if prefix {
                    r.prefixes.push(affix.to_string());
                } else {
                    r.suffixes.push(affix.to_string());
                }
                r.store_previous_id();
            }
            let mut v = Value::Object(std::mem::take(r.data_mut()));
            let _ = visit(&mut v, &s.path, false, Create::Nothing, &mut |n| {
                if let Value::String(name) = n {
                    *name = if prefix { format!("{affix}{name}") } else { format!("{name}{affix}") };
                }
                Ok(())
            });
            if let Value::Object(m) = v {
                *r.data_mut() = m;
            }
        }
    }
}

/// Labels or annotations (`what`) on the fields `specs` name (plugin configs).
pub fn map_with_specs(specs: &[Spec], pairs: &StrMap, ra: &mut [Res], what: &str) -> Result<(), String> {
    apply_map(specs, pairs, ra, what)
}

/// `replicas`: set the count on every workload with that (current or former) name.
pub fn replicas(rep: &Replica, specs: &[Spec], ra: &mut [Res]) -> Result<(), String> {
    let mut found = false;
    for s in specs {
        for r in ra.iter_mut() {
            let names_match = r.obj.name() == rep.name || r.prev.iter().any(|p| p.name == rep.name);
            let cur = r.cur_id();
            let gvk_match = s.gvk.matches(&cur.group, &cur.version, &cur.kind)
                || r.prev_ids().iter().any(|p| s.gvk.matches(&p.group, &p.version, &p.kind));
            if !(names_match && gvk_match) {
                continue;
            }
            found = true;
            let mut v = Value::Object(std::mem::take(r.data_mut()));
            let out = visit(&mut v, &s.path, s.create, Create::Scalar, &mut |n| {
                *n = Value::from(rep.count);
                Ok(())
            });
            if let Value::Object(m) = v {
                *r.data_mut() = m;
            }
            out?;
        }
    }
    if !found {
        let gvks: Vec<String> =
            specs.iter().map(|s| format!("{}.{}.{}", s.gvk.kind, s.gvk.version, s.gvk.group)).collect();
        return Err(format!(
            "resource with name {} does not match a config with the following GVK [{}]",
            rep.name,
            gvks.join(" ")
        ));
    }
    Ok(())
}

/// Split an image reference into name, tag and digest (kustomize's `image.Split`).
fn split_image(s: &str) -> (&str, &str, &str) {
    let slash = s.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &s[slash..];
    let id = search.find('@');
    let ic = search.find(':');
    match (ic, id) {
        (None, None) => (s, "", ""),
        (ic, Some(d)) if ic.is_none_or(|c| d < c) => (&s[..slash + d], "", &s[slash + d + 1..]),
        (Some(c), Some(d)) => (&s[..slash + c], &s[slash + c + 1..slash + d], &s[slash + d + 1..]),
        (Some(c), None) => (&s[..slash + c], &s[slash + c + 1..], ""),
        (None, Some(_)) => (s, "", ""),
    }
}

fn new_image(value: &str, img: &Image, re: &regex::Regex) -> Option<String> {
    if !re.is_match(value) {
        return None;
    }
    let (name, tag, digest) = split_image(value);
    let mut name = name.to_string();
    let (mut tag, mut digest) = (tag.to_string(), digest.to_string());
    if !img.new_name.is_empty() {
        name = img.new_name.clone();
    }
    let new_tag = match &img.new_tag {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    };
    if !new_tag.is_empty() && !img.digest.is_empty() {
        tag = new_tag;
        digest = img.digest.clone();
    } else if !new_tag.is_empty() {
        tag = new_tag;
        digest.clear();
    } else if !img.digest.is_empty() {
        tag.clear();
        digest = img.digest.clone();
    } else if !img.tag_suffix.is_empty() {
        tag.push_str(&img.tag_suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    }
    if !digest.is_empty() {
        name = format!("{name}@{digest}");
    }
    Some(name)
}

fn legacy_walk(v: &mut Value, img: &Image, re: &regex::Regex) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                legacy_walk(child, img, re);
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for item in items {
                        if let Some(Value::String(s)) = item.get_mut("image")
                            && let Some(n) = new_image(s, img, re)
                        {
                            *s = n;
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| legacy_walk(i, img, re)),
        _ => {}
    }
}

/// `images`.
pub fn images(img: &Image, specs: &[Spec], ra: &mut [Res]) -> Result<(), String> {
    let re = regex::Regex::new(&format!("^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$", img.name))
        .map_err(|e| format!("invalid image name {:?}: {e}", img.name))?;
    for r in ra.iter_mut() {
        if r.obj.kind() == "CustomResourceDefinition" {
            continue;
        }
        let mut v = Value::Object(std::mem::take(r.data_mut()));
        legacy_walk(&mut v, img, &re);
        let mut out = Ok(());
        for s in specs {
            if !s.gvk.matches_obj(v.as_object().unwrap_or(&Map::new())) {
                continue;
            }
            out = visit(&mut v, &s.path, false, Create::Scalar, &mut |n| {
                if let Value::String(s) = n
                    && let Some(new) = new_image(s, img, &re)
                {
                    *s = new;
                }
                Ok(())
            });
            if out.is_err() {
                break;
            }
        }
        if let Value::Object(m) = v {
            *r.data_mut() = m;
        }
        out?;
    }
    Ok(())
}

/// kustomize's legacy kind order (`--reorder legacy`).
pub const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
pub const ORDER_LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// Apply `sortOptions` (default: keep kustomize's accumulation order).
pub fn sort(opts: Option<&SortOptions>, out: &mut [Object]) -> Result<(), String> {
    let Some(o) = opts else { return Ok(()) };
    match o.order.as_str() {
        "fifo" => {
            if o.legacy_sort_options.is_some() {
                return Err("the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'".into());
            }
            Ok(())
        }
        "legacy" => {
            let (first, last): (Vec<&str>, Vec<&str>) = match &o.legacy_sort_options {
                Some(l) => (
                    l.order_first.iter().map(String::as_str).collect(),
                    l.order_last.iter().map(String::as_str).collect(),
                ),
                None => (ORDER_FIRST.to_vec(), ORDER_LAST.to_vec()),
            };
            let rank = |k: &str| -> i64 {
                if let Some(i) = first.iter().position(|f| *f == k) {
                    return i as i64 - first.len() as i64 - 1;
                }
                if let Some(i) = last.iter().position(|f| *f == k) {
                    return 1 + i as i64;
                }
                0
            };
            out.sort_by(|a, b| rank(a.kind()).cmp(&rank(b.kind())).then_with(|| legacy_id(a).cmp(&legacy_id(b))));
            Ok(())
        }
        _ => Err("the field 'sortOptions.order' must be one of [fifo, legacy]".into()),
    }
}

fn legacy_id(o: &Object) -> String {
    let g = if o.group().is_empty() { "~G" } else { o.group() };
    let v = if o.version().is_empty() { "~V" } else { o.version() };
    let ns = o.namespace().unwrap_or("~X");
    format!("{g}_{v}_{}|{ns}|{}", o.kind(), o.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_like_kustomize() {
        assert_eq!(split_image("nginx"), ("nginx", "", ""));
        assert_eq!(split_image("nginx:1.25"), ("nginx", "1.25", ""));
        assert_eq!(split_image("localhost:5000/app:v1"), ("localhost:5000/app", "v1", ""));
        assert_eq!(split_image("app@sha256:abc"), ("app", "", "sha256:abc"));
        assert_eq!(split_image("r.io/app:v1@sha256:abc"), ("r.io/app", "v1", "sha256:abc"));
    }

    #[test]
    fn images_keep_or_replace_tag_and_digest() {
        let img = |name: &str, tag: Option<&str>, digest: &str| Image {
            name: name.into(),
            new_name: String::new(),
            new_tag: tag.map(|t| Value::String(t.into())),
            digest: digest.into(),
            tag_suffix: String::new(),
        };
        let re = |i: &Image| {
            regex::Regex::new(&format!("^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$", i.name)).unwrap()
        };
        let i = img("nginx", Some("2"), "");
        assert_eq!(new_image("nginx:1@sha256:x", &i, &re(&i)).as_deref(), Some("nginx:2"));
        assert_eq!(new_image("nginx-extra:1", &i, &re(&i)), None);
        let i = img("nginx", None, "sha256:d");
        assert_eq!(new_image("nginx:1", &i, &re(&i)).as_deref(), Some("nginx@sha256:d"));
    }
}
