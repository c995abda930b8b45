//! `replacements`: copy a field of one resource into fields of others
//! (kustomize's replacement filter: source selection by id, field paths
//! with `[key=value]` matchers, indices and `*`, delimiter/index options,
//! optional creation).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::patch::matches_selector;
use super::resource::{Res, ResId};
use super::target::Target;
use crate::yaml::{Dialect, parse_stream};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    delimiter: String,
    #[serde(default)]
    index: i64,
    #[serde(default)]
    create: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IdSel {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    label_selector: String,
    #[serde(default)]
    annotation_selector: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Source {
    #[serde(flatten)]
    id: SourceId,
    #[serde(default)]
    field_path: String,
    options: Option<Options>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceId {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TargetSel {
    select: Option<IdSel>,
    #[serde(default)]
    reject: Vec<IdSel>,
    #[serde(default)]
    field_paths: Vec<String>,
    options: Option<Options>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Replacement {
    #[serde(default)]
    path: String,
    source: Option<Source>,
    #[serde(default)]
    targets: Vec<TargetSel>,
}

fn ids(r: &Res) -> Vec<ResId> {
    let mut v = vec![r.cur_id()];
    v.extend(r.prev_ids());
    v
}

fn selected_by(id: &ResId, s: (&str, &str, &str, &str, &str)) -> bool {
    let (g, v, k, n, ns) = s;
    (n.is_empty() || n == id.name)
        && (ns.is_empty() || {
            let sel =
                ResId { group: g.into(), version: v.into(), kind: k.into(), name: n.into(), namespace: ns.into() };
            sel.effective_namespace() == id.effective_namespace()
        })
        && (g.is_empty() || g == id.group)
        && (v.is_empty() || v == id.version)
        && (k.is_empty() || k == id.kind)
}

impl IdSel {
    fn tuple(&self) -> (&str, &str, &str, &str, &str) {
        (&self.group, &self.version, &self.kind, &self.name, &self.namespace)
    }
    fn id_empty(&self) -> bool {
        self.group.is_empty()
            && self.version.is_empty()
            && self.kind.is_empty()
            && self.name.is_empty()
            && self.namespace.is_empty()
    }
    fn meta_match(&self, r: &Res) -> Result<bool, String> {
        Ok(matches_selector(&self.label_selector, r.obj.labels())?
            && matches_selector(&self.annotation_selector, r.obj.annotations())?)
    }
}

/// Split a dotted field path, keeping `[...]` whole.
fn split(p: &str) -> Vec<String> {
    super::fieldspec::split_path_on(p, '.')
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn lookup<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    let Some(first) = path.first() else { return Some(v) };
    match v {
        Value::Object(m) => lookup(m.get(first.as_str())?, &path[1..]),
        Value::Array(items) => {
            if let Some(inner) = first.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                let (k, want) = inner.split_once('=')?;
                let item = items.iter().find(|i| i.get(k).map(scalar_text).as_deref() == Some(want))?;
                lookup(item, &path[1..])
            } else {
                let idx: usize = first.parse().ok()?;
                lookup(items.get(idx)?, &path[1..])
            }
        }
        _ => None,
    }
}

/// Every node at `path` (creating it when `create`), mutably visited.
fn visit_path(
    v: &mut Value,
    path: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<usize, String> {
    let Some(first) = path.first() else {
        f(v)?;
        return Ok(1);
    };
    let rest = &path[1..];
    if v.is_null() && create {
        *v = if first.starts_with('[') || first.parse::<usize>().is_ok() {
            Value::Array(vec![])
        } else {
            Value::Object(Map::new())
        };
    }
    match v {
        Value::Object(m) => {
            if first == "*" {
                let mut n = 0;
                for child in m.values_mut() {
                    n += visit_path(child, rest, create, f)?;
                }
                return Ok(n);
            }
            if !m.contains_key(first.as_str()) {
                if !create {
                    return Ok(0);
                }
                m.insert(first.clone(), Value::Null);
            }
            let child = m.get_mut(first.as_str()).expect("inserted above");
            visit_path(child, rest, create, f)
        }
        Value::Array(items) => {
            if first == "*" {
                let mut n = 0;
                for item in items.iter_mut() {
                    n += visit_path(item, rest, create, f)?;
                }
                return Ok(n);
            }
            if let Some(inner) = first.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                let Some((k, want)) = inner.split_once('=') else { return Ok(0) };
                let mut n = 0;
                for item in items.iter_mut() {
                    if item.get(k).map(scalar_text).as_deref() == Some(want) {
                        n += visit_path(item, rest, create, f)?;
                    }
                }
                if n == 0 && create {
                    let mut m = Map::new();
                    m.insert(k.into(), Value::String(want.into()));
                    items.push(Value::Object(m));
                    let last = items.last_mut().expect("pushed");
                    n += visit_path(last, rest, create, f)?;
                }
                return Ok(n);
            }
            match first.parse::<usize>() {
                Ok(i) if i < items.len() => visit_path(&mut items[i], rest, create, f),
                _ => Ok(0),
            }
        }
        _ => Ok(0),
    }
}

/// Value `text` typed like the scalar it replaces (kyaml keeps the target's tag).
fn typed_like(target: &Value, text: String) -> Value {
    match target {
        Value::String(_) => Value::String(text),
        _ => match serde_json::from_str::<Value>(&text) {
            Ok(v @ (Value::Number(_) | Value::Bool(_))) => v,
            _ => Value::String(text),
        },
    }
}

fn set_value(opts: Option<&Options>, target: &mut Value, value: &Value) -> Result<(), String> {
    let mut value = value.clone();
    if let Some(o) = opts.filter(|o| !o.delimiter.is_empty()) {
        if target.is_object() || target.is_array() {
            return Err("delimiter option can only be used with scalar nodes".into());
        }
        let cur = scalar_text(target);
        let mut parts: Vec<String> = cur.split(o.delimiter.as_str()).map(str::to_string).collect();
        let v = scalar_text(&value);
        if o.index < 0 {
            parts.insert(0, v);
        } else if o.index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[o.index as usize] = v;
        }
        value = Value::String(parts.join(&o.delimiter));
    }
    let is_scalar = |v: &Value| !(v.is_object() || v.is_array());
    if is_scalar(target) && !target.is_null() && is_scalar(&value) {
        *target = typed_like(target, scalar_text(&value));
    } else {
        *target = value;
    }
    Ok(())
}

fn load(t: &Target, raw: &[Value]) -> Result<Vec<Replacement>, String> {
    let mut out = Vec::new();
    for v in raw {
        let r: Replacement =
            serde_json::from_value(v.clone()).map_err(|e| format!("{}: invalid replacement: {e}", t.label))?;
        if !r.path.is_empty() {
            let text = String::from_utf8(t.read_file(&r.path)?).map_err(|_| format!("{}: not UTF-8", r.path))?;
            for d in parse_stream(&text, Dialect::Kustomize)
                .map_err(|e| format!("{}: line {}: {}", r.path, e.line, e.message))?
            {
                let items = match d.value {
                    Value::Array(a) => a,
                    Value::Null => vec![],
                    other => vec![other],
                };
                for item in items {
                    out.push(
                        serde_json::from_value(item).map_err(|e| format!("{}: invalid replacement: {e}", r.path))?,
                    );
                }
            }
        } else {
            out.push(r);
        }
    }
    Ok(out)
}

/// Run the `replacements` of a kustomization.
pub fn run(t: &Target, raw: &[Value], ra: &mut [Res]) -> Result<(), String> {
    for r in load(t, raw)? {
        let Some(src) = &r.source else { return Err(format!("{}: replacement has no source", t.label)) };
        let s = &src.id;
        let sel = (s.group.as_str(), s.version.as_str(), s.kind.as_str(), s.name.as_str(), s.namespace.as_str());
        let hits: Vec<usize> = (0..ra.len()).filter(|&i| ids(&ra[i]).iter().any(|id| selected_by(id, sel))).collect();
        let shown = format!("{}.{}.{}/{}.{}", s.kind, s.version, s.group, s.name, s.namespace);
        let i = match hits.as_slice() {
            [i] => *i,
            [] => return Err(format!("nothing selected by {shown}")),
            _ => return Err(format!("multiple matches for selector {shown}")),
        };
        let fp = if src.field_path.is_empty() { "metadata.name" } else { src.field_path.as_str() };
        let mut value = match lookup(&Value::Object(ra[i].data().clone()), &split(fp)) {
            Some(v) if !v.is_null() && v != &Value::String(String::new()) => v.clone(),
            _ => return Err(format!("fieldPath `{fp}` is missing for replacement source {}", ra[i].cur_id())),
        };
        if let Some(o) = src.options.as_ref().filter(|o| !o.delimiter.is_empty()) {
            let text = scalar_text(&value);
            let parts: Vec<&str> = text.split(o.delimiter.as_str()).collect();
            if o.index < 0 || o.index as usize >= parts.len() {
                return Err(format!("options.index {} is out of bounds for value {text}", o.index));
            }
            value = Value::String(parts[o.index as usize].to_string());
        }
        for tsel in &r.targets {
            let Some(select) = &tsel.select else { return Err("target must specify resources to select".into()) };
            let paths =
                if tsel.field_paths.is_empty() { vec!["metadata.name".to_string()] } else { tsel.field_paths.clone() };
            for res in ra.iter_mut() {
                if !select.meta_match(res)? {
                    continue;
                }
                let mut rejected = false;
                for rej in &tsel.reject {
                    if (!rej.label_selector.is_empty() || !rej.annotation_selector.is_empty()) && rej.meta_match(res)? {
                        rejected = true;
                    }
                }
                let rids = ids(res);
                if rejected || !rids.iter().any(|id| selected_by(id, select.tuple())) {
                    continue;
                }
                if tsel.reject.iter().any(|rej| !rej.id_empty() && rids.iter().any(|id| selected_by(id, rej.tuple()))) {
                    continue;
                }
                let create = tsel.options.as_ref().is_some_and(|o| o.create);
                for p in &paths {
                    let mut data = Value::Object(std::mem::take(res.data_mut()));
                    let n = visit_path(&mut data, &split(p), create, &mut |node| {
                        set_value(tsel.options.as_ref(), node, &value)
                    });
                    if let Value::Object(m) = data {
                        *res.data_mut() = m;
                    }
                    if n? == 0 {
                        return Err(if create {
                            format!("unable to find or create field {p:?} in replacement target")
                        } else {
                            format!("unable to find field {p:?} in replacement target")
                        });
                    }
                }
            }
        }
    }
    Ok(())
}
