//! Helm's helper functions as minijinja filters and functions.
//!
//! Filters take the piped value first (`Values.x | indent(4)`), so helm's
//! `{{ .Values.x | indent 4 }}` becomes `{{ Values.x | indent(4) }}`.
//! Semantics are helm's (sprig's), not Jinja's, where the names clash:
//! `indent` pads the first line too, `default` replaces any empty value,
//! `title` leaves the rest of each word alone. Functions: `include`, `tpl`,
//! `required`, `fail`, `lookup` (always an error: rendering is offline),
//! `semverCompare`, `toYaml`, `toJson`.

use base64::Engine as _;
use minijinja::value::{Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use sha2::{Digest, Sha256};

use super::semver;
use crate::yaml::{Dialect, parse_one, to_yaml_string};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Register every helper on `env` (`include` and `tpl` live in the engine).
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("toYaml", to_yaml);
    env.add_function("toYaml", to_yaml);
    env.add_filter("toJson", to_json);
    env.add_function("toJson", to_json);
    env.add_filter("fromYaml", from_yaml);
    env.add_filter("fromJson", from_json);
    env.add_filter("indent", indent);
    env.add_filter("nindent", nindent);
    env.add_filter("quote", quote);
    env.add_filter("squote", squote);
    env.add_filter("b64enc", b64enc);
    env.add_filter("b64dec", b64dec);
    env.add_filter("sha256sum", sha256sum);
    env.add_filter("trunc", trunc);
    env.add_filter("trimSuffix", trim_suffix);
    env.add_filter("trimPrefix", trim_prefix);
    env.add_filter("title", title);
    env.add_filter("default", default);
    env.add_filter("toString", to_string);
    env.add_filter("required", |v: Value, msg: String| required(msg, v));
    env.add_function("required", required);
    env.add_function("fail", |msg: String| -> Result<Value, Error> { Err(err(msg)) });
    env.add_function("lookup", |_args: Rest<Value>| -> Result<Value, Error> {
        Err(err("lookup is not available: charts render offline, without a cluster"))
    });
    env.add_function("semverCompare", semver_compare);
}

/// A template value as JSON (integers stay integers).
pub fn to_json_value(v: &Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(v).map_err(|e| err(format!("cannot convert value: {e}")))
}

/// Go's `fmt` `%v` for the values templates see (sprig's `toString`).
pub fn go_string(v: &Value) -> String {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => String::new(),
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::Bool => if v.is_true() { "true" } else { "false" }.to_string(),
        // Lists and maps as minijinja 2 printed them (`["a", 1]`).
        _ => super::jinja_compat::container_text(v).unwrap_or_else(|| v.to_string()),
    }
}

fn to_yaml(v: Value) -> Result<String, Error> {
    if v.is_undefined() || v.is_none() {
        return Ok("null".into());
    }
    let json = to_json_value(&v)?;
    let s = to_yaml_string(&json);
    Ok(s.strip_suffix('\n').unwrap_or(&s).to_string())
}

