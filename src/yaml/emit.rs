//! Block-style YAML writer for JSON values.
//!
//! Output style follows `kubectl get -o yaml` (sequences under a key are not
//! indented, double quotes where quoting is needed, literal blocks for
//! multi-line strings). Every string that a YAML 1.1 or 1.2 reader could take
//! for another type is quoted, so the output reads back as the same value.

use std::fmt::Write;

use serde_json::Value;

use super::resolve::plain_is_ambiguous;

/// Render one value as a YAML document (no leading `---`).
pub fn to_yaml_string(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_yaml(&mut out, v);
    out
}

/// Append one mapping as a YAML document (no leading `---`) to `out`.
pub fn write_yaml_map(out: &mut String, m: &serde_json::Map<String, Value>) {
    if m.is_empty() {
        out.push_str("{}\n");
    } else {
        write_map(out, m, 0);
    }
}

/// Append one value as a YAML document (no leading `---`) to `out`.
pub fn write_yaml(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(out, a, 0),
        _ => {
            write_inline(out, v, 0);
            out.push('\n');
        }
    }
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, ind: usize) {
    for (k, v) in m {
        indent(out, ind);
        write_str(out, k, ind, true);
        out.push(':');
        match v {
            Value::Object(c) if !c.is_empty() => {
                out.push('\n');
                write_map(out, c, ind + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, ind);
            }
            _ => {
                out.push(' ');
                write_inline(out, v, ind + 2);
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], ind: usize) {
    for v in a {
        indent(out, ind);
        out.push('-');
        match v {
            Value::Object(c) if !c.is_empty() => {
                // First key on the dash line, the rest aligned under it.
                out.push(' ');
                let mut first = true;
                for (k, cv) in c {
                    if !first {
                        indent(out, ind + 2);
                    }
                    first = false;
                    write_str(out, k, ind + 2, true);
                    out.push(':');
                    match cv {
                        Value::Object(cc) if !cc.is_empty() => {
                            out.push('\n');
                            write_map(out, cc, ind + 4);
                        }
                        Value::Array(aa) if !aa.is_empty() => {
                            out.push('\n');
                            write_seq(out, aa, ind + 2);
                        }
                        _ => {
                            out.push(' ');
                            write_inline(out, cv, ind + 4);
                            out.push('\n');
                        }
                    }
                }
            }
            Value::Array(aa) if !aa.is_empty() => {
                out.push('\n');
                write_seq(out, aa, ind + 2);
            }
            _ => {
                out.push(' ');
                write_inline(out, v, ind + 2);
                out.push('\n');
            }
        }
    }
}

/// Scalars and empty collections; `ind` is the indentation of block content.
fn write_inline(out: &mut String, v: &Value, ind: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_str(out, s, ind, false),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_str(out: &mut String, s: &str, ind: usize, is_key: bool) {
    if can_be_plain(s) {
        out.push_str(s);
    } else if !is_key && can_be_literal(s) {
        write_literal(out, s, ind);
    } else {
        write_double_quoted(out, s);
    }
}

fn can_be_plain(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else { return false };
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    ) {
        return false;
    }
    if s.ends_with(' ') || s.ends_with(':') || s.starts_with("...") {
        return false;
    }
    // one pass: `: `, ` #`, control characters and the line breaks YAML knows
    let mut ascii = true;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b':' if b.get(i + 1) == Some(&b' ') => return false,
            b'#' if i > 0 && b[i - 1] == b' ' => return false,
            0..0x20 | 0x7f => return false,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    if !ascii && s.chars().any(|c| c.is_control() || matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{85}')) {
        return false;
    }
    // only these first characters can start a scalar that reads as something else
    let may_resolve = matches!(
        first,
        b'0'..=b'9' | b'+' | b'.' | b'~' | b'<' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'o' | b'O'
    );
    !(may_resolve && plain_is_ambiguous(s))
}

fn can_be_literal(s: &str) -> bool {
    let b = s.as_bytes();
    // only line breaks: a literal block would read back empty
    if memchr::memchr(b'\n', b).is_none() || b.iter().all(|&c| c == b'\n') {
        return false;
    }
    // no control characters but line feeds, no line ending in a space
    let mut ascii = true;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\n' => {}
            b' ' if b.get(i + 1).is_none_or(|&n| n == b'\n') => return false,
            0..0x20 | 0x7f => return false,
            0x80.. => ascii = false,
            _ => {}
        }
    }
    ascii || !s.chars().any(|c| c.is_control() || matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{85}'))
}

fn write_literal(out: &mut String, s: &str, ind: usize) {
    out.push('|');
    // An explicit indentation indicator when content starts with a space or a
    // blank line, which would otherwise set the indentation itself.
    if s.starts_with(' ') || s.starts_with('\n') {
        out.push('2');
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    let body = if trailing == 0 { s } else { &s[..s.len() - 1] };
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, ind);
            out.push_str(line);
        }
        out.push('\n');
    }
    // The caller adds the newline that ends the value; we already ended it.
    out.pop();
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    // runs of characters that need no escape are copied whole
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            c if c.is_control() || matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{85}') => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04X}", c as u32);
        } else {
            out.push_str(escaped);
        }
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, parse_one};
    use super::*;
    use serde_json::json;

    fn roundtrip(v: Value) {
        let text = to_yaml_string(&v);
        for d in [Dialect::Kubectl, Dialect::Kustomize] {
            let back = parse_one(&text, d).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(back, v, "dialect {d:?}, text:\n{text}");
        }
    }

    #[test]
    fn kubectl_style_layout() {
        let v = json!({"a": {"b": [{"c": 1, "d": [1, 2]}, "x"]}, "e": [], "f": {}});
        assert_eq!(to_yaml_string(&v), "a:\n  b:\n  - c: 1\n    d:\n    - 1\n    - 2\n  - x\ne: []\nf: {}\n");
        roundtrip(v);
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        let v = json!({"a": "yes", "b": "0644", "c": "1e3", "d": "", "e": "on", "f": "null", "g": "- x", "h": "a: b", "i": "#x", "on": "true", "k": "1.20"});
        let text = to_yaml_string(&v);
        assert!(text.contains("a: \"yes\""), "{text}");
        assert!(text.contains("\"on\": \"true\""), "{text}");
        roundtrip(v);
    }

    #[test]
    fn multiline_strings_use_literal_blocks() {
        let v = json!({"script": "echo a\necho b\n", "nokeep": "x\ny", "keep": "x\n\n", "lead": "  indented\nnext\n", "tail": "trailing \nspace"});
        let text = to_yaml_string(&v);
        assert!(text.contains("script: |\n  echo a\n  echo b\n"), "{text}");
        assert!(text.contains("nokeep: |-\n  x\n  y\n"), "{text}");
        roundtrip(v);
    }

    #[test]
    fn generated_strings_read_back() {
        const PIECES: &[&str] = &[
            "a", " ", "  ", "\n", ":", ": ", "#", " #", "-", "- ", "'", "\"", "\\", "\t", "\r", "\u{85}", "\u{7}", "é",
            "\u{2028}", "1", "0x", ".5", "~", "yes", "null", "[", "{", ",", "|", ">", "...", "---", "&a", "*a", "!",
            "%",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..3000 {
            let len = next(8);
            let s: String = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
            roundtrip(json!({ s.clone(): s, "l": [s.clone(), {"k": s}] }));
        }
    }

    #[test]
    fn nested_sequences_and_special_characters() {
        roundtrip(
            json!({"m": [[1, [2, 3]], [], {}, {"k": [{"z": null}]}], "u": "tab\there", "q": "say \"hi\" \\ bye", "ctl": "\u{7}", "uni": "héllo ✓"}),
        );
        roundtrip(json!([{"a": 1}, [{"b": 2}]]));
        roundtrip(json!({"big": 18446744073709551615u64, "neg": -5, "fl": 0.25, "t": true}));
    }
}
