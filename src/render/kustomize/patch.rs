//! `patches`, `patchesStrategicMerge` and `patchesJson6902`: loading a
//! patch (inline or from a file), telling strategic merge from JSON 6902,
//! choosing targets (by the patch's own id, or by a `target` selector with
//! regexes and label/annotation selectors) and applying it.

use regex::Regex;
use serde_json::Value;

use super::kustomization::{Patch, Selector};
use super::openapi::CustomSchema;
use super::resource::{Res, ResId, split_api_version};
use super::smp::strategic_merge_with;
use super::target::Target;
use crate::yaml::{Dialect, parse_stream};

fn anchored(s: &str) -> Result<Option<Regex>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{s})$")).map(Some).map_err(|e| format!("invalid target selector {s:?}: {e}"))
}

/// A compiled `target` selector (kustomize's `SelectorRegex`).
pub struct Sel {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: String,
    annotations: String,
}

impl Sel {
    pub fn new(s: &Selector) -> Result<Sel, String> {
        Ok(Sel {
            group: anchored(&s.group)?,
            version: anchored(&s.version)?,
            kind: anchored(&s.kind)?,
            name: anchored(&s.name)?,
            namespace: anchored(&s.namespace)?,
            labels: s.label_selector.clone(),
            annotations: s.annotation_selector.clone(),
        })
    }

    pub fn matches(&self, r: &Res) -> Result<bool, String> {
        let (cur, org) = (r.cur_id(), r.org_id());
        let m = |re: &Option<Regex>, a: &str, b: &str| re.as_ref().is_none_or(|re| re.is_match(a) || re.is_match(b));
        if !m(&self.namespace, org.effective_namespace(), cur.effective_namespace())
            || !m(&self.name, &org.name, &cur.name)
        {
            return Ok(false);
        }
        let one = |re: &Option<Regex>, a: &str| re.as_ref().is_none_or(|re| re.is_match(a));
        if !one(&self.group, &cur.group) || !one(&self.version, &cur.version) || !one(&self.kind, &cur.kind) {
            return Ok(false);
        }
        Ok(matches_selector(&self.labels, r.obj.labels())? && matches_selector(&self.annotations, r.obj.annotations())?)
    }
}

