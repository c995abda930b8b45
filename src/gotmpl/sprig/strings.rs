//! Sprig's string functions: trimming, case, padding and wrapping,
//! quoting, splitting and joining, regular expressions.
//!
//! Lengths and offsets are in bytes, as in Go (`substr`, `trunc`,
//! `abbrev`); a cut inside a UTF-8 sequence is replaced by U+FFFD.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::{Body, R, add, err, int_arg, reading_bytes, string_arg, strval};
use crate::gotmpl::fmt::quote as go_quote;
use crate::gotmpl::value::{Arity, Func, Map, Value};

/// The most bytes `repeat`, `indent` and friends may produce (Go would
/// exhaust memory instead; a chart never needs this much).
const MAX_OUTPUT: usize = 64 << 20;

pub(super) fn register(v: &mut Vec<Func>) {
    let one: &[(&str, Body)] = &[
        ("trim", |a| Ok(s(string_arg(a, 0)?.trim_matches(is_go_space)))),
        ("upper", |a| Ok(s(&string_arg(a, 0)?.chars().map(single_upper).collect::<String>()))),
        ("lower", |a| Ok(s(&string_arg(a, 0)?.chars().map(single_lower).collect::<String>()))),
        ("title", |a| Ok(s(&title(string_arg(a, 0)?)))),
        ("untitle", |a| Ok(s(&untitle(string_arg(a, 0)?)))),
        ("nospace", |a| Ok(s(&nospace(string_arg(a, 0)?)))),
        ("initials", |a| Ok(s(&initials(string_arg(a, 0)?)))),
        ("swapcase", |a| Ok(s(&swapcase(string_arg(a, 0)?)))),
        ("toString", |a| {
            Ok(match &a[0] {
                Value::RawString(_) => a[0].clone(),
                Value::List(l) => match l.bytes() {
                    Some(b) => Value::from_bytes(&b),
                    None => s(&strval(&a[0])),
                },
                v => s(&strval(v)),
            })
        }),
        ("toStrings", |a| Ok(Value::string_list(strslice(&a[0])))),
        ("sortAlpha", |a| Ok(Value::string_list(sort_alpha(&a[0])))),
        ("atoi", |a| Ok(Value::int(atoi(string_arg(a, 0)?)))),
        ("regexQuoteMeta", |a| Ok(s(&quote_meta(string_arg(a, 0)?)))),
    ];
    for (name, body) in one {
        add(v, name, Arity::Exact(1), *body);
    }
    let two: &[(&str, Body)] = &[
        ("trimAll", |a| {
            let cut = string_arg(a, 0)?;
            Ok(s(string_arg(a, 1)?.trim_matches(|c| cut.contains(c))))
        }),
        ("trimPrefix", |a| {
            let (p, x) = (string_arg(a, 0)?, string_arg(a, 1)?);
            Ok(s(x.strip_prefix(p).unwrap_or(x)))
        }),
        ("trimSuffix", |a| {
            let (p, x) = (string_arg(a, 0)?, string_arg(a, 1)?);
            Ok(s(x.strip_suffix(p).unwrap_or(x)))
        }),
        ("contains", |a| Ok(Value::Bool(string_arg(a, 1)?.contains(string_arg(a, 0)?)))),
        ("hasPrefix", |a| Ok(Value::Bool(string_arg(a, 1)?.starts_with(string_arg(a, 0)?)))),
        ("hasSuffix", |a| Ok(Value::Bool(string_arg(a, 1)?.ends_with(string_arg(a, 0)?)))),
        ("repeat", |a| Ok(s(&repeat(string_arg(a, 1)?, int_arg(a, 0)?)?))),
        ("trunc", |a| Ok(s(&trunc(int_arg(a, 0)?, string_arg(a, 1)?)))),
        ("abbrev", |a| Ok(s(&abbrev(int_arg(a, 0)?, string_arg(a, 1)?)))),
        ("wrap", |a| Ok(s(&wrap_custom(string_arg(a, 1)?, int_arg(a, 0)?, "\n", false)))),
        ("indent", |a| Ok(Value::from(indent(int_arg(a, 0)?, string_arg(a, 1)?, false)?))),
        ("nindent", |a| Ok(Value::from(indent(int_arg(a, 0)?, string_arg(a, 1)?, true)?))),
        ("split", |a| Ok(split_map(string_arg(a, 1)?, string_arg(a, 0)?, -1))),
        ("splitList", |a| Ok(Value::string_list(go_split(string_arg(a, 1)?, string_arg(a, 0)?, -1)))),
        ("join", |a| Ok(s(&strslice(&a[1]).join(string_arg(a, 0)?)))),
        ("regexMatch", |a| {
            let (re, x) = (string_arg(a, 0)?, string_arg(a, 1)?);
            Ok(Value::Bool(regex::Regex::new(re).is_ok_and(|r| r.is_match(x))))
        }),
        ("mustRegexMatch", |a| {
            let re = compile(string_arg(a, 0)?)?;
            Ok(Value::Bool(re.is_match(string_arg(a, 1)?)))
        }),
        ("regexFind", |a| {
            let re = compile(string_arg(a, 0)?)?;
            Ok(s(re.find(string_arg(a, 1)?).map_or("", |m| m.as_str())))
        }),
    ];
    for (name, body) in two {
        add(v, name, Arity::Exact(2), *body);
    }
    let three: &[(&str, Body)] = &[
        ("substr", |a| substr(int_arg(a, 0)?, int_arg(a, 1)?, string_arg(a, 2)?).map(|x| s(&x))),
        ("wrapWith", |a| Ok(s(&wrap_custom(string_arg(a, 2)?, int_arg(a, 0)?, string_arg(a, 1)?, true)))),
        ("abbrevboth", |a| Ok(s(&abbrevboth(int_arg(a, 0)?, int_arg(a, 1)?, string_arg(a, 2)?)))),
        ("replace", |a| Ok(s(&string_arg(a, 2)?.replace(string_arg(a, 0)?, string_arg(a, 1)?)))),
        ("plural", |a| Ok(s(if int_arg(a, 2)? == 1 { string_arg(a, 0)? } else { string_arg(a, 1)? }))),
        ("splitn", |a| Ok(split_map(string_arg(a, 2)?, string_arg(a, 0)?, int_arg(a, 1)?))),
        ("regexFindAll", |a| {
            let re = compile(string_arg(a, 0)?)?;
            let (x, n) = (string_arg(a, 1)?, int_arg(a, 2)?);
            let limit = if n < 0 { usize::MAX } else { n as usize };
            Ok(Value::string_list(re.find_iter(x).take(limit).map(|m| m.as_str().to_string()).collect()))
        }),
        ("regexReplaceAll", |a| {
            let re = compile(string_arg(a, 0)?)?;
            Ok(s(&re.replace_all(string_arg(a, 1)?, string_arg(a, 2)?)))
        }),
        ("regexReplaceAllLiteral", |a| {
            let re = compile(string_arg(a, 0)?)?;
            Ok(s(&re.replace_all(string_arg(a, 1)?, regex::NoExpand(string_arg(a, 2)?))))
        }),
        ("regexSplit", |a| {
            let re = compile(string_arg(a, 0)?)?;
            regex_split(&re, string_arg(a, 0)?, string_arg(a, 1)?, int_arg(a, 2)?)
        }),
    ];
    for (name, body) in three {
        add(v, name, Arity::Exact(3), *body);
    }
    add(v, "hello", Arity::Exact(0), |_| Ok(s("Hello!")));
    add(v, "quote", Arity::AtLeast(0), |a| {
        let quote = |x: &Value| match x {
            Value::RawString(b) => crate::gotmpl::fmt::quote_bytes(b),
            Value::List(l) if let Some(b) = l.bytes() => crate::gotmpl::fmt::quote_bytes(&b),
            x => go_quote(&strval(x)),
        };
        let out: Vec<String> = a.iter().filter(|x| !x.is_nil()).map(quote).collect();
        Ok(s(&out.join(" ")))
    });
    add(v, "squote", Arity::AtLeast(0), |a| {
        let out: Vec<String> = a.iter().filter(|x| !x.is_nil()).map(|x| format!("'{}'", strval(x))).collect();
        Ok(s(&out.join(" ")))
    });
    add(v, "cat", Arity::AtLeast(0), |a| {
        let out: Vec<String> = a.iter().filter(|x| !x.is_nil()).map(crate::gotmpl::fmt::sprint_v).collect();
        Ok(s(&out.join(" ")))
    });
    reading_bytes(v, &["toString", "quote"]);
}

