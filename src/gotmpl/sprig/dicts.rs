//! Sprig's dictionary functions over `map[string]interface {}`. Maps are
//! shared references: `set`, `unset`, `merge` and `mergeOverwrite` change
//! their first argument in place and return it, as in Go.

use std::collections::BTreeMap;

use super::{R, add, err, is_empty, map_arg, string_arg, strval};
use crate::gotmpl::Error;
use crate::gotmpl::value::{Arity, Func, Map, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "dict", Arity::AtLeast(0), |a| {
        let m = Map::new();
        for pair in a.chunks(2) {
            m.insert(strval(&pair[0]), pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
        }
        Ok(Value::Map(m))
    });
    add(v, "get", Arity::Exact(2), |a| {
        let (m, k) = (map_arg(a, 0)?, string_arg(a, 1)?);
        Ok(m.and_then(|m| m.get(k)).unwrap_or_else(|| Value::str("")))
    });
    add(v, "set", Arity::Exact(3), |a| {
        let m = map_arg(a, 0)?.ok_or_else(|| err("assignment to entry in nil map"))?;
        m.insert(string_arg(a, 1)?, a[2].clone());
        Ok(Value::Map(m))
    });
    add(v, "unset", Arity::Exact(2), |a| {
        let k = string_arg(a, 1)?;
        Ok(match map_arg(a, 0)? {
            Some(m) => {
                m.entries.borrow_mut().remove(k);
                Value::Map(m)
            }
            None => Value::Nil,
        })
    });
    add(v, "hasKey", Arity::Exact(2), |a| {
        let (m, k) = (map_arg(a, 0)?, string_arg(a, 1)?);
        Ok(Value::Bool(m.is_some_and(|m| m.entries.borrow().contains_key(k))))
    });
    add(v, "pluck", Arity::AtLeast(1), |a| {
        let k = string_arg(a, 0)?;
        let mut out = Vec::new();
        for i in 1..a.len() {
            if let Some(x) = map_arg(a, i)?.and_then(|m| m.get(k)) {
                out.push(x);
            }
        }
        Ok(Value::list(out))
    });
    add(v, "dig", Arity::AtLeast(0), dig);
    add(v, "keys", Arity::AtLeast(0), |a| {
        let mut out = Vec::new();
        for i in 0..a.len() {
            if let Some(m) = map_arg(a, i)? {
                out.extend(m.entries.borrow().keys().cloned());
            }
        }
        Ok(Value::string_list(out))
    });
    add(v, "values", Arity::Exact(1), |a| {
        Ok(Value::list(map_arg(a, 0)?.map(|m| m.entries.borrow().values().cloned().collect()).unwrap_or_default()))
    });
    add(v, "pick", Arity::AtLeast(1), |a| {
        let m = map_arg(a, 0)?;
        let out = Map::new();
        for i in 1..a.len() {
            let k = string_arg(a, i)?;
            if let Some(x) = m.as_ref().and_then(|m| m.get(k)) {
                out.insert(k, x);
            }
        }
        Ok(Value::Map(out))
    });
    add(v, "omit", Arity::AtLeast(1), |a| {
        let m = map_arg(a, 0)?;
        let drop: Vec<&str> = (1..a.len()).map(|i| string_arg(a, i)).collect::<Result<_, _>>()?;
        let out = Map::new();
        if let Some(m) = m {
            for (k, x) in m.entries.borrow().iter() {
                if !drop.contains(&k.as_str()) {
                    out.insert(k.clone(), x.clone());
                }
            }
        }
        Ok(Value::Map(out))
    });
    add(v, "merge", Arity::AtLeast(1), |a| merge(a, false));
    add(v, "mergeOverwrite", Arity::AtLeast(1), |a| merge(a, true));
    add(v, "deepCopy", Arity::Exact(1), |a| {
        if a[0].is_nil() {
            return Err(err("reflect: call of reflect.Value.Type on zero Value"));
        }
        Ok(deep_copy(&a[0]))
    });
}

/// `dig "a" "b" default dict`: the value at a key path, or the default.
fn dig(a: &[Value]) -> R {
    if a.len() < 3 {
        return Err(err("dig needs at least three arguments"));
    }
    let def = &a[a.len() - 2];
    let mut cur = a[a.len() - 1].clone();
    for k in &a[..a.len() - 2] {
        let Value::String(k) = k else {
            return Err(assertion(k, "string"));
        };
        let m = match &cur {
            Value::Map(m) if m.ty == crate::gotmpl::value::MAP_TYPE => m.clone(),
            x => return Err(assertion(x, "map[string]interface {}")),
        };
        match m.get(k) {
            Some(x) => cur = x,
            None => return Ok(def.clone()),
        }
    }
    Ok(cur)
}

/// Go's failed type assertion panic.
fn assertion(v: &Value, want: &str) -> Error {
    let got = if v.is_nil() { "nil".to_string() } else { v.type_name() };
    err(format!("interface conversion: interface {{}} is {got}, not {want}"))
}

/// `merge`/`mergeOverwrite` with mergo's rules: nested maps merge; a
/// missing or empty destination value takes the source's; with
/// `overwrite` every non-nil source value wins (a nil one too).
fn merge(a: &[Value], overwrite: bool) -> R {
    let dst = map_arg(a, 0)?;
    let dst = dst.unwrap_or_default();
    for i in 1..a.len() {
        if let Some(src) = map_arg(a, i)?
            && !std::rc::Rc::ptr_eq(&src.entries, &dst.entries)
        {
            merge_into(&dst, &src, overwrite);
        }
    }
    Ok(Value::Map(dst))
}

fn merge_into(dst: &Map, src: &Map, overwrite: bool) {
    let src: Vec<(String, Value)> = src.entries.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (k, sv) in src {
        if sv.is_nil() {
            if overwrite {
                dst.insert(k, Value::Nil);
            }
            continue;
        }
        let dv = dst.get(&k);
        if let (Some(Value::Map(d)), Value::Map(s)) = (&dv, &sv) {
            if !std::rc::Rc::ptr_eq(&d.entries, &s.entries) {
                merge_into(d, s, overwrite);
            }
            if !d.is_empty() {
                continue;
            }
        }
        if dv.as_ref().is_none_or(is_empty) || overwrite {
            dst.insert(k, sv);
        }
    }
}

/// A copy sharing nothing mutable with the original.
pub(super) fn deep_copy(v: &Value) -> Value {
    match v {
        Value::Map(m) => {
            let entries: BTreeMap<String, Value> =
                m.entries.borrow().iter().map(|(k, x)| (k.clone(), deep_copy(x))).collect();
            Value::Map(Map { entries: std::rc::Rc::new(std::cell::RefCell::new(entries)), ty: m.ty })
        }
        Value::List(l) => Value::List(crate::gotmpl::value::List {
            items: std::rc::Rc::new(l.items.iter().map(deep_copy).collect()),
            ty: l.ty,
        }),
        x => x.clone(),
    }
}
