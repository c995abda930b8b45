//! `vars` (deprecated in kustomize, still common): `$(NAME)` in the fields
//! the `varReference` field specs name is replaced by a field of the
//! object a var's `objref` names.
//!
//! As in kustomize: each kustomization's vars are tied, after its
//! transformers ran, to the one resource whose current or any former id
//! matches the `objref` (group, version, kind and name; the namespace too
//! when given or when the kind is cluster-scoped); more than one match is
//! an error.
//! Vars propagate up from bases and components, a name defined twice is an
//! error, and values are read and substituted once at the top, after name
//! references are fixed (so values carry every prefix, suffix and hash).
//! A whole-field `$(NAME)` takes the value's type; inside a longer string
//! the value is formatted; `$$` is an escaped `$`; an unknown `$(X)` stays.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use super::configurations::{get_ci, str_field};
use super::fieldspec::{Create, Spec, visit};
use super::resource::{Res, ResId, is_cluster_scoped};

/// A var as written, with the kustomization file that defines it.
#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub api_version: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub obj_name: String,
    pub namespace: String,
    pub field_path: String,
    /// The kustomization file (root-relative label) defining the var.
    pub defined_in: String,
}

impl Var {
    /// The objref's group and version, `apiVersion` winning when set
    /// (kustomize's `Target.GVK`).
    fn gv(&self) -> (String, String) {
        if self.api_version.is_empty() {
            return (self.group.clone(), self.version.clone());
        }
        let parts: Vec<&str> = self.api_version.split('/').collect();
        match parts.as_slice() {
            [g, v] => (g.to_string(), v.to_string()),
            [v] => (self.group.clone(), v.to_string()),
            _ => (self.group.clone(), self.version.clone()),
        }
    }

    fn target_id(&self) -> ResId {
        let (group, version) = self.gv();
        ResId {
            group,
            version,
            kind: self.kind.clone(),
            name: self.obj_name.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

/// Printed as kustomize prints a var in messages:
/// `{NAME Kind.version.group {fieldPath}}`.
impl std::fmt::Display for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (g, v) = self.gv();
        let or = |s: &str, none: &str| if s.is_empty() { none.to_string() } else { s.to_string() };
        write!(
            f,
            "{{{} {}.{}.{} {{{}}}}}",
            self.name,
            or(&self.kind, "[noKind]"),
            or(&v, "[noVer]"),
            or(&g, "[noGrp]"),
            self.field_path
        )
    }
}

/// Read the `vars` of a kustomization (`label` names its file). Keys match
/// without regard to case, as kustomize's JSON decoding does; unknown keys
/// are errors.
pub fn parse(raw: &[Value], label: &str) -> Result<Vec<Var>, String> {
    let mut out = Vec::new();
    for (i, v) in raw.iter().enumerate() {
        let what = format!("vars[{i}]");
        let err = |e: String| format!("{label}: invalid var: {e}");
        let Value::Object(m) = v else { return Err(err(format!("{what}: expected a mapping, found {v}"))) };
        check_keys(m, &["name", "objref", "fieldref"], &what).map_err(err)?;
        let name = str_field(m, "name", &what).map_err(err)?;
        let empty = Map::new();
        let obj = match get_ci(m, "objref") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(o)) => o,
            Some(other) => return Err(err(format!("{what}.objref: expected a mapping, found {other}"))),
        };
        let ow = format!("{what}.objref");
        check_keys(obj, &["apiVersion", "group", "version", "kind", "name", "namespace"], &ow).map_err(err)?;
        let field_path = match get_ci(m, "fieldref") {
            None | Some(Value::Null) => String::new(),
            Some(Value::Object(f)) => {
                let fw = format!("{what}.fieldref");
                check_keys(f, &["fieldPath"], &fw).map_err(err)?;
                str_field(f, "fieldPath", &fw).map_err(err)?
            }
            Some(other) => return Err(err(format!("{what}.fieldref: expected a mapping, found {other}"))),
        };
        out.push(Var {
            name,
            api_version: str_field(obj, "apiVersion", &ow).map_err(err)?,
            group: str_field(obj, "group", &ow).map_err(err)?,
            version: str_field(obj, "version", &ow).map_err(err)?,
            kind: str_field(obj, "kind", &ow).map_err(err)?,
            obj_name: str_field(obj, "name", &ow).map_err(err)?,
            namespace: str_field(obj, "namespace", &ow).map_err(err)?,
            field_path,
            defined_in: label.to_string(),
        });
    }
    Ok(out)
}