fn to_json(v: Value) -> Result<String, Error> {
    if v.is_undefined() {
        return Ok("null".into());
    }
    let json = to_json_value(&v)?;
    let s = serde_json::to_string(&json).map_err(|e| err(e.to_string()))?;
    // Go's encoder escapes these HTML characters.
    Ok(s.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026"))
}

fn error_map(msg: String) -> Value {
    Value::from_pairs([("Error".to_string(), Value::from(msg))])
}

fn from_yaml(s: String) -> Value {
    match parse_one(&s, Dialect::Kubectl) {
        Ok(v) => super::engine::serde_value(&v),
        Err(e) => error_map(e.to_string()),
    }
}

fn from_json(s: String) -> Value {
    match serde_json::from_str::<serde_json::Value>(&s) {
        Ok(v) => super::engine::serde_value(&v),
        Err(e) => error_map(e.to_string()),
    }
}

fn indent(v: Value, n: usize) -> String {
    let pad = " ".repeat(n);
    format!("{pad}{}", go_string(&v).replace('\n', &format!("\n{pad}")))
}

fn nindent(v: Value, n: usize) -> String {
    format!("\n{}", indent(v, n))
}

fn quote(v: Value) -> String {
    if v.is_undefined() || v.is_none() {
        return String::new();
    }
    serde_json::to_string(&go_string(&v)).unwrap_or_default()
}

fn squote(v: Value) -> String {
    if v.is_undefined() || v.is_none() {
        return String::new();
    }
    format!("'{}'", go_string(&v))
}

fn b64enc(v: Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(go_string(&v))
}

fn b64dec(v: Value) -> Result<String, Error> {
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(go_string(&v)).map_err(|e| err(format!("b64dec: {e}")))?;
    String::from_utf8(bytes).map_err(|_| err("b64dec: the decoded data is not UTF-8 text"))
}

fn sha256sum(v: Value) -> String {
    let digest = Sha256::digest(go_string(&v).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn trunc(v: Value, n: i64) -> String {
    let s = go_string(&v);
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    if n < 0 && len + n > 0 {
        chars[(len + n) as usize..].iter().collect()
    } else if n >= 0 && len > n {
        chars[..n as usize].iter().collect()
    } else {
        s
    }
}

fn trim_suffix(v: Value, suffix: String) -> String {
    let s = go_string(&v);
    s.strip_suffix(suffix.as_str()).map(String::from).unwrap_or(s)
}

fn trim_prefix(v: Value, prefix: String) -> String {
    let s = go_string(&v);
    s.strip_prefix(prefix.as_str()).map(String::from).unwrap_or(s)
}

fn title(v: Value) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in go_string(&v).chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// sprig's "empty": undefined, none, false, 0, "", and empty lists and maps.
pub fn is_empty(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => true,
        ValueKind::Bool => !v.is_true(),
        ValueKind::Number => !v.is_true(),
        ValueKind::String => v.as_str().is_some_and(str::is_empty),
        ValueKind::Seq | ValueKind::Map => v.len() == Some(0),
        _ => false,
    }
}

fn default(v: Value, fallback: Option<Value>) -> Value {
    if is_empty(&v) { fallback.unwrap_or_else(|| Value::from("")) } else { v }
}

fn to_string(v: Value) -> String {
    go_string(&v)
}

fn required(msg: String, v: Value) -> Result<Value, Error> {
    if v.is_undefined() || v.is_none() || v.as_str() == Some("") {
        return Err(err(msg));
    }
    Ok(v)
}

fn semver_compare(_state: &State, constraint: String, version: Value) -> Result<bool, Error> {
    semver::satisfies(&constraint, &go_string(&version)).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_semantics() {
        assert_eq!(indent(Value::from("a\nb"), 2), "  a\n  b");
        assert_eq!(nindent(Value::from("a"), 2), "\n  a");
        assert_eq!(quote(Value::from("a\"b")), "\"a\\\"b\"");
        assert_eq!(quote(Value::from(3)), "\"3\"");
        assert_eq!(trunc(Value::from("abcdef"), 3), "abc");
        assert_eq!(trunc(Value::from("abcdef"), -2), "ef");
        assert_eq!(title(Value::from("hello wORLD")), "Hello WORLD");
        assert_eq!(default(Value::from(""), Some(Value::from("x"))), Value::from("x"));
        assert_eq!(default(Value::from(0), Some(Value::from(1))), Value::from(1));
        assert_eq!(b64dec(Value::from(b64enc(Value::from("hi")))).unwrap(), "hi");
        assert_eq!(to_json(Value::from("<a>")).unwrap(), "\"\\u003ca\\u003e\"");
        assert!(required("need x".into(), Value::UNDEFINED).is_err());
        assert_eq!(sha256sum(Value::from("")).len(), 64);
    }
}
