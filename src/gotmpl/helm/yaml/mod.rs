//! Helm's `toYaml` and `toYamlPretty`, byte for byte.
//!
//! `toYaml` is `sigs.k8s.io/yaml.Marshal`: the value goes through
//! `encoding/json`, the JSON is read back by yaml.v2 (which picks `int`,
//! `uint64` or `float64` for each number) and written by yaml.v2's emitter.
//! `toYamlPretty` is yaml.v3's encoder on the Go value itself, with an
//! indent of 2. Both emitters are ported here from go-yaml (v2.4.0,
//! v3.0.1: `emitterc.go`, `encode.go`, `resolve.go`, `sorter.go`) for the
//! events these encoders produce: block mappings and sequences, `{}`/`[]`
//! for empty ones, and scalars whose style (plain, single- or
//! double-quoted, literal) follows the emitter's analysis.
//!
//! What differs between the two: yaml.v2 folds plain and quoted scalars
//! past column 80 and writes sequences inside mappings without indenting
//! them; yaml.v3 never folds and indents them. Quoting is the same: a
//! string is quoted when yaml.v2 would read it back as something else
//! (`"yes"`, `"1.5"`, `"2001-12-14"`, `"12:30"`).

mod emit;
mod resolve;

pub use emit::{Flavor, Node, Style, emit};
pub use resolve::key_order;
use resolve::{is_base60_float, resolves_to_str};

use crate::gotmpl::value::{Value, go_lossy};

/// `toYaml`: JSON first, then yaml.v2; the trailing newline trimmed as helm does.
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let node = json_node(v)?;
    let mut out = emit(&node, Flavor::V2);
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// `toYamlPretty`: yaml.v3 on the value itself, indent 2; trailing newline trimmed.
pub fn to_yaml_pretty(v: &Value) -> Result<String, String> {
    let node = value_node(v)?;
    let mut out = emit(&node, Flavor::V3);
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// What yaml.v2 reads back from `encoding/json`'s output for `v`: numbers
/// become `int`, `uint64` or `float64` by their JSON text.
fn json_node(v: &Value) -> Result<Node, String> {
    Ok(match v.underlying() {
        Value::Missing | Value::Nil | Value::Func(_) => plain("null"),
        Value::Bool(b) => plain(if b { "true" } else { "false" }),
        Value::Int(i, t) if t.is_unsigned() => plain(&(i as u64).to_string()),
        Value::Int(i, _) => plain(&i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("json: unsupported value: {}", crate::gotmpl::float::format_float_v(f)));
            }
            // Go's JSON writes floats from 1e-6 to 1e21 without an exponent
            // (shortest digits, as Rust's `{}`): yaml.v2 reads an integral
            // one back as an integer when it fits in int64 or uint64.
            let text = format!("{f}");
            if f.abs() < 1e21 && !text.contains('.') && (text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok()) {
                plain(&text)
            } else {
                plain(&float_text(f))
            }
        }
        Value::String(s) => string_node(&s),
        Value::RawString(b) => string_node(&go_lossy(&b)),
        Value::List(l) if l.ty == crate::gotmpl::value::BYTES_TYPE => {
            use base64::Engine as _;
            let bytes: Vec<u8> = l.items.iter().map(|b| if let Value::Int(i, _) = b { *i as u8 } else { 0 }).collect();
            string_node(&base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Value::List(l) => Node::Seq(l.items.iter().map(json_node).collect::<Result<_, _>>()?),
        Value::Map(m) => {
            let entries = m.entries.borrow();
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort_by(|a, b| key_order(a, b, Flavor::V2));
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push((string_node(k), json_node(&entries[k])?));
            }
            Node::Map(out)
        }
        Value::Object(o) => match o.marshal_value() {
            Some(v) => json_node(&v)?,
            None => {
                // time.Time, *semver.Version: whatever encoding/json writes.
                let text = crate::gotmpl::sprig::json::marshal(&Value::Object(o), false, None)?;
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(serde_json::Value::String(s)) => string_node(&s),
                    _ => Node::Map(Vec::new()),
                }
            }
        },
    })
}

/// yaml.v3's encoding of a Go value.
fn value_node(v: &Value) -> Result<Node, String> {
    Ok(match v.underlying() {
        Value::Missing | Value::Nil | Value::Func(_) => plain("null"),
        Value::Bool(b) => plain(if b { "true" } else { "false" }),
        Value::Int(i, t) if t.is_unsigned() => plain(&(i as u64).to_string()),
        Value::Int(i, _) => plain(&i.to_string()),
        Value::Float(f) => plain(&float_text(f)),
        Value::String(s) => string_node(&s),
        Value::RawString(b) => string_node(&go_lossy(&b)),
        Value::List(l) => Node::Seq(l.items.iter().map(value_node).collect::<Result<_, _>>()?),
        Value::Map(m) => {
            let entries = m.entries.borrow();
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort_by(|a, b| key_order(a, b, Flavor::V3));
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push((string_node(k), value_node(&entries[k])?));
            }
            Node::Map(out)
        }
        Value::Object(o) => match o.marshal_value() {
            Some(v) => value_node(&v)?,
            None => match o.string() {
                Some(s) => string_node(&s),
                None => Node::Map(Vec::new()),
            },
        },
    })
}

fn plain(s: &str) -> Node {
    Node::Scalar(s.to_string(), Style::Plain)
}

/// A float as go-yaml writes it: strconv 'g', shortest; `.inf`, `.nan`.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf".into() } else { "-.inf".into() }
    } else {
        crate::gotmpl::float::format_float_v(f)
    }
}

/// go-yaml's `stringv`: plain unless the text would read back as another
/// type; literal when it has a line break.
fn string_node(s: &str) -> Node {
    let can_plain = resolves_to_str(s) && !is_base60_float(s);
    let style = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    Node::Scalar(s.to_string(), style)
}
