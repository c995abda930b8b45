//! Case conversions from huandu/xstrings: `camelcase` (and, still to
//! come, `snakecase` and `kebabcase`).

use super::{add, string_arg};
use crate::gotmpl::value::{Arity, Func, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "camelcase", Arity::Exact(1), |a| Ok(Value::from(camel(string_arg(a, 0)?))));
}

/// `_`, `-` and spaces join words.
fn is_connector(c: char) -> bool {
    c == '_' || c == '-' || c.is_whitespace()
}

/// xstrings `ToCamelCase`: connectors dropped and the next letter
/// upper-cased; leading connectors kept; the rest unchanged.
fn camel(x: &str) -> String {
    let mut out = String::new();
    let mut chars = x.chars();
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            r0 = Some(c.to_uppercase().next().unwrap_or(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = r0.to_uppercase().next().unwrap_or(r0);
        } else {
            out.push(r1);
        }
    }
    out.push(r0);
    out
}
