//! Go's predefined template functions (`and`, `or`, `not`, `len`, `index`,
//! `slice`, `print`, `printf`, `println`, `eq`/`ne`/`lt`/`le`/`gt`/`ge`,
//! `call`, `html`, `js`, `urlquery`) with Go's results and error strings.
//! `and` and `or` short-circuit in the executor; these bodies serve only
//! when all arguments are already evaluated.

use std::collections::HashMap;

use super::Error;
use super::ctx::Ctx;
use super::fmt::{sprint, sprintf, sprintln};
use super::value::{Arity, Func, IntType, List, Param, Value};

type R = Result<Value, Error>;

fn err(msg: impl Into<String>) -> Error {
    Error::Func(msg.into())
}

/// The built-in functions by name.
pub fn builtins() -> HashMap<String, Func> {
    let mut m = HashMap::new();
    let mut add = |name: &str, arity, f: fn(&mut Ctx<'_>, &[Value]) -> R| {
        m.insert(name.to_string(), Func::new(name, arity, f));
    };
    add("and", Arity::AtLeast(1), |_, a| {
        Ok(a.iter().find(|v| !v.truth().unwrap_or(true)).unwrap_or(&a[a.len() - 1]).clone())
    });
    add("or", Arity::AtLeast(1), |_, a| {
        Ok(a.iter().find(|v| v.truth().unwrap_or(true)).unwrap_or(&a[a.len() - 1]).clone())
    });
    add("not", Arity::Exact(1), |_, a| Ok(Value::Bool(!a[0].truth().unwrap_or(true))));
    add("len", Arity::Exact(1), |_, a| length(&a[0]).map(Value::int));
    add("index", Arity::AtLeast(1), |_, a| index(&a[0], &a[1..]));
    add("slice", Arity::AtLeast(1), |_, a| slice(&a[0], &a[1..]));
    add("print", Arity::AtLeast(0), |_, a| Ok(Value::from(sprint(a))));
    add("println", Arity::AtLeast(0), |_, a| Ok(Value::from(sprintln(a))));

    add("eq", Arity::AtLeast(1), |_, a| eq(&a[0], &a[1..]).map(Value::Bool));
    add("ne", Arity::Exact(2), |_, a| eq(&a[0], &a[1..2]).map(|b| Value::Bool(!b)));
    add("lt", Arity::Exact(2), |_, a| lt(&a[0], &a[1]).map(Value::Bool));
    add("le", Arity::Exact(2), |_, a| le(&a[0], &a[1]).map(Value::Bool));
    add("gt", Arity::Exact(2), |_, a| le(&a[0], &a[1]).map(|b| Value::Bool(!b)));
    add("ge", Arity::Exact(2), |_, a| lt(&a[0], &a[1]).map(|b| Value::Bool(!b)));
    add("call", Arity::AtLeast(1), call);
    add("html", Arity::AtLeast(0), |_, a| Ok(Value::from(html_escape(&eval_args(a)))));
    add("js", Arity::AtLeast(0), |_, a| Ok(Value::from(js_escape(&eval_args(a)))));
    add("urlquery", Arity::AtLeast(0), |_, a| Ok(Value::from(query_escape(&eval_args(a)))));
    let printf = Func::typed("printf", &[Param::String, Param::Any], true, |_, a| {
        Ok(Value::from(sprintf(a[0].as_str().unwrap_or_default(), &a[1..])))
    });
    m.insert("printf".into(), printf);
    // `len` counts a binary string's bytes
    if let Some(f) = m.get_mut("len") {
        f.raw_strings = true;
    }
    m
}

fn length(v: &Value) -> Result<i64, Error> {
    match v.underlying() {
        Value::String(s) => Ok(s.len() as i64),
        Value::RawString(b) => Ok(b.len() as i64),
        Value::List(l) => Ok(l.items.len() as i64),
        Value::Map(m) => Ok(m.len() as i64),
        Value::Missing | Value::Nil => Err(err("reflect: call of reflect.Value.Type on zero Value")),
        v => Err(err(format!("len of type {}", v.type_name()))),
    }
}

