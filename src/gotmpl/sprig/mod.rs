//! Sprig's function library (Masterminds/sprig v3) as helm 4 uses it
//! (without `env` and `expandenv`), with Sprig's results and error strings.
//!
//! The functions sit on top of the engine's value model: a template set
//! gets them with [`add_sprig`]. Go converts arguments to a function's
//! parameter types before the call; the helpers here (`string_arg`,
//! `int_arg`, `map_arg`) do the same checks with Go's messages, and
//! `to_int64`, `to_float64`, `strval` are the `spf13/cast` and Sprig
//! conversions the library leans on.
//!
//! Where this differs from helm: an argument of the wrong type fails
//! inside the call (`error calling trim: wrong type for value; expected
//! string; got int`) where Go fails while evaluating the argument (`at
//! <1>: expected string; found 1`), since functions do not declare
//! parameter types to the executor; dates are in UTC (`date`);
//! strings cut inside a UTF-8 sequence hold U+FFFD, not the raw byte; a
//! string that is not UTF-8 ([`Value::RawString`]) keeps its bytes only
//! through the encoders and digests, `default`, `coalesce`, `ternary` and
//! `toString`: the other functions read its text.

mod case;
mod crypto;
mod date;
mod dicts;
mod encoding;
mod flow;
pub mod json;
mod lists;
mod math;
mod network;
mod paths;
mod semver;
mod strings;
mod url;

#[cfg(test)]
mod tests;

use super::value::{Arity, Func, IntType, Map, Value};
use super::{Error, Templates};

pub(crate) type R = Result<Value, Error>;

/// A plain function body: Sprig's functions need no execution context.
pub(crate) type Body = fn(&[Value]) -> R;

/// Every Sprig function helm 4 installs.
pub fn sprig_funcs() -> Vec<Func> {
    let mut v = Vec::new();
    strings::register(&mut v);
    case::register(&mut v);
    flow::register(&mut v);
    lists::register(&mut v);
    dicts::register(&mut v);
    math::register(&mut v);
    encoding::register(&mut v);
    semver::register(&mut v);
    paths::register(&mut v);
    date::register(&mut v);
    json::register(&mut v);
    url::register(&mut v);
    crypto::register(&mut v);
    network::register(&mut v);
    aliases(&mut v);
    v
}

/// Sprig's second names: `must...` variants (whose errors read as the
/// plain functions' panics do), `tuple`, and the old snake-case spellings.
fn aliases(v: &mut Vec<Func>) {
    const ALIASES: &[(&str, &str)] = &[
        ("mustAppend", "append"),
        ("mustPush", "push"),
        ("mustPrepend", "prepend"),
        ("mustFirst", "first"),
        ("mustLast", "last"),
        ("mustRest", "rest"),
        ("mustInitial", "initial"),
        ("mustReverse", "reverse"),
        ("mustUniq", "uniq"),
        ("mustWithout", "without"),
        ("mustHas", "has"),
        ("mustCompact", "compact"),
        ("mustSlice", "slice"),
        ("mustChunk", "chunk"),
        ("mustRegexFind", "regexFind"),
        ("mustRegexFindAll", "regexFindAll"),
        ("mustRegexReplaceAll", "regexReplaceAll"),
        ("mustRegexReplaceAllLiteral", "regexReplaceAllLiteral"),
        ("mustRegexSplit", "regexSplit"),
        ("mustMerge", "merge"),
        ("mustMergeOverwrite", "mergeOverwrite"),
        ("mustDeepCopy", "deepCopy"),
        ("tuple", "list"),
        ("trimall", "trimAll"),
    ];
    for (alias, name) in ALIASES {
        if let Some(f) = v.iter().find(|f| &*f.name == *name) {
            let f = Func { name: (*alias).into(), ..f.clone() };
            v.push(f);
        }
    }
}

/// Adds the Sprig functions to a template set.
pub fn add_sprig(set: &mut Templates) {
    for f in sprig_funcs() {
        set.add_func(f);
    }
}

/// Registers `name` with a fixed or variadic arity.
pub(crate) fn add(v: &mut Vec<Func>, name: &str, arity: Arity, body: Body) {
    v.push(Func::new(name, arity, move |_, a| body(a)));
}

pub(crate) fn err(msg: impl Into<String>) -> Error {
    Error::Func(msg.into())
}

/// A `string` parameter's bytes, for the functions that read a binary
/// string ([`Value::RawString`]) as Go does.
pub(crate) fn bytes_arg(a: &[Value], i: usize) -> Result<&[u8], Error> {
    a[i].string_bytes().ok_or_else(|| type_error(&a[i], "string"))
}

