//! What minijinja 3 changed in rendered text, kept as minijinja 2 rendered
//! it, so that a Jinja chart renders the same objects after the upgrade.
//!
//! - Lists and maps print as minijinja 2 printed them (`["a", 1, True]`,
//!   `{"k": "v"}`: strings in double quotes with Rust's escapes), not as
//!   Python's repr (`['a', 1, True]`), which reads differently as YAML
//!   (`'a\nb'` is a backslash and an `n` in a single-quoted YAML string).
//!   Helm's functions that turn a value into text (`quote`, `sha256sum`,
//!   `toString`, ...) see the same text, so checksums do not change.
//!   So does the `string` filter.
//! - `tojson` is compact (`{"a":1}`), as in minijinja 2, not spaced.
//! - `round` rounds halves away from zero (`2.5` -> `3.0`), as minijinja 2
//!   and helm's Sprig do, not to even.
//!
//! Changes kept from minijinja 3: `x / 0` is an error (it printed `inf`),
//! `2 ** -1` is `0.5` (it was an error), and undefined values name the
//! expression in errors.

use std::fmt::Write as _;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};

/// Register the filters whose minijinja 3 output differs.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("tojson", tojson);
    env.add_filter("round", round);
    env.add_filter("string", string);
}

/// `string`: lists and maps as minijinja 2 printed them; strings unchanged.
fn string(v: Value) -> Value {
    match container_text(&v) {
        Some(text) => Value::from(text),
        None if v.kind() == ValueKind::String => v,
        None => Value::from(v.to_string()),
    }
}

/// A list or map as minijinja 2 printed it; `None` for any other value.
pub fn container_text(v: &Value) -> Option<String> {
    if !matches!(v.kind(), ValueKind::Seq | ValueKind::Map) {
        return None;
    }
    let mut out = String::new();
    write_repr(&mut out, v);
    Some(out)
}

/// minijinja 2's `Debug` of a value: how it printed one inside a list or map.
fn write_repr(out: &mut String, v: &Value) {
    match v.kind() {
        ValueKind::Undefined => out.push_str("undefined"),
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::String => {
            let _ = write!(out, "{:?}", v.as_str().unwrap_or_default());
        }
        ValueKind::Number if !v.is_integer() => match f64::try_from(v.clone()) {
            Ok(f) => {
                let _ = write!(out, "{f:?}");
            }
            Err(_) => out.push_str(&v.to_string()),
        },
        ValueKind::Bytes => {
            out.push_str("b'");
            for &b in v.as_bytes().unwrap_or_default() {
                if b == b'"' {
                    out.push('"');
                } else {
                    let _ = write!(out, "{}", b.escape_ascii());
                }
            }
            out.push('\'');
        }
        ValueKind::Seq => {
            out.push('[');
            for (i, item) in v.try_iter().into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, &item);
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            for (i, key) in v.try_iter().into_iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, &key);
                out.push_str(": ");
                write_repr(out, &v.get_item(&key).unwrap_or(Value::UNDEFINED));
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// `tojson` as in minijinja 2: compact, or pretty with `indent` (a number,
/// or `true` for 2); `<`, `>`, `&` and `'` escaped so the text is safe in HTML.
fn tojson(value: &Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = match indent {
        Some(i) => Some(i),
        None => kwargs.get::<Option<Value>>("indent")?,
    };
    kwargs.assert_all_used()?;
    let indent = match indent {
        None => None,
        Some(v) if v.kind() == ValueKind::Bool => v.is_true().then_some(2),
        Some(v) => Some(usize::try_from(v)?),
    };
    let json = serde_json::to_value(value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, "cannot serialize to JSON").with_source(e))?;
    let text = match indent {
        None => serde_json::to_string(&json),
        Some(n) => {
            let pad = " ".repeat(n);
            let mut buf = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
            serde::Serialize::serialize(&json, &mut ser).map(|_| String::from_utf8_lossy(&buf).into_owned())
        }
    }
    .map_err(|e| Error::new(ErrorKind::InvalidOperation, "cannot serialize to JSON").with_source(e))?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\'' => out.push_str("\\u0027"),
            _ => out.push(c),
        }
    }
    Ok(Value::from_safe_string(out))
}

/// `round(precision=0)` as in minijinja 2: integers unchanged, floats
/// rounded half away from zero.
fn round(value: Value, precision: Option<i32>) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::Number if value.is_integer() => Ok(value),
        ValueKind::Number => {
            let f = f64::try_from(value)?;
            let scale = 10f64.powi(precision.unwrap_or(0));
            Ok(Value::from((scale * f).round() / scale))
        }
        kind => Err(Error::new(ErrorKind::InvalidOperation, format!("cannot round value ({kind})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected texts: what minijinja 2.24 rendered for the same templates.
    #[test]
    fn renders_as_minijinja_2() {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_formatter(|out, state, value| match container_text(value) {
            Some(text) => out.write_str(&text).map_err(|_| Error::new(ErrorKind::WriteFailure, "write")),
            None => minijinja::escape_formatter(out, state, value),
        });
        register(&mut env);
        let ctx = Value::from(minijinja::value::Serde(serde_json::json!({
            "m": {"a": 1, "b": "two", "c": [1, 2]},
            "l": [1, 2, 3],
        })));
        let cases = [
            ("{{ [1, 'a', true, none, 1.5, 2.0] }}", r#"[1, "a", True, None, 1.5, 2.0]"#),
            ("{{ m }}", r#"{"a": 1, "b": "two", "c": [1, 2]}"#),
            ("{{ m|dictsort }}", r#"[["a", 1], ["b", "two"], ["c", [1, 2]]]"#),
            ("{{ (1, 2) }}", "[1, 2]"),
            ("{{ ['a\"b', 'c\\'d', 'e\\nf'] }}", r#"["a\"b", "c'd", "e\nf"]"#),
            ("{{ 'a,b'|split(',') }}", r#"["a", "b"]"#),
            ("{{ m|tojson }}", r#"{"a":1,"b":"two","c":[1,2]}"#),
            ("{{ {'k': \"<it's>\"}|tojson }}", r#"{"k":"\u003cit\u0027s\u003e"}"#),
            ("{{ l|tojson(indent=2) }}", "[\n  1,\n  2,\n  3\n]"),
            (
                "{{ 2.5|round }} {{ 3.5|round }} {{ -2.5|round }} {{ 2.675|round(2) }} {{ 7|round }}",
                "3.0 4.0 -3.0 2.68 7",
            ),
            ("{% for k, v in m|dictsort %}{{ k }}={{ v }};{% endfor %}", "a=1;b=two;c=[1, 2];"),
            ("{{ 'plain' }} {{ 3 }} {{ 1.5 }}", "plain 3 1.5"),
            ("{{ m|string }} {{ 'x'|string }} {{ 2|string }}", r#"{"a": 1, "b": "two", "c": [1, 2]} x 2"#),
        ];
        for (template, want) in cases {
            let got = env.render_str(template, ctx.clone()).unwrap_or_else(|e| panic!("{template}: {e}"));
            assert_eq!(got, want, "{template}");
        }
        let e = env.render_str("{{ 'x'|round }}", ctx).unwrap_err();
        assert!(e.to_string().contains("cannot round value (string)"), "{e}");
    }
}