fn s(x: &str) -> Value {
    Value::str(x)
}

/// Go's `unicode.IsSpace`.
fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title(x: &str) -> String {
    let sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    x.chars()
        .map(|c| {
            let out = if sep(prev) { single_upper(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// goutils `DeleteWhiteSpace`, which reads each byte as a Latin-1 rune:
/// a U+00A0 loses its second byte and keeps `Â`, as in helm.
fn nospace(x: &str) -> String {
    x.bytes().map(char::from).filter(|c| !is_go_space(*c)).collect()
}

/// `unicode.ToUpper` (one rune to one rune; `ß` stays).
fn single_upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn single_lower(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// goutils `Uncapitalize`: the first letter of each space-separated word lower-cased.
fn untitle(x: &str) -> String {
    let mut next = true;
    x.chars()
        .map(|c| {
            if is_go_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                single_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `Initials`: the first rune of each space-separated word.
fn initials(x: &str) -> String {
    let mut next = true;
    let mut out = String::new();
    for c in x.chars() {
        if is_go_space(c) {
            next = true;
        } else if next {
            out.push(c);
            next = false;
        }
    }
    out
}

/// goutils `SwapCase`.
fn swapcase(x: &str) -> String {
    x.chars()
        .map(|c| {
            if c.is_uppercase() {
                single_lower(c)
            } else if c.is_lowercase() {
                single_upper(c)
            } else {
                c
            }
        })
        .collect()
}

fn repeat(x: &str, n: i64) -> Result<String, crate::gotmpl::Error> {
    if n < 0 {
        return Err(err("strings: negative Repeat count"));
    }
    if (n as u128) * (x.len() as u128) > MAX_OUTPUT as u128 {
        return Err(err("strings: Repeat output length overflow"));
    }
    Ok(x.repeat(n as usize))
}

/// Sprig's `indent` (`nindent` with a line feed first): `n` spaces
/// before every line.
fn indent(n: i64, x: &str, newline_first: bool) -> Result<String, crate::gotmpl::Error> {
    let pad = repeat(" ", n)?;
    let lines = memchr::memchr_iter(b'\n', x.as_bytes()).count() + 1;
    if lines * pad.len() > MAX_OUTPUT {
        return Err(err("strings: Repeat output length overflow"));
    }
    let mut out = String::with_capacity(x.len() + lines * pad.len() + 1);
    if newline_first {
        out.push('\n');
    }
    for (i, line) in x.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
    }
    Ok(out)
}

/// A byte range of a string, lossy where it cuts a UTF-8 sequence.
fn bytes(x: &str, from: usize, to: usize) -> String {
    match x.get(from..to) {
        Some(sub) => sub.to_string(),
        None => String::from_utf8_lossy(&x.as_bytes()[from..to]).into_owned(),
    }
}

/// Go's slice-bounds panic message, as text/template reports it.
fn bounds(from: Option<i64>, to: i64, len: usize) -> crate::gotmpl::Error {
    match from {
        None => err(format!("runtime error: slice bounds out of range [:{to}] with length {len}")),
        Some(f) => err(format!("runtime error: slice bounds out of range [{f}:{to}]")),
    }
}

fn substr(start: i64, end: i64, x: &str) -> Result<String, crate::gotmpl::Error> {
    let len = x.len() as i64;
    if start < 0 {
        if end < 0 || end > len {
            return Err(if end < 0 {
                err(format!("runtime error: slice bounds out of range [:{end}]"))
            } else {
                bounds(None, end, x.len())
            });
        }
        return Ok(bytes(x, 0, end as usize));
    }
    if end < 0 || end > len {
        if start > len {
            return Err(bounds(Some(start), len, x.len()));
        }
        return Ok(bytes(x, start as usize, x.len()));
    }
    if start > end {
        return Err(bounds(Some(start), end, x.len()));
    }
    Ok(bytes(x, start as usize, end as usize))
}

fn trunc(c: i64, x: &str) -> String {
    let len = x.len() as i64;
    if c < 0 && len + c > 0 {
        return bytes(x, (len + c) as usize, x.len());
    }
    if c >= 0 && len > c {
        return bytes(x, 0, c as usize);
    }
    x.to_string()
}

fn abbrev(width: i64, x: &str) -> String {
    if width < 4 || x.len() as i64 <= width {
        return x.to_string();
    }
    format!("{}...", bytes(x, 0, width as usize - 3))
}

/// Sprig's `abbrevboth`: goutils `AbbreviateFull` with ellipses at both
/// ends around the text from `offset`.
fn abbrevboth(offset: i64, width: i64, x: &str) -> String {
    if width < 4 || (offset > 0 && width < 7) || x.len() as i64 <= width {
        return x.to_string();
    }
    let len = x.len() as i64;
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return format!("{}...", bytes(x, 0, width as usize - 3));
    }
    if offset + width - 3 < len {
        return format!("...{}", abbrev(width - 3, &bytes(x, offset as usize, x.len())));
    }
    format!("...{}", bytes(x, (len - (width - 3)) as usize, x.len()))
}

/// goutils `WrapCustom`: breaks at the last space within `width` bytes;
/// a longer word is cut at `width` (`long_words`) or runs to the next space.
fn wrap_custom(x: &str, width: i64, nl: &str, long_words: bool) -> String {
    let nl = if nl.is_empty() { "\n" } else { nl };
    let width = width.max(1) as usize;
    let b = x.as_bytes();
    let mut out = String::new();
    let mut off = 0;
    while b.len() - off > width {
        if b[off] == b' ' {
            off += 1;
            continue;
        }
        let end = width + off + 1;
        if let Some(sp) = b[off..end].iter().rposition(|&c| c == b' ') {
            out += &bytes(x, off, off + sp);
            out += nl;
            off += sp + 1;
        } else if long_words {
            out += &bytes(x, off, off + width);
            out += nl;
            off += width;
        } else {
            let end = width + off;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out += &bytes(x, off, b.len());
                    off = b.len();
                }
                Some(i) => {
                    out += &bytes(x, off, end + i);
                    out += nl;
                    off = end + i + 1;
                }
            }
        }
    }
    out += &bytes(x, off, b.len());
    out
}

/// Go's `strings.SplitN` (`n < 0`: all parts).
pub(super) fn go_split(x: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    if sep.is_empty() {
        let chars: Vec<&str> = x.split("").filter(|p| !p.is_empty()).collect();
        if chars.len() <= limit {
            return chars.into_iter().map(String::from).collect();
        }
        let mut v: Vec<String> = chars[..limit - 1].iter().map(|c| c.to_string()).collect();
        v.push(chars[limit - 1..].concat());
        return v;
    }
    x.splitn(limit, sep).map(String::from).collect()
}

/// `split`/`splitn`: a `map[string]string` from `_0`, `_1`, ...
fn split_map(x: &str, sep: &str, n: i64) -> Value {
    let entries: BTreeMap<String, Value> =
        go_split(x, sep, n).into_iter().enumerate().map(|(i, p)| (format!("_{i}"), Value::from(p))).collect();
    Value::Map(Map { entries: Rc::new(RefCell::new(entries)), ty: "map[string]string" })
}

/// Sprig's `strslice`: a list's non-nil items as strings; a non-list as
/// one string; nil as none.
pub(super) fn strslice(v: &Value) -> Vec<String> {
    match v.underlying() {
        Value::List(l) => l.items.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        Value::Missing | Value::Nil => Vec::new(),
        x => vec![strval(&x)],
    }
}

fn sort_alpha(v: &Value) -> Vec<String> {
    match v.underlying() {
        Value::List(_) => {
            let mut out = strslice(v);
            out.sort();
            out
        }
        x => vec![strval(&x)],
    }
}

/// `strconv.Atoi`, 0 on error.
fn atoi(x: &str) -> i64 {
    let digits = x.strip_prefix(['+', '-']).unwrap_or(x);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    x.parse().unwrap_or(0)
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(x: &str) -> String {
    let mut out = String::with_capacity(x.len());
    for c in x.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `regexp.MustCompile`; its panic becomes the error.
fn compile(re: &str) -> Result<regex::Regex, crate::gotmpl::Error> {
    regex::Regex::new(re).map_err(|e| {
        let msg = match e {
            regex::Error::Syntax(m) => m.lines().last().unwrap_or_default().trim_start_matches("error: ").to_string(),
            e => e.to_string(),
        };
        err(format!("regexp: Compile({}): error parsing regexp: {msg}", go_quote(re).replace('"', "`")))
    })
}

/// Go's `Regexp.Split`.
fn regex_split(re: &regex::Regex, expr: &str, x: &str, n: i64) -> R {
    if n == 0 {
        return Ok(Value::string_list(Vec::new()));
    }
    if !expr.is_empty() && x.is_empty() {
        return Ok(Value::string_list(vec![String::new()]));
    }
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in re.find_iter(x) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(x[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != x.len() {
        parts.push(x[beg..].to_string());
    }
    Ok(Value::string_list(parts))
}
