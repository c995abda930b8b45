//! Helm's `toToml`: BurntSushi/toml v1.6.0's encoder (`encode.go`) on
//! template values, with its layout: a table's plain keys first (sorted),
//! then its sub-tables and arrays of tables, each header indented two
//! spaces per level below the top; arrays and tables inside arrays inline;
//! nil map entries left out. An error is returned as its text, which helm's
//! `toToml` prints in place of the document.

use crate::gotmpl::float::format_float_v;
use crate::gotmpl::value::{Value, go_lossy};

const ERR_NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const ERR_NO_KEY: &str = "toml: top-level values must be Go maps or structs";

/// `toToml`: the document, or the encoder's error text.
pub fn to_toml(v: &Value) -> String {
    let mut e = Encoder { out: String::new(), written: false };
    match e.encode(&[], &v.underlying()) {
        Ok(()) => e.out,
        Err(msg) => msg.to_string(),
    }
}

/// BurntSushi's `tomlTypeOfGo`, the parts that decide layout.
#[derive(PartialEq, Eq)]
enum Kind {
    Nil,
    Hash,
    ArrayHash,
    Other,
}

fn kind(v: &Value) -> Result<Kind, &'static str> {
    Ok(match v.underlying() {
        Value::Missing | Value::Nil => Kind::Nil,
        Value::Map(_) => Kind::Hash,
        Value::List(l) => {
            if l.items.is_empty() {
                return Ok(Kind::Other);
            }
            let mut all = true;
            for item in l.items.iter() {
                let k = kind(item)?;
                if k == Kind::Nil {
                    return Err(ERR_NIL_ELEMENT);
                }
                all &= k == Kind::Hash;
            }
            if all { Kind::ArrayHash } else { Kind::Other }
        }
        _ => Kind::Other,
    })
}

struct Encoder {
    out: String,
    written: bool,
}

type R = Result<(), &'static str>;

impl Encoder {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.written = true;
    }

    fn newline(&mut self) {
        if self.written {
            self.write("\n");
        }
    }

    fn indent(key: &[String]) -> String {
        "  ".repeat(key.len().saturating_sub(1))
    }

    fn encode(&mut self, key: &[String], v: &Value) -> R {
        match v.underlying() {
            Value::Missing | Value::Nil => Ok(()),
            Value::Map(_) => self.table(key, v),
            Value::List(_) if kind(v)? == Kind::ArrayHash => self.array_of_tables(key, v),
            other => self.key_value(key, &other, false),
        }
    }

    fn table(&mut self, key: &[String], v: &Value) -> R {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            let header = format!("{}[{}]", Self::indent(key), key_string(key));
            self.write(&header);
            self.newline();
        }
        self.map(key, v, false)
    }

    fn array_of_tables(&mut self, key: &[String], v: &Value) -> R {
        if key.is_empty() {
            return Err(ERR_NO_KEY);
        }
        let Value::List(l) = v.underlying() else { return Ok(()) };
        for item in l.items.iter() {
            if item.is_nil() {
                continue;
            }
            self.newline();
            let header = format!("{}[[{}]]", Self::indent(key), key_string(key));
            self.write(&header);
            self.newline();
            self.map(key, item, false)?;
        }
        Ok(())
    }

    fn map(&mut self, key: &[String], v: &Value, inline: bool) -> R {
        let Value::Map(m) = v.underlying() else { return Ok(()) };
        let entries = m.entries.borrow();
        let (mut direct, mut sub) = (Vec::new(), Vec::new());
        for (k, val) in entries.iter() {
            if matches!(kind(val)?, Kind::Hash | Kind::ArrayHash) {
                sub.push((k, val));
            } else {
                direct.push((k, val));
            }
        }
        if inline {
            self.write("{");
        }
        let trail = !sub.is_empty();
        for (group, trail_comma) in [(direct, trail), (sub, false)] {
            let n = group.len();
            for (i, (k, val)) in group.into_iter().enumerate() {
                if val.is_nil() {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(k), val, true)?;
                    if trail_comma || i != n - 1 {
                        self.write(", ");
                    }
                } else {
                    let mut child = key.to_vec();
                    child.push(k.clone());
                    self.encode(&child, val)?;
                }
            }
        }
        if inline {
            self.write("}");
        }
        Ok(())
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> R {
        if key.is_empty() {
            return self.element(v);
        }
        let prefix = format!("{}{} = ", Self::indent(key), maybe_quoted(&key[key.len() - 1]));
        self.write(&prefix);
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> R {
        match v.underlying() {
            Value::String(s) => self.write(&quoted(&s)),
            Value::RawString(b) => self.write(&quoted(&go_lossy(&b))),
            Value::Bool(b) => self.write(if b { "true" } else { "false" }),
            Value::Int(i, t) if t.is_unsigned() => self.write(&(i as u64).to_string()),
            Value::Int(i, _) => self.write(&i.to_string()),
            Value::Float(f) => {
                let s = if f.is_nan() {
                    if f.is_sign_negative() { "-nan".to_string() } else { "nan".to_string() }
                } else if f.is_infinite() {
                    if f < 0.0 { "-inf".to_string() } else { "inf".to_string() }
                } else {
                    let s = format_float_v(f);
                    if s.contains(['e', '.']) { s } else { format!("{s}.0") }
                };
                self.write(&s);
            }
            Value::List(l) => {
                kind(v)?;
                self.write("[");
                let n = l.items.len();
                for (i, item) in l.items.iter().enumerate() {
                    self.element(item)?;
                    if i != n - 1 {
                        self.write(", ");
                    }
                }
                self.write("]");
            }
            Value::Map(_) => self.map(&[], v, true)?,
            Value::Object(o) => match o.string() {
                Some(s) => self.write(&quoted(&s)),
                None => self.write("{}"),
            },
            Value::Missing | Value::Nil | Value::Func(_) => return Err(ERR_NIL_ELEMENT),
        }
        Ok(())
    }
}

fn bare(s: &str) -> bool {
    s.chars().all(|r| r.is_ascii_alphanumeric() || r == '_' || r == '-')
}

fn maybe_quoted(k: &str) -> String {
    if k.is_empty() {
        "\"\"".into()
    } else if bare(k) {
        k.into()
    } else {
        quoted(k)
    }
}

fn key_string(key: &[String]) -> String {
    key.iter().map(|k| maybe_quoted(k)).collect::<Vec<_>>().join(".")
}

/// A basic string with BurntSushi's escapes.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
