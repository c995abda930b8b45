//! Defaults and flow (`default`, `empty`, `coalesce`, `all`, `any`,
//! `ternary`, `fail`) and type inspection (`typeOf`, `kindOf`, `typeIs`,
//! `typeIsLike`, `kindIs`, `deepEqual`).

use super::{add, bool_arg, deep_equal, err, is_empty, reading_bytes, string_arg};
use crate::gotmpl::value::{Arity, Func, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "default", Arity::AtLeast(1), |a| {
        Ok(match a.get(1) {
            Some(given) if !is_empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    });
    add(v, "empty", Arity::Exact(1), |a| Ok(Value::Bool(is_empty(&a[0]))));
    add(v, "coalesce", Arity::AtLeast(0), |a| Ok(a.iter().find(|x| !is_empty(x)).cloned().unwrap_or(Value::Nil)));
    add(v, "all", Arity::AtLeast(0), |a| Ok(Value::Bool(a.iter().all(|x| !is_empty(x)))));
    add(v, "any", Arity::AtLeast(0), |a| Ok(Value::Bool(a.iter().any(|x| !is_empty(x)))));
    add(v, "ternary", Arity::Exact(3), |a| Ok(if bool_arg(a, 2)? { a[0].clone() } else { a[1].clone() }));
    add(v, "fail", Arity::Exact(1), |a| Err(err(string_arg(a, 0)?)));
    add(v, "typeOf", Arity::Exact(1), |a| Ok(Value::from(a[0].type_name())));
    add(v, "kindOf", Arity::Exact(1), |a| Ok(Value::str(a[0].kind_name())));
    add(v, "typeIs", Arity::Exact(2), |a| Ok(Value::Bool(string_arg(a, 0)? == a[1].type_name())));
    add(v, "typeIsLike", Arity::Exact(2), |a| {
        let (want, t) = (string_arg(a, 0)?, a[1].type_name());
        Ok(Value::Bool(want == t || want == format!("*{t}")))
    });
    add(v, "kindIs", Arity::Exact(2), |a| Ok(Value::Bool(string_arg(a, 0)? == a[1].kind_name())));
    add(v, "deepEqual", Arity::Exact(2), |a| Ok(Value::Bool(deep_equal(&a[0], &a[1]))));
    // they hand an argument back as it is
    reading_bytes(v, &["default", "coalesce", "ternary"]);
}