/// Marks the functions `names` of `v` as reading their string arguments' bytes.
pub(crate) fn reading_bytes(v: &mut [Func], names: &[&str]) {
    for f in v.iter_mut().filter(|f| names.contains(&&*f.name)) {
        f.raw_strings = true;
    }
}

/// Go's check for a `string` parameter.
pub(crate) fn string_arg(a: &[Value], i: usize) -> Result<&str, Error> {
    match &a[i] {
        Value::String(s) => Ok(s),
        v => Err(type_error(v, "string")),
    }
}

/// Go's check for an `int` parameter.
pub(crate) fn int_arg(a: &[Value], i: usize) -> Result<i64, Error> {
    match &a[i] {
        Value::Int(n, IntType::Int) => Ok(*n),
        v => Err(type_error(v, "int")),
    }
}

/// Go's check for a `bool` parameter.
pub(crate) fn bool_arg(a: &[Value], i: usize) -> Result<bool, Error> {
    match &a[i] {
        Value::Bool(b) => Ok(*b),
        v => Err(type_error(v, "bool")),
    }
}

/// Go's check for a `map[string]interface {}` parameter; nil is a nil map.
pub(crate) fn map_arg(a: &[Value], i: usize) -> Result<Option<Map>, Error> {
    match &a[i] {
        Value::Map(m) if m.ty == super::value::MAP_TYPE || m.ty == super::value::VALUES_TYPE => Ok(Some(m.clone())),
        Value::Nil | Value::Missing => Ok(None),
        v => Err(type_error(v, "map[string]interface {}")),
    }
}

/// The error Go's executor gives for an argument of the wrong type.
pub(crate) fn type_error(v: &Value, want: &str) -> Error {
    if v.is_nil() {
        err(format!("invalid value; expected {want}"))
    } else {
        err(format!("wrong type for value; expected {want}; got {}", v.type_name()))
    }
}

/// Sprig's `strval`: strings as they are, everything else as `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        // a `[]byte` is `string(v)`
        Value::List(l) if let Some(b) = l.bytes() => super::value::go_lossy(&b),
        v => super::fmt::sprint_v(v),
    }
}

/// `cast.ToInt64`: numbers truncated, strings parsed as Go integer
/// literals (after dropping a `.000` tail), booleans 1/0, anything else 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64`.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i, t) if t.is_unsigned() => *i as u64 as f64,
        Value::Int(i, _) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: `"12.00"` becomes `"12"`.
fn trim_zero_decimal(s: &str) -> &str {
    let mut found_zero = false;
    for (i, c) in s.bytes().enumerate().rev() {
        match c {
            b'.' if found_zero => return &s[..i],
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b`/leading-0 octal
/// prefixes and `_` separators between digits.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.contains('_') {
        // underscores only between digits (or right after a prefix)
        let ok = !digits.ends_with('_') && !digits.contains("__") && (prefixed || !digits.starts_with('_'));
        if !ok {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    let mag = u64::from_str_radix(&clean, radix).ok()?;
    if neg { if mag > 1 << 63 { None } else { Some((mag as i64).wrapping_neg()) } } else { i64::try_from(mag).ok() }
}

/// `strconv.ParseFloat(s, 64)` for the forms charts meet.
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return s.to_ascii_lowercase().parse().ok();
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return parse_go_int(s).map(|i| i as f64);
    }
    s.parse().ok()
}

/// Sprig's `empty`: nil, false, zero numbers and empty strings, lists and
/// maps are empty; structs and pointers are not.
pub(crate) fn is_empty(v: &Value) -> bool {
    match v.underlying() {
        Value::Missing | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i, _) => i == 0,
        Value::Float(f) => f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::RawString(b) => b.is_empty(),
        Value::List(l) => l.items.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(_) | Value::Func(_) => false,
    }
}

/// The items of a slice-kinded value (a list or a named slice type).
pub(crate) fn slice_items(v: &Value) -> Option<std::rc::Rc<Vec<Value>>> {
    match v.underlying() {
        Value::List(l) => Some(l.items.clone()),
        _ => None,
    }
}

/// Go's `reflect.DeepEqual` on template values.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Missing | Value::Nil, Value::Missing | Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, s), Value::Int(y, t)) => x == y && s == t,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.ty == y.ty
                && x.items.len() == y.items.len()
                && x.items.iter().zip(y.items.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.ty != y.ty {
                return false;
            }
            if std::rc::Rc::ptr_eq(&x.entries, &y.entries) {
                return true;
            }
            let (x, y) = (x.entries.borrow(), y.entries.borrow());
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => std::ptr::addr_eq(std::rc::Rc::as_ptr(x), std::rc::Rc::as_ptr(y)),
        _ => false,
    }
}
