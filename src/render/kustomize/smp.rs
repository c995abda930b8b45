//! Strategic merge patch with Kubernetes semantics, as kustomize applies it
//! (kyaml's merge walk): maps merge, scalars and plain lists are replaced,
//! lists with a `merge` patch strategy merge element-wise by their merge
//! key(s) (patch elements first, then the remaining target elements), and
//! the directives `$patch: delete|replace|merge`, `$retainKeys`,
//! `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>` are
//! honoured; `null` deletes. Merge keys and strategies come from
//! [`super::smp_schema`], generated from the Kubernetes OpenAPI document,
//! or from a kustomization's custom schema ([`super::openapi`]); kinds
//! neither knows (CRDs) merge maps and replace lists.

use serde_json::{Map, Value};

use super::openapi::CustomSchema;
use super::smp_schema::{DEFS, NAMES, ROOTS};

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

/// A schema definition: one of the built-in table or of a custom schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Def {
    Builtin(u16),
    Custom(u32),
}

/// The merge keys of a list field.
#[derive(Debug, Clone, Copy)]
pub enum Keys<'a> {
    Builtin(&'static [&'static str]),
    Custom(&'a [String]),
}

impl<'a> Keys<'a> {
    fn is_empty(&self) -> bool {
        match self {
            Keys::Builtin(k) => k.is_empty(),
            Keys::Custom(k) => k.is_empty(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let (b, c): (&'static [&'static str], &'a [String]) = match *self {
            Keys::Builtin(k) => (k, &[]),
            Keys::Custom(k) => (&[], k),
        };
        b.iter().copied().chain(c.iter().map(String::as_str))
    }
}

/// A field of a definition as the merge sees it: the definition of its
/// value (of its elements for a list), whether the list merges, and by
/// which keys.
#[derive(Debug, Clone, Copy)]
pub struct FieldView<'a> {
    pub def: Option<Def>,
    pub merge: bool,
    pub keys: Keys<'a>,
}

/// The schema definition of a built-in group/version/kind.
pub fn root_def(group: &str, version: &str, kind: &str) -> Option<u16> {
    ROOTS.iter().find(|r| r.0 == group && r.1 == version && r.2 == kind).map(|r| r.3)
}

/// The built-in definition of an OpenAPI definition name, when it has
/// anything strategic below it.
pub fn builtin_by_name(name: &str) -> Option<u16> {
    NAMES.binary_search_by(|n| n.0.cmp(name)).ok().map(|i| NAMES[i].1)
}

/// A field of a built-in definition.
pub fn builtin_field(def: u16, name: &str) -> Option<FieldView<'static>> {
    let fields = DEFS.get(def as usize)?;
    let f = &fields[fields.binary_search_by(|f| f.name.cmp(name)).ok()?];
    Some(FieldView {
        def: (f.def != NO_DEF).then_some(Def::Builtin(f.def)),
        merge: f.strategy.split(',').any(|s| s == "merge"),
        keys: Keys::Builtin(f.keys),
    })
}

/// Which schema the merge consults: the built-in one or a custom one.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    custom: Option<&'a CustomSchema>,
}

impl<'a> Ctx<'a> {
    fn field(self, def: Option<Def>, name: &str) -> Option<FieldView<'a>> {
        match def? {
            Def::Builtin(d) => builtin_field(d, name),
            Def::Custom(c) => self.custom?.field_view(c, name),
        }
    }
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
    strategic_merge_with(target, patch, (group, version, kind), None)
}

