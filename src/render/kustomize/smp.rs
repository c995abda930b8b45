//! Strategic merge patch with Kubernetes semantics, as kustomize applies it
//! (kyaml's merge walk): maps merge, scalars and plain lists are replaced,
//! lists with a `merge` patch strategy merge element-wise by their merge
//! key(s) (patch elements first, then the remaining target elements), and
//! the directives `$patch: delete|replace|merge`, `$retainKeys`,
//! `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>` are
//! honoured; `null` deletes. Merge keys and strategies come from
//! [`super::smp_schema`], generated from the Kubernetes OpenAPI document;
//! kinds it does not know (CRDs) merge maps and replace lists.

use serde_json::{Map, Value};

use super::smp_schema::{DEFS, ROOTS};

/// One field of a schema definition that leads to a list with a strategy.
#[derive(Debug)]
pub struct SchemaField {
    pub name: &'static str,
    pub def: u16,
    pub strategy: &'static str,
    pub keys: &'static [&'static str],
}

/// `def` of a field whose type has nothing strategic below it.
pub const NO_DEF: u16 = u16::MAX;

/// The schema definition of a built-in group/version/kind.
pub fn root_def(group: &str, version: &str, kind: &str) -> Option<u16> {
    ROOTS.iter().find(|r| r.0 == group && r.1 == version && r.2 == kind).map(|r| r.3)
}

fn field(def: Option<u16>, name: &str) -> Option<&'static SchemaField> {
    let d = def.filter(|&d| d != NO_DEF)?;
    let fields = DEFS[d as usize];
    fields.binary_search_by(|f| f.name.cmp(name)).ok().map(|i| &fields[i])
}

const PATCH: &str = "$patch";
const RETAIN: &str = "$retainKeys";
const ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_PRIM_PREFIX: &str = "$deleteFromPrimitiveList/";