/// A Kubernetes label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`).
pub fn matches_selector(sel: &str, map: Option<&serde_json::Map<String, Value>>) -> Result<bool, String> {
    let sel = sel.trim();
    if sel.is_empty() {
        return Ok(true);
    }
    let get = |k: &str| map.and_then(|m| m.get(k)).and_then(Value::as_str);
    // Split on commas outside parentheses.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&sel[start..]);
    for p in parts {
        let p = p.trim();
        let ok = if let Some((k, v)) = p.split_once("!=") {
            get(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = p.split_once("==").or_else(|| p.split_once('=')) {
            get(k.trim()) == Some(v.trim())
        } else if let Some(k) = p.strip_prefix('!') {
            get(k.trim()).is_none()
        } else if let Some((k, rest)) = p.split_once(" notin ") {
            let set = parse_set(rest)?;
            get(k.trim()).is_none_or(|v| !set.contains(&v))
        } else if let Some((k, rest)) = p.split_once(" in ") {
            let set = parse_set(rest)?;
            get(k.trim()).is_some_and(|v| set.contains(&v))
        } else if p.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
            get(p).is_some()
        } else {
            return Err(format!("unable to parse requirement: {p:?}"));
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_set(s: &str) -> Result<Vec<&str>, String> {
    let s = s.trim();
    let inner = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')).ok_or_else(|| format!("invalid set {s:?}"))?;
    Ok(inner.split(',').map(str::trim).collect())
}

/// Load a patch's text (inline or from its file).
fn patch_text(t: &Target, p: &Patch) -> Result<String, String> {
    let inline = p.patch.trim();
    match (inline.is_empty(), p.path.is_empty()) {
        (true, true) => Err(format!("{}: must specify one of patch and path", t.label)),
        (false, false) => Err(format!("{}: patch and path can't be set at the same time", t.label)),
        (false, true) => Ok(p.patch.clone()),
        (true, false) => String::from_utf8(t.read_file(&p.path)?).map_err(|_| format!("{}: not UTF-8", p.path)),
    }
}

enum Parsed {
    Smp(Vec<Value>),
    Json(json_patch::Patch),
}

fn parse_patch(text: &str, label: &str) -> Result<Parsed, String> {
    let docs: Vec<Value> = parse_stream(text, Dialect::Kustomize)
        .map_err(|e| format!("{label}: invalid patch YAML: line {}: {}", e.line, e.message))?
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !v.is_null())
        .collect();
    if docs.len() == 1 && docs[0].is_array() {
        let p: json_patch::Patch =
            serde_json::from_value(docs[0].clone()).map_err(|e| format!("{label}: invalid JSON patch: {e}"))?;
        return Ok(Parsed::Json(p));
    }
    if docs.iter().all(Value::is_object) {
        return Ok(Parsed::Smp(docs));
    }
    Err(format!("{label}: unable to parse SM or JSON patch from {text}"))
}

fn patch_id(p: &Value) -> ResId {
    let av = p.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let (g, v) = split_api_version(av);
    let s = |k: &str| p.get("metadata").and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
    ResId {
        group: g.into(),
        version: v.into(),
        kind: p.get("kind").and_then(Value::as_str).unwrap_or("").into(),
        name: s("name"),
        namespace: s("namespace"),
    }
}

/// The one resource whose current or former id is `id`.
fn get_by_id(ra: &[Res], id: &ResId) -> Result<usize, String> {
    let hits: Vec<usize> = ra.iter().enumerate().filter(|(_, r)| r.any_id(|o| o.equals(id))).map(|(i, _)| i).collect();
    match hits.as_slice() {
        [i] => Ok(*i),
        [] => Err(format!("no matches for Id {id}; failed to find unique target for patch {id}")),
        _ => Err(format!("multiple matches for Id {id}; failed to find unique target for patch {id}")),
    }
}

/// Apply a strategic merge patch to one resource (kustomize's `ApplySmPatch`):
/// name, kind and namespace are kept unless the patch may change them.
fn apply_smp(
    r: &mut Res,
    patch: &Value,
    opts: &super::kustomization::PatchOptions,
    schema: Option<&CustomSchema>,
) -> Result<bool, String> {
    let (name, kind, ns) = (r.obj.name().to_string(), r.obj.kind().to_string(), r.obj.namespace().map(str::to_string));
    if opts.allow_name_change || opts.allow_kind_change {
        r.store_previous_id();
    }
    let (g, v) = (r.obj.group().to_string(), r.obj.version().to_string());
    let mut data = Value::Object(std::mem::take(r.data_mut()));
    let keep = strategic_merge_with(&mut data, patch, (&g, &v, &kind), schema)?;
    let Value::Object(m) = data else { return Ok(false) };
    if !keep || m.is_empty() {
        return Ok(false);
    }
    *r.data_mut() = m;
    if !r.data().get("metadata").is_some_and(Value::is_object) {
        r.data_mut().insert("metadata".into(), Value::Object(Default::default()));
    }
    if !opts.allow_kind_change {
        r.data_mut().insert("kind".into(), Value::String(kind));
    }
    if !opts.allow_name_change {
        r.obj.set_name(&name);
    }
    r.obj.set_namespace(ns.as_deref());
    Ok(true)
}

/// One entry of `patches`.
pub fn apply_patch(t: &Target, p: &Patch, ra: &mut Vec<Res>) -> Result<(), String> {
    let text = patch_text(t, p)?;
    let label = if p.path.is_empty() { t.label.clone() } else { p.path.clone() };
    match parse_patch(&text, &label)? {
        Parsed::Smp(patches) => {
            let schema = t.build.smp_schema();
            if let Some(sel) = &p.target {
                if patches.len() > 1 {
                    return Err(format!(
                        "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {label}"
                    ));
                }
                let sel = Sel::new(sel)?;
                let mut keep = vec![true; ra.len()];
                for (i, r) in ra.iter_mut().enumerate() {
                    if sel.matches(r)? {
                        // The patch takes the target's group/version (kustomize's `SetGvk`).
                        let mut patch = patches[0].clone();
                        if let Value::Object(m) = &mut patch {
                            m.insert("apiVersion".into(), Value::String(r.obj.api_version().to_string()));
                        }
                        keep[i] = apply_smp(r, &patch, &p.options, schema.as_deref())?;
                    }
                }
                let mut it = keep.into_iter();
                ra.retain(|_| it.next().unwrap_or(true));
            } else {
                for patch in &patches {
                    let id = patch_id(patch);
                    let i = get_by_id(ra, &id)
                        .map_err(|e| format!("no resource matches strategic merge patch \"{id}\": {e}"))?;
                    if !apply_smp(&mut ra[i], patch, &p.options, schema.as_deref())? {
                        ra.remove(i);
                    }
                }
            }
            Ok(())
        }
        Parsed::Json(jp) => {
            let Some(sel) = &p.target else {
                return Err(format!("must specify a target for JSON patch {label}"));
            };
            json6902(Sel::new(sel)?, &jp, ra, &label)
        }
    }
}

fn json6902(sel: Sel, jp: &json_patch::Patch, ra: &mut [Res], label: &str) -> Result<(), String> {
    for r in ra.iter_mut() {
        if !sel.matches(r)? {
            continue;
        }
        r.store_previous_id();
        let mut data = Value::Object(std::mem::take(r.data_mut()));
        let mut out = Ok(());
        for op in &jp.0 {
            // Like kustomize (json-patch's EnsurePathExistsOnAdd), `add`
            // creates missing parent mappings.
            if let json_patch::PatchOperation::Add(add) = op {
                ensure_parents(&mut data, add.path.as_str());
            }
            out = json_patch::patch(&mut data, std::slice::from_ref(op));
            if out.is_err() {
                break;
            }
        }
        if let Value::Object(m) = data {
            *r.data_mut() = m;
        }
        out.map_err(|e| format!("{label}: unable to apply JSON patch to {}: {e}", r.cur_id()))?;
    }
    Ok(())
}

/// One entry of `patchesJson6902`.
pub fn apply_json6902(t: &Target, p: &Patch, ra: &mut [Res]) -> Result<(), String> {
    let text = patch_text(t, p)?;
    let label = if p.path.is_empty() { t.label.clone() } else { p.path.clone() };
    let Some(target) = &p.target else { return Err(format!("{label}: must specify a target for patchesJson6902")) };
    let value = crate::yaml::parse_one(&text, Dialect::Kustomize)
        .map_err(|e| format!("{label}: invalid JSON patch: line {}: {}", e.line, e.message))?;
    let jp: json_patch::Patch =
        serde_json::from_value(value).map_err(|e| format!("{label}: invalid JSON patch: {e}"))?;
    json6902(Sel::new(target)?, &jp, ra, &label)
}

/// Every entry of `patchesStrategicMerge` (a file name or inline YAML).
pub fn patches_strategic_merge(t: &Target, entry: &str, ra: &mut Vec<Res>) -> Result<(), String> {
    let inline =
        crate::yaml::parse_stream(entry, Dialect::Kustomize).ok().filter(|d| d.iter().any(|d| d.value.is_object()));
    let (docs, label): (Vec<Value>, String) = match inline {
        Some(d) => (d.into_iter().map(|d| d.value).collect(), t.label.clone()),
        None => {
            let text = String::from_utf8(t.read_file(entry)?).map_err(|_| format!("{entry}: not UTF-8"))?;
            let docs = parse_stream(&text, Dialect::Kustomize)
                .map_err(|e| format!("{entry}: invalid YAML: line {}: {}", e.line, e.message))?;
            (docs.into_iter().map(|d| d.value).collect(), entry.to_string())
        }
    };
    let patches: Vec<Value> = docs.into_iter().filter(|v| !v.is_null()).collect();
    if patches.is_empty() {
        return Err(format!("patch appears to be empty; files=[{entry}]"));
    }
    let schema = t.build.smp_schema();
    for patch in &patches {
        let i = get_by_id(ra, &patch_id(patch)).map_err(|e| format!("{label}: {e}"))?;
        if !apply_smp(&mut ra[i], patch, &Default::default(), schema.as_deref())? {
            ra.remove(i);
        }
    }
    Ok(())
}

fn ensure_parents(doc: &mut Value, pointer: &str) {
    let parts: Vec<String> = pointer.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
    let mut cur = doc;
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        cur = match cur {
            Value::Object(m) => m.entry(part.clone()).or_insert_with(|| Value::Object(Default::default())),
            Value::Array(a) => match part.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return,
            },
            _ => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let labels = json!({"app": "web", "tier": "front"});
        let m = labels.as_object();
        for (sel, want) in [
            ("", true),
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("app in (api, web)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("missing", false),
            ("!missing", true),
        ] {
            assert_eq!(matches_selector(sel, m).unwrap(), want, "{sel}");
        }
        assert!(matches_selector("app in web", m).is_err());
    }

    #[test]
    fn json_patch_add_creates_parents() {
        let mut doc = json!({"metadata": {"name": "x"}});
        ensure_parents(&mut doc, "/metadata/annotations/a~1b");
        assert_eq!(doc, json!({"metadata": {"name": "x", "annotations": {}}}));
    }
}