/// [`strategic_merge`] with the merge keys of a custom schema when one is
/// in effect (kustomize's `openapi` field).
pub fn strategic_merge_with(
    target: &mut Value,
    patch: &Value,
    (group, version, kind): (&str, &str, &str),
    custom: Option<&CustomSchema>,
) -> Result<bool, String> {
    let ctx = Ctx { custom };
    let def = match custom {
        Some(c) => c.root(group, version, kind),
        None => root_def(group, version, kind).map(Def::Builtin),
    };
    let out = merge_value(ctx, Some(std::mem::take(target)), patch, def)?;
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
fn merge_value(ctx: Ctx<'_>, dest: Option<Value>, patch: &Value, def: Option<Def>) -> Result<Option<Value>, String> {
    match patch {
        Value::Null => Ok(None),
        Value::Object(pm) => {
            let dm = match dest {
                Some(Value::Object(dm)) => Some(dm),
                _ => None,
            };
            merge_map(ctx, dm, pm, def).map(|o| o.map(Value::Object))
        }
        Value::Array(_) => Ok(Some(patch.clone())),
        scalar => Ok(Some(scalar.clone())),
    }
}

fn merge_map(
    ctx: Ctx<'_>,
    dest: Option<Map<String, Value>>,
    patch: &Map<String, Value>,
    def: Option<Def>,
) -> Result<Option<Map<String, Value>>, String> {
    match directive(patch)? {
        Some("delete") => return Ok(None),
        Some("replace") => {
            let mut m = clean(ctx, patch, def)?;
            m.remove(PATCH);
            return Ok(Some(m));
        }
        _ => {}
    }
    let Some(mut out) = dest else {
        return Ok(Some(clean(ctx, patch, def)?));
    };
    for (k, pv) in patch {
        if k == PATCH || k == RETAIN || k.starts_with(ORDER_PREFIX) || k.starts_with(DELETE_PRIM_PREFIX) {
            continue;
        }
        let f = ctx.field(def, k);
        if pv.is_null() {
            out.remove(k);
            continue;
        }
        let dv = out.remove(k);
        let merged = match (pv, f) {
            (Value::Array(pl), Some(f)) if f.merge => {
                let dl = match dv {
                    Some(Value::Array(dl)) => Some(dl),
                    _ => None,
                };
                merge_list(ctx, dl, pl, f)?.map(Value::Array)
            }
            (Value::Array(pl), _) => Some(Value::Array(clean_list(ctx, pl, f)?)),
            _ => merge_value(ctx, dv, pv, f.and_then(|f| f.def))?,
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
            let keys = ctx.field(def, name).map(|f| f.keys).unwrap_or(Keys::Builtin(&[]));
            reorder(list, order, keys);
        }
    }
    if let Some(Value::Array(keep)) = patch.get(RETAIN) {
        out.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
    Ok(Some(out))
}

/// A patch node added where the target had nothing: directives resolved.
fn clean(ctx: Ctx<'_>, patch: &Map<String, Value>, def: Option<Def>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (k, v) in patch {
        if k == PATCH || k == RETAIN || k.starts_with(ORDER_PREFIX) || k.starts_with(DELETE_PRIM_PREFIX) {
            continue;
        }
        let f = ctx.field(def, k);
        let cv = match v {
            Value::Object(m) => match directive(m)? {
                Some("delete") => continue,
                _ => Value::Object(clean(ctx, m, f.and_then(|f| f.def))?),
            },
            Value::Array(l) => Value::Array(clean_list(ctx, l, f)?),
            Value::Null => continue,
            other => other.clone(),
        };
        out.insert(k.clone(), cv);
    }
    Ok(out)
}

fn clean_list(ctx: Ctx<'_>, list: &[Value], f: Option<FieldView<'_>>) -> Result<Vec<Value>, String> {
    let def = f.and_then(|f| f.def);
    let merge = f.is_some_and(|f| f.merge);
    let mut out = Vec::new();
    for v in list {
        match v {
            Value::Object(m) if merge && is_list_directive(m) => {}
            Value::Object(m) if merge => match directive(m)? {
                Some("delete") => {}
                _ => out.push(Value::Object(clean(ctx, m, def)?)),
            },
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

fn is_list_directive(m: &Map<String, Value>) -> bool {
    m.contains_key(PATCH) && m.len() == 1
}

fn key_tuple(v: &Value, keys: Keys<'_>) -> Vec<String> {
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

fn merge_list(
    ctx: Ctx<'_>,
    dest: Option<Vec<Value>>,
    patch: &[Value],
    f: FieldView<'_>,
) -> Result<Option<Vec<Value>>, String> {
    // A list-level directive: an element holding only `$patch`.
    if let Some(d) = patch.iter().find_map(|v| v.as_object().filter(|m| is_list_directive(m))) {
        match directive(d)? {
            Some("delete") => return Ok(None),
            Some("replace") => return Ok(Some(clean_list(ctx, patch, Some(f))?)),
            _ => {}
        }
    }
    let Some(mut dest) = dest else { return Ok(Some(clean_list(ctx, patch, Some(f))?)) };
    let elem_def = f.def;
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
        if let Some(v) = merge_map(ctx, dm, pm, elem_def)? {
            out.push(Value::Object(v));
        }
    }
    out.extend(dest);
    Ok(Some(out))
}

fn reorder(list: &mut [Value], order: &[Value], keys: Keys<'_>) {
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
