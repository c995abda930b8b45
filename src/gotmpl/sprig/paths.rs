//! Slash-separated path functions (`base`, `dir`, `clean`, `ext`,
//! `isAbs`, and the `os...` variants, which on Unix are the same) with
//! Go's `path` package rules.

use super::{Body, add, string_arg};
use crate::gotmpl::value::{Arity, Func, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    let fs: &[(&str, Body)] = &[
        ("base", |a| Ok(Value::from(base(string_arg(a, 0)?)))),
        ("dir", |a| Ok(Value::from(dir(string_arg(a, 0)?)))),
        ("clean", |a| Ok(Value::from(clean(string_arg(a, 0)?)))),
        ("ext", |a| Ok(Value::from(ext(string_arg(a, 0)?)))),
        ("isAbs", |a| Ok(Value::Bool(string_arg(a, 0)?.starts_with('/')))),
    ];
    for (name, body) in fs {
        add(v, name, Arity::Exact(1), *body);
        let os = format!("os{}{}", name[..1].to_uppercase(), &name[1..]);
        add(v, &os, Arity::Exact(1), *body);
    }
}

/// `path.Clean`: one slash between names, no `.`, `..` resolved
/// lexically, no trailing slash; `""` is `.`.
pub(super) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for name in p.split('/') {
        match name {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            n => parts.push(n),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `path.Base`: the last element; `.` for empty, `/` for only slashes.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// `path.Dir`: everything but the last element, cleaned.
fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// `path.Ext`: from the last dot of the last element.
fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return p[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}
