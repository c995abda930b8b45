//! Go's `encoding/json` output for template values, and Sprig's
//! `toPrettyJson`, `toRawJson` and their `must` forms (helm supplies its
//! own `toJson`/`fromJson`; [`marshal`] is here for it to share).
//!
//! Go's rules: map keys sorted, floats in the shortest form with `e`
//! notation below 1e-6 and from 1e21 (`1e-07` written `1e-7`), `<`, `>`,
//! `&`, U+2028 and U+2029 escaped unless HTML escaping is off, times as
//! RFC 3339, versions as their string, Sprig's certificates as their
//! `Cert` and `Key` fields.

use super::{add, err};
use crate::gotmpl::value::{Arity, Func, Value, go_lossy};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "toPrettyJson", Arity::Exact(1), |a| Ok(Value::from(marshal(&a[0], true, Some("  ")).unwrap_or_default())));
    add(v, "toRawJson", Arity::Exact(1), |a| Ok(Value::from(marshal(&a[0], false, None).unwrap_or_default())));
    add(v, "mustToPrettyJson", Arity::Exact(1), |a| marshal(&a[0], true, Some("  ")).map(Value::from).map_err(err));
    add(v, "mustToJson", Arity::Exact(1), |a| marshal(&a[0], true, None).map(Value::from).map_err(err));
    add(v, "mustFromJson", Arity::Exact(1), |a| {
        let j: serde_json::Value = serde_json::from_str(super::string_arg(a, 0)?).map_err(|e| err(e.to_string()))?;
        Ok(Value::from_json(&j))
    });
    add(v, "mustToRawJson", Arity::Exact(1), |a| marshal(&a[0], false, None).map(Value::from).map_err(err));
}

/// `json.Marshal` (`indent: None`) or `json.MarshalIndent(v, "", indent)`.
pub fn marshal(v: &Value, escape_html: bool, indent: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    write(&mut out, v, escape_html, indent, 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write(out: &mut String, v: &Value, html: bool, indent: Option<&str>, depth: usize) -> Result<(), String> {
    match v.underlying() {
        Value::Missing | Value::Nil | Value::Func(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Value::Int(i, t) if t.is_unsigned() => out.push_str(&(i as u64).to_string()),
        Value::Int(i, _) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float(f)?),
        Value::String(s) => string(out, &s, html),
        Value::RawString(b) => string(out, &go_lossy(&b), html),
        Value::List(l) if l.ty == crate::gotmpl::value::BYTES_TYPE => {
            use base64::Engine as _;
            let bytes: Vec<u8> = l.items.iter().map(|b| if let Value::Int(i, _) = b { *i as u8 } else { 0 }).collect();
            string(out, &base64::engine::general_purpose::STANDARD.encode(bytes), html);
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write(out, x, html, indent, depth + 1)?;
            }
            if !l.items.is_empty() {
                newline(out, indent, depth);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries.borrow();
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, x, html, indent, depth + 1)?;
            }
            if !entries.is_empty() {
                newline(out, indent, depth);
            }
            out.push('}');
        }
        Value::Object(o) => match o.type_name() {
            "time.Time" => {
                let s = o.string().unwrap_or_default();
                let t = super::date::rfc3339(&s).ok_or("json: bad time")?;
                string(out, &t, html);
            }
            "*semver.Version" => string(out, &o.string().unwrap_or_default(), html),
            // exported struct fields, in declaration order
            super::crypto::CERTIFICATE_TYPE => {
                for (i, field) in ["Cert", "Key"].into_iter().enumerate() {
                    out.push(if i == 0 { '{' } else { ',' });
                    newline(out, indent, depth + 1);
                    string(out, field, html);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    write(out, &o.field(field).unwrap_or(Value::Nil), html, indent, depth + 1)?;
                }
                newline(out, indent, depth);
                out.push('}');
            }
            _ => match o.marshal_value() {
                Some(v) => write(out, &v, html, indent, depth)?,
                None => out.push_str("{}"),
            },
        },
    }
    Ok(())
}

/// A float as `encoding/json` writes it.
fn float(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err(format!("json: unsupported value: {}", crate::gotmpl::fmt::format_float_v(f)));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // shortest digits; Go writes `e+21` and (after its clean-up) `e-7`
        let s = format!("{f:e}");
        return Ok(match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        });
    }
    Ok(format!("{f}"))
}

/// A JSON string with Go's escapes.
fn string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