fn check_keys(m: &Map<String, Value>, known: &[&str], what: &str) -> Result<(), String> {
    match m.keys().find(|k| !known.iter().any(|n| n.eq_ignore_ascii_case(k))) {
        Some(k) => Err(format!("{what}: unknown field {k:?}")),
        None => Ok(()),
    }
}

/// Vars by name (kustomize's `VarSet`); names are unique.
#[derive(Debug, Clone, Default)]
pub struct VarSet(BTreeMap<String, Var>);

impl VarSet {
    /// Take in the vars a nested kustomization accumulated (kustomize's
    /// `VarSet.MergeSet`): a name seen before is an error.
    pub fn merge_set(&mut self, other: VarSet) -> Result<(), String> {
        for (name, v) in other.0 {
            if self.0.contains_key(&name) {
                return Err(format!("var '{name}' already encountered (defined in {})", v.defined_in));
            }
            self.0.insert(name, v);
        }
        Ok(())
    }
}

/// Tie `incoming` vars to the resources of `ra` their objref names and
/// add them to `set` (kustomize's `ResAccumulator.MergeVars`).
pub fn merge(ra: &mut [Res], set: &mut VarSet, incoming: &[Var]) -> Result<(), String> {
    for v in incoming {
        let target = v.target_id();
        let with_ns = !target.namespace.is_empty() || is_cluster_scoped(&target.group, &target.kind);
        let matched: Vec<usize> = ra
            .iter()
            .enumerate()
            .filter(|(_, r)| r.any_id(|id| id.gvkn_equals(&target) && (!with_ns || id.ns_equals(&target))))
            .map(|(i, _)| i)
            .collect();
        if matched.len() > 1 {
            return Err(format!(
                "found {} resId matches for var {v} (unable to disambiguate) (var defined in {})",
                matched.len(),
                v.defined_in
            ));
        }
        if let [i] = matched[..]
            && !ra[i].ref_vars.contains(&v.name)
        {
            ra[i].ref_vars.push(v.name.clone());
        }
    }
    for v in incoming {
        if set.0.contains_key(&v.name) {
            return Err(format!("var '{}' already encountered (defined again in {})", v.name, v.defined_in));
        }
        let mut v = v.clone();
        if v.field_path.is_empty() {
            v.field_path = "metadata.name".into();
        }
        set.0.insert(v.name.clone(), v);
    }
    Ok(())
}

/// The node at a var's field path: `.`-separated, `name[N]` or a number
/// for a list index, `[key=value]` for a list element.
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('.') {
        match p.strip_suffix(']').and_then(|s| s.rsplit_once('[')) {
            Some((head, idx)) if !idx.is_empty() && idx.bytes().all(|b| b.is_ascii_digit()) => {
                if !head.is_empty() {
                    parts.push(head);
                }
                parts.push(idx);
            }
            _ => parts.push(p),
        }
    }
    let mut cur = v;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get(p)?,
            Value::Array(items) => {
                if let Some(inner) = p.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                    let (k, want) = inner.split_once('=')?;
                    items.iter().find(|i| match i.get(k) {
                        Some(Value::String(s)) => s == want,
                        Some(Value::Number(n)) => n.to_string() == want,
                        Some(Value::Bool(b)) => b.to_string() == want,
                        _ => false,
                    })?
                } else {
                    items.get(p.parse::<usize>().ok()?)?
                }
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// Read every var's value and substitute `$(NAME)` in the var-reference
/// fields of every resource (kustomize's `ResolveVars`).
pub fn resolve(ra: &mut [Res], set: &VarSet, var_refs: &[Spec]) -> Result<(), String> {
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for v in set.0.values() {
        let Some(r) = ra.iter().find(|r| r.ref_vars.contains(&v.name)) else {
            return Err(format!(
                "var '{v}' cannot be mapped to a field in the set of known resources (var defined in {})",
                v.defined_in
            ));
        };
        let whole = Value::Object(r.data().clone());
        let value = lookup(&whole, &v.field_path).filter(|x| !x.is_null()).ok_or_else(|| {
            format!(
                "field specified in var '{v}' not found in corresponding resource {} (var defined in {})",
                r.cur_id(),
                v.defined_in
            )
        })?;
        values.insert(v.name.clone(), value.clone());
    }
    if values.is_empty() {
        return Ok(());
    }
    for r in ra.iter_mut() {
        for s in var_refs {
            if !s.gvk.matches_obj(r.data()) {
                continue;
            }
            let id = r.cur_id();
            let mut data = Value::Object(std::mem::take(r.data_mut()));
            let out = visit(&mut data, &s.path, false, Create::Nothing, &mut |n| substitute_node(n, &values));
            if let Value::Object(m) = data {
                *r.data_mut() = m;
            }
            out.map_err(|e| format!("considering field '{}' of object {id}: {e}", s.path_text))?;
        }
        // kustomize rewrites annotations as strings when it strips its
        // build annotations, so a whole-field number or boolean ends up
        // quoted there (floats in plain decimal form).
        if let Some(Value::Object(annotations)) = r.obj.metadata_mut().get_mut("annotations") {
            for v in annotations.values_mut() {
                let text = match v {
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) if n.is_f64() => n.as_f64().unwrap_or_default().to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => continue,
                };
                *v = Value::String(text);
            }
        }
    }
    Ok(())
}