/// Apply `patch` to `target` for an object of `group/version/kind`.
/// Returns `false` when the patch deletes the whole object.
pub fn strategic_merge(
    target: &mut Value,
    patch: &Value,
    group: &str,
    version: &str,
    kind: &str,
) -> Result<bool, String> {
    let def = root_def(group, version, kind);
    let out = merge_value(Some(std::mem::take(target)), patch, def)?;
    match out {
        Some(v) => {
            *target = v;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn directive(m: &Map<String, Value>) -> Result<Option<&str>, String> {
    match m.get(PATCH) {
        None => Ok(None),
        Some(Value::String(s)) if matches!(s.as_str(), "delete" | "replace" | "merge") => Ok(Some(s)),
        Some(other) => Err(format!("unknown patch strategy '{}'", other.as_str().unwrap_or(&other.to_string()))),
    }
}

/// Merge one node. `None` = the node is removed.
fn merge_value(dest: Option<Value>, patch: &Value, def: Option<u16>) -> Result<Option<Value>, String> {
    match patch {
        Value::Null => Ok(None),
        Value::Object(pm) => {
            let dm = match dest {
                Some(Value::Object(dm)) => Some(dm),
                _ => None,
            };
            merge_map(dm, pm, def).map(|o| o.map(Value::Object))
        }
        Value::Array(_) => Ok(Some(patch.clone())),
        scalar => Ok(Some(scalar.clone())),
    }
}

fn merge_map(
    dest: Option<Map<String, Value>>,
    patch: &Map<String, Value>,
    def: Option<u16>,
) -> Result<Option<Map<String, Value>>, String> {
    match directive(patch)? {
        Some("delete") => return Ok(None),
        Some("replace") => {
            let mut m = clean(patch, def)?;
            m.remove(PATCH);
            return Ok(Some(m));
        }
        _ => {}
    }
    let Some(mut out) = dest else {
        return Ok(Some(clean(patch, def)?));
    };
    for (k, pv) in patch {
        if k == PATCH || k == RETAIN || k.starts_with(ORDER_PREFIX) || k.starts_with(DELETE_PRIM_PREFIX) {
            continue;
        }
        let f = field(def, k);
        if pv.is_null() {
            out.remove(k);
            continue;
        }
        let dv = out.remove(k);
        let merged = match (pv, f) {
            (Value::Array(pl), Some(f)) if f.strategy.split(',').any(|s| s == "merge") => {
                let dl = match dv {
                    Some(Value::Array(dl)) => Some(dl),
                    _ => None,
                };
                merge_list(dl, pl, f)?.map(Value::Array)
            }
            (Value::Array(pl), _) => Some(Value::Array(clean_list(pl, f)?)),
            _ => merge_value(dv, pv, f.map(|f| f.def))?,
        };
        if let Some(v) = merged {
            out.insert(k.clone(), v);
        }
    }
    for (k, pv) in patch {
        if let Some(name) = k.strip_prefix(DELETE_PRIM_PREFIX)
            && let (Some(Value::Array(list)), Value::Array(del)) = (out.get_mut(name), pv)
        {
            list.retain(|x| !del.contains(x));
        }
        if let Some(name) = k.strip_prefix(ORDER_PREFIX)
            && let (Some(Value::Array(list)), Value::Array(order)) = (out.get_mut(name), pv)
        {
            let keys = field(def, name).map(|f| f.keys).unwrap_or(&[]);
            reorder(list, order, keys);
        }
    }
    if let Some(Value::Array(keep)) = patch.get(RETAIN) {
        out.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
    Ok(Some(out))
}

/// A patch node added where the target had nothing: directives resolved.
fn clean(patch: &Map<String, Value>, def: Option<u16>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (k, v) in patch {
        if k == PATCH || k == RETAIN || k.starts_with(ORDER_PREFIX) || k.starts_with(DELETE_PRIM_PREFIX) {
            continue;
        }
        let f = field(def, k);
        let cv = match v {
            Value::Object(m) => match directive(m)? {
                Some("delete") => continue,
                _ => Value::Object(clean(m, f.map(|f| f.def))?),
            },
            Value::Array(l) => Value::Array(clean_list(l, f)?),
            Value::Null => continue,
            other => other.clone(),
        };
        out.insert(k.clone(), cv);
    }
    Ok(out)
}

fn clean_list(list: &[Value], f: Option<&SchemaField>) -> Result<Vec<Value>, String> {
    let def = f.map(|f| f.def);
    let merge = f.is_some_and(|f| f.strategy.split(',').any(|s| s == "merge"));
    let mut out = Vec::new();
    for v in list {
        match v {
            Value::Object(m) if merge && is_list_directive(m) => {}
            Value::Object(m) if merge => match directive(m)? {
                Some("delete") => {}
                _ => out.push(Value::Object(clean(m, def)?)),
            },
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

fn is_list_directive(m: &Map<String, Value>) -> bool {
    m.contains_key(PATCH) && m.len() == 1
}

fn key_tuple(v: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| match v.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
        .collect()
}

fn tuples_match(a: &[String], b: &[String]) -> bool {
    let mut common = false;
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common |= !x.is_empty();
        } else if !x.is_empty() && !y.is_empty() {
            return false;
        }
    }
    common
}

fn merge_list(dest: Option<Vec<Value>>, patch: &[Value], f: &SchemaField) -> Result<Option<Vec<Value>>, String> {
    // A list-level directive: an element holding only `$patch`.
    if let Some(d) = patch.iter().find_map(|v| v.as_object().filter(|m| is_list_directive(m))) {
        match directive(d)? {
            Some("delete") => return Ok(None),
            Some("replace") => return Ok(Some(clean_list(patch, Some(f))?)),
            _ => {}
        }
    }
    let Some(mut dest) = dest else { return Ok(Some(clean_list(patch, Some(f))?)) };
    let elem_def = Some(f.def);
    if f.keys.is_empty() {
        // A list of scalars merged as a set: patch values first.
        let mut out: Vec<Value> = Vec::new();
        for v in patch.iter().chain(dest.iter()) {
            if v.as_object().is_some_and(is_list_directive) {
                continue;
            }
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        return Ok(Some(out));
    }
    let mut out: Vec<Value> = Vec::new();
    for pv in patch {
        let Value::Object(pm) = pv else {
            out.push(pv.clone());
            continue;
        };
        if is_list_directive(pm) {
            continue;
        }
        let pt = key_tuple(pv, f.keys);
        let pos = dest.iter().position(|d| tuples_match(&key_tuple(d, f.keys), &pt));
        let existing = pos.map(|i| dest.remove(i));
        let dm = match existing {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        };
        if let Some(v) = merge_map(dm, pm, elem_def)? {
            out.push(Value::Object(v));
        }
    }
    out.extend(dest);
    Ok(Some(out))
}

fn reorder(list: &mut [Value], order: &[Value], keys: &[&str]) {
    let rank = |v: &Value| -> usize {
        order
            .iter()
            .position(|o| if keys.is_empty() { o == v } else { tuples_match(&key_tuple(o, keys), &key_tuple(v, keys)) })
            .unwrap_or(usize::MAX)
    };
    list.sort_by_key(|v| rank(v));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(target: Value, patch: Value) -> Value {
        let mut t = target;
        assert!(strategic_merge(&mut t, &patch, "apps", "v1", "Deployment").unwrap());
        t
    }

    #[test]
    fn containers_merge_by_name_patch_first() {
        let t = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]}}}});
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b2"}, {"name": "z", "image": "z"}]}}}});
        let out = smp(t, p);
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b", "image": "b2"}, {"name": "z", "image": "z"}, {"name": "a", "image": "a"}])
        );
    }

    #[test]
    fn directives_delete_replace_and_null() {
        let t = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a"}, {"name": "b"}]}}}});
        let p = json!({"metadata": {"labels": {"a": null}}, "spec": {"template": {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}}});
        let out = smp(t.clone(), p);
        assert_eq!(out["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "a", "image": "a"}]));
        let p = json!({"spec": {"template": {"spec": {"containers": [{"name": "c"}, {"$patch": "replace"}]}}}});
        assert_eq!(smp(t.clone(), p)["spec"]["template"]["spec"]["containers"], json!([{"name": "c"}]));
        let p = json!({"metadata": {"$patch": "replace", "name": "x"}});
        assert_eq!(smp(t.clone(), p)["metadata"], json!({"name": "x"}));
        let mut t2 = t;
        assert!(!strategic_merge(&mut t2, &json!({"$patch": "delete"}), "apps", "v1", "Deployment").unwrap());
    }

    #[test]
    fn unknown_kinds_replace_lists_and_k8s_directives_work() {
        let mut t = json!({"spec": {"items": [{"name": "a"}, {"name": "b"}]}});
        strategic_merge(&mut t, &json!({"spec": {"items": [{"name": "c"}]}}), "example.com", "v1", "Thing").unwrap();
        assert_eq!(t["spec"]["items"], json!([{"name": "c"}]));
        let t = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let p = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]},
            "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}], "containers": [{"name": "a", "image": "x"}]}}}});
        let out = smp(t, p);
        assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "b"}, {"name": "a", "image": "x"}]));
        let out = smp(
            json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        );
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    }
}