/// An index argument as an int (Go's `indexArg`).
fn index_arg(i: &Value, cap: usize) -> Result<usize, Error> {
    let x = match i {
        Value::Int(x, _) => *x,
        Value::Missing | Value::Nil => return Err(err("cannot index slice/array with nil")),
        v => return Err(err(format!("cannot index slice/array with type {}", v.type_name()))),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(err(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(item: &Value, idx: &[Value]) -> R {
    if item.is_nil() {
        return Err(err("index of untyped nil"));
    }
    let mut item = item.clone();
    for i in idx {
        item = match item.underlying() {
            Value::Missing | Value::Nil => return Err(err("index of nil pointer")),
            Value::List(l) => {
                let x = index_arg(i, l.items.len())?;
                l.items.get(x).cloned().ok_or_else(|| err("reflect: slice index out of range"))?
            }
            Value::String(s) => {
                let x = index_arg(i, s.len())?;
                let b = s.as_bytes().get(x).ok_or_else(|| err("reflect: string index out of range"))?;
                Value::Int(i64::from(*b), IntType::Uint8)
            }
            Value::Map(m) => match i {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Missing | Value::Nil => return Err(err("value is nil; should be of type string")),
                v => return Err(err(format!("value has type {}; should be string", v.type_name()))),
            },
            v => return Err(err(format!("can't index item of type {}", v.type_name()))),
        };
    }
    Ok(item)
}

fn slice(item: &Value, idx: &[Value]) -> R {
    if item.is_nil() {
        return Err(err("slice of untyped nil"));
    }
    if idx.len() > 3 {
        return Err(err(format!("too many slice indexes: {}", idx.len())));
    }
    let item = item.underlying();
    let len = match &item {
        Value::String(s) => {
            if idx.len() == 3 {
                return Err(err("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.items.len(),
        v => return Err(err(format!("can't slice item of type {}", v.type_name()))),
    };
    let mut x = [0, len, len];
    for (k, i) in idx.iter().enumerate() {
        x[k] = index_arg(i, len)?;
    }
    if x[0] > x[1] {
        return Err(err(format!("invalid slice index: {} > {}", x[0], x[1])));
    }
    if idx.len() == 3 && x[1] > x[2] {
        return Err(err(format!("invalid slice index: {} > {}", x[1], x[2])));
    }
    Ok(match item {
        Value::String(s) => match s.get(x[0]..x[1]) {
            Some(sub) => Value::str(sub),
            None => Value::from(String::from_utf8_lossy(&s.as_bytes()[x[0]..x[1]]).into_owned()),
        },
        Value::List(l) => Value::List(List { items: l.items[x[0]..x[1]].to_vec().into(), ty: l.ty }),
        _ => unreachable!("checked above"),
    })
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    String,
}

/// Go's `basicKind`.
fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_, t) if t.is_unsigned() => Kind::Uint,
        Value::Int(..) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// `incompatible types for comparison: int and float64`.
fn incompatible(a: &Value, b: &Value) -> Error {
    err(format!("{BAD_COMPARISON}: {} and {}", a.type_name(), b.type_name()))
}

fn int_of(v: &Value) -> i64 {
    if let Value::Int(i, _) = v { *i } else { 0 }
}

/// Go's `eq`: true when `a` equals any of `rest`.
pub fn eq(a: &Value, rest: &[Value]) -> Result<bool, Error> {
    if rest.is_empty() {
        return Err(err("missing argument for comparison"));
    }
    let a = a.underlying();
    let k1 = basic_kind(&a);
    for b in rest {
        let b = b.underlying();
        let k2 = basic_kind(&b);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Kind::Int, Kind::Uint) => int_of(&a) >= 0 && int_of(&a) as u64 == int_of(&b) as u64,
                (Kind::Uint, Kind::Int) => int_of(&b) >= 0 && int_of(&a) as u64 == int_of(&b) as u64,
                _ if !a.is_nil() && !b.is_nil() => return Err(incompatible(&a, &b)),
                _ => false,
            }
        } else {
            match (&a, &b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x, _), Value::Int(y, _)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                _ if a.is_nil() || b.is_nil() => a.is_nil() && b.is_nil(),
                (Value::Object(x), Value::Object(y)) => std::rc::Rc::ptr_eq(x, y),
                _ if a.type_name() != b.type_name() => {
                    return Err(err(format!(
                        "non-comparable types {}: {}, {}: {}",
                        sprintf("%s", std::slice::from_ref(&a)),
                        a.type_name(),
                        b.type_name(),
                        super::fmt::sprint_v(&b)
                    )));
                }
                _ => {
                    return Err(err(format!(
                        "non-comparable type {}: {}",
                        sprintf("%s", std::slice::from_ref(&b)),
                        b.type_name()
                    )));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub fn lt(a: &Value, b: &Value) -> Result<bool, Error> {
    let (a, b) = (a.underlying(), b.underlying());
    let (k1, k2) = (basic_kind(&a), basic_kind(&b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err(err(BAD_COMPARISON_TYPE));
    }
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) => Ok(int_of(&a) < 0 || (int_of(&a) as u64) < int_of(&b) as u64),
            (Kind::Uint, Kind::Int) => Ok(int_of(&b) >= 0 && (int_of(&a) as u64) < int_of(&b) as u64),
            _ => Err(incompatible(&a, &b)),
        };
    }
    Ok(match (&a, &b) {
        (Value::Int(x, t), Value::Int(y, _)) if t.is_unsigned() => (*x as u64) < *y as u64,
        (Value::Int(x, _), Value::Int(y, _)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => return Err(err(BAD_COMPARISON_TYPE)),
    })
}

/// Go's `le`.
pub fn le(a: &Value, b: &Value) -> Result<bool, Error> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

fn call(ctx: &mut Ctx<'_>, a: &[Value]) -> R {
    let f = match &a[0] {
        Value::Func(f) => f.clone(),
        Value::Missing | Value::Nil => return Err(err("call of nil")),
        v => return Err(err(format!("non-function of type {}", v.type_name()))),
    };
    let args = &a[1..];
    match f.arity {
        Arity::Exact(n) if args.len() != n => {
            return Err(err(format!("wrong number of args for {}: got {} want {n}", f.name, args.len())));
        }
        Arity::AtLeast(n) if args.len() < n => {
            return Err(err(format!("wrong number of args for {}: got {} want at least {n}", f.name, args.len())));
        }
        _ => {}
    }
    (f.body)(ctx, args).map_err(|e| match e {
        Error::Limit(m) => Error::Limit(m),
        e => err(format!("error calling {}: {}", f.name, e.message())),
    })
}

/// The text of escaper arguments (Go's `evalArgs`: a lone string as is,
/// else `Sprint` with nil printed `<no value>`).
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.to_string();
    }
    let args: Vec<Value> = a.iter().map(|v| if v.is_nil() { Value::str("<no value>") } else { v.clone() }).collect();
    sprint(&args)
}

/// Go's `HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_ascii() || !c.is_control() => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