/// kustomize's refvar filter on one field: a string, the string values of
/// a map, or a list of strings.
fn substitute_node(node: &mut Value, values: &BTreeMap<String, Value>) -> Result<(), String> {
    match node {
        Value::String(s) => *node = expand(s, values),
        Value::Object(m) => {
            for v in m.values_mut() {
                if let Value::String(s) = v {
                    *v = expand(s, values);
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                let Value::String(s) = item else { return Err("invalid value type expect a string".into()) };
                *item = expand(s, values);
            }
        }
        _ => {}
    }
    Ok(())
}

/// A value as Go's `%v` prints it inside a string; `None` for maps and
/// lists (left as `$(NAME)`).
fn primitive_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        _ => None,
    }
}

/// A number as Go's `%v` prints it: integers in full; floats in the
/// shortest form, with an exponent (`1e+06`, `1.5e-05`) below 1e-4 or
/// from 1e6 on.
fn number_text(n: &Number) -> String {
    if !n.is_f64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f == 0.0 || (-4..6).contains(&exp) {
        return f.to_string();
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// Expand `$(NAME)` references in `input` (kustomize's `DoReplacements`).
pub fn expand(input: &str, values: &BTreeMap<String, Value>) -> Value {
    let b = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            out.extend_from_slice(&b[checkpoint..cursor]);
            let rest = &b[cursor + 1..];
            let advance = match rest[0] {
                b'$' => {
                    out.push(b'$');
                    1
                }
                b'(' => match rest.iter().position(|&c| c == b')') {
                    Some(close) => {
                        let name = String::from_utf8_lossy(&rest[1..close]).into_owned();
                        let found = values.get(&name).and_then(|v| primitive_text(v).map(|t| (v, t)));
                        if input.len() == close + 2 && cursor == 0 {
                            // The whole field is one reference: keep the value's type.
                            return match found {
                                Some((v, _)) => v.clone(),
                                None => Value::String(input.to_string()),
                            };
                        }
                        match found {
                            Some((_, text)) => out.extend_from_slice(text.as_bytes()),
                            None => out.extend_from_slice(format!("$({name})").as_bytes()),
                        }
                        close + 1
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        1
                    }
                },
                c => {
                    out.push(b'$');
                    out.push(c);
                    1
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(&b[checkpoint.min(b.len())..]);
    Value::String(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Object, Origin};
    use serde_json::json;

    fn vals() -> BTreeMap<String, Value> {
        [("S", json!("svc")), ("P", json!(8080)), ("B", json!(true)), ("M", json!({"a": 1}))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    #[test]
    fn expansion_follows_kustomize() {
        let v = vals();
        assert_eq!(expand("$(S)", &v), json!("svc"));
        assert_eq!(expand("$(P)", &v), json!(8080));
        assert_eq!(expand("$(B)", &v), json!(true));
        assert_eq!(expand("http://$(S):$(P)/", &v), json!("http://svc:8080/"));
        assert_eq!(expand("$(M)", &v), json!("$(M)"));
        assert_eq!(expand("x$(M)", &v), json!("x$(M)"));
        assert_eq!(expand("$(UNDEFINED) and $(S)", &v), json!("$(UNDEFINED) and svc"));
        assert_eq!(expand("$$(S) costs $5 $", &v), json!("$(S) costs $5 $"));
        assert_eq!(expand("open $(S", &v), json!("open $(S"));
        assert_eq!(expand("é$é$(S)", &v), json!("é$ésvc"));
    }

    #[test]
    fn numbers_print_as_go_does() {
        let t = |v: Value| number_text(v.as_number().unwrap());
        assert_eq!(t(json!(8080)), "8080");
        assert_eq!(t(json!(0.25)), "0.25");
        assert_eq!(t(json!(123456.0)), "123456");
        assert_eq!(t(json!(1234567.0)), "1.234567e+06");
        assert_eq!(t(json!(0.000015)), "1.5e-05");
        assert_eq!(t(json!(0.0)), "0");
        assert_eq!(t(json!(-2.5e300)), "-2.5e+300");
    }

    #[test]
    fn lists_in_var_fields_must_hold_strings() {
        let v = vals();
        let mut args = json!(["$(P)", "x$(S)"]);
        substitute_node(&mut args, &v).unwrap();
        assert_eq!(args, json!([8080, "xsvc"]));
        let mut args = json!([1, "$(S)"]);
        assert_eq!(substitute_node(&mut args, &v).unwrap_err(), "invalid value type expect a string");
        let mut labels = json!({"a": "$(S)", "n": 3});
        substitute_node(&mut labels, &v).unwrap();
        assert_eq!(labels, json!({"a": "svc", "n": 3}));
    }

    fn res(kind: &str, name: &str) -> Res {
        let api = if kind == "Deployment" { "apps/v1" } else { "v1" };
        let obj = Object::new(json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}}), Origin::default())
            .unwrap();
        Res::new(obj)
    }

    fn var(yaml_like: Value) -> Var {
        parse(&[yaml_like], "/app/kustomization.yaml").unwrap().remove(0)
    }

    #[test]
    fn errors_name_the_var_and_its_kustomization() {
        let mut ra = vec![res("Service", "web"), res("Service", "db")];
        let mut set = VarSet::default();
        let v = var(json!({"name": "WEB", "objref": {"kind": "Service", "name": "web", "apiVersion": "v1"}}));
        merge(&mut ra, &mut set, std::slice::from_ref(&v)).unwrap();
        let err = merge(&mut ra, &mut set, &[v]).unwrap_err();
        assert_eq!(err, "var 'WEB' already encountered (defined again in /app/kustomization.yaml)");
        let missing = var(json!({"name": "GONE", "objref": {"kind": "Service", "name": "gone", "version": "v1"}}));
        merge(&mut ra, &mut set, &[missing]).unwrap();
        let err = resolve(&mut ra, &set, &[]).unwrap_err();
        assert!(err.starts_with("var '{GONE Service.v1.[noGrp] {metadata.name}}' cannot be mapped"), "{err}");
        assert!(err.ends_with("(var defined in /app/kustomization.yaml)"), "{err}");
    }

    #[test]
    fn two_matches_are_ambiguous_and_bad_vars_are_refused() {
        let mut ra = vec![res("Service", "web"), res("Service", "web")];
        ra[1].obj.set_namespace(Some("other"));
        let v = var(json!({"name": "WEB", "objRef": {"kind": "Service", "name": "web", "apiVersion": "v1"}}));
        let err = merge(&mut ra, &mut VarSet::default(), std::slice::from_ref(&v)).unwrap_err();
        assert!(err.contains("found 2 resId matches for var {WEB Service.v1.[noGrp] {}} (unable to disambiguate)"));
        let v = var(
            json!({"name": "WEB", "objref": {"kind": "Service", "name": "web", "apiVersion": "v1", "namespace": "other"}}),
        );
        let mut set = VarSet::default();
        merge(&mut ra, &mut set, &[v]).unwrap();
        assert_eq!(ra[1].ref_vars, vec!["WEB".to_string()]);
        let err = parse(&[json!({"name": "X", "objref": {"kind": "S", "nam": "x"}})], "/k.yaml").unwrap_err();
        assert_eq!(err, "/k.yaml: invalid var: vars[0].objref: unknown field \"nam\"");
    }

    #[test]
    fn objref_matches_current_or_former_names() {
        let mut ra = vec![res("Service", "web")];
        ra[0].store_previous_id();
        ra[0].obj.set_name("p-web");
        let mut set = VarSet::default();
        let by_old = var(json!({"name": "OLD", "objref": {"kind": "Service", "name": "web", "apiVersion": "v1"}}));
        let by_new = var(json!({"name": "NEW", "objref": {"kind": "Service", "name": "p-web", "apiVersion": "v1"}}));
        let wrong_version = var(json!({"name": "V", "objref": {"kind": "Service", "name": "web", "apiVersion": "v2"}}));
        merge(&mut ra, &mut set, &[by_old, by_new, wrong_version]).unwrap();
        assert_eq!(ra[0].ref_vars, vec!["OLD".to_string(), "NEW".to_string()]);
    }

    #[test]
    fn field_paths_read_like_kustomize() {
        let v = json!({"spec": {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}});
        assert_eq!(lookup(&v, "spec.ports[1].port"), Some(&json!(2)));
        assert_eq!(lookup(&v, "spec.ports.0.port"), Some(&json!(1)));
        assert_eq!(lookup(&v, "spec.ports.[name=b].port"), Some(&json!(2)));
        assert_eq!(lookup(&v, "spec.missing"), None);
    }
}
