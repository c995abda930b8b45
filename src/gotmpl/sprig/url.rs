//! `urlParse` and `urlJoin` with Go's `net/url` rules for the common
//! cases: scheme, `//userinfo@host`, opaque forms (`mailto:x`), decoded
//! path and fragment, raw query; `urlJoin` escapes path and fragment as
//! `URL.String` does.

use super::{R, add, err, map_arg, string_arg};
use crate::gotmpl::value::{Arity, Func, Map, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "urlParse", Arity::Exact(1), |a| parse(string_arg(a, 0)?));
    add(v, "urlJoin", Arity::Exact(1), |a| join(&map_arg(a, 0)?.unwrap_or_default()));
}

fn unhex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `url.PathUnescape`-style decoding; the error names the bad escape.
fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1).and_then(|&c| unhex(c)), b.get(i + 2).and_then(|&c| unhex(c))) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => {
                    return Err(format!(
                        "invalid URL escape {}",
                        crate::gotmpl::fmt::quote(&s[i..(i + 3).min(s.len())])
                    ));
                }
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn parse(raw: &str) -> R {
    let fail = |e: String| err(format!("unable to parse url: parse {}: {e}", crate::gotmpl::fmt::quote(raw)));
    let (rest, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    let fragment = unescape(fragment).map_err(fail)?;
    let (scheme, mut rest) = match rest.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c))) {
        Some(0) if rest.starts_with(':') => return Err(fail("missing protocol scheme".into())),
        Some(i) if rest.as_bytes()[i] == b':' && rest.as_bytes()[0].is_ascii_alphabetic() => {
            (&rest[..i], &rest[i + 1..])
        }
        _ => ("", rest),
    };
    let mut query = "";
    if let Some((r, q)) = rest.split_once('?') {
        rest = r;
        query = q;
    }
    let m = Map::new();
    let set = |k: &str, v: &str| m.insert(k, Value::str(v));
    set("scheme", &scheme.to_ascii_lowercase());
    set("query", query);
    set("fragment", &fragment);
    let (mut host, mut user, mut opaque, mut path) = (String::new(), String::new(), String::new(), String::new());
    if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest.to_string();
    } else {
        if rest.starts_with("//") && (!scheme.is_empty() || !rest.starts_with("///")) {
            let after = &rest[2..];
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            rest = &after[end..];
            let hostpart = match authority.rsplit_once('@') {
                Some((u, h)) => {
                    user = unescape(u).map_err(fail)?;
                    h
                }
                None => authority,
            };
            host = unescape(hostpart).map_err(fail)?;
        }
        path = unescape(rest).map_err(fail)?;
    }
    set("host", &host);
    set("hostname", &hostname(&host));
    set("userinfo", &user);
    set("opaque", &opaque);
    set("path", &path);
    Ok(Value::Map(m))
}

/// `URL.Hostname`: the host without port or IPv6 brackets.
fn hostname(host: &str) -> String {
    let h = match host.rfind(':') {
        Some(i) if host[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &host[..i],
        _ => host,
    };
    h.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(h).to_string()
}

/// Percent-escapes all but unreserved characters and `keep`.
fn escape(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn join(d: &Map) -> R {
    let get = |k: &str| -> Result<String, crate::gotmpl::Error> {
        match d.get(k) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(v) => {
                Err(err(format!("unable to parse {k} key, must be of type string, but {} found", v.type_name())))
            }
        }
    };
    let (scheme, host, path, query, opaque, fragment, user) =
        (get("scheme")?, get("host")?, get("path")?, get("query")?, get("opaque")?, get("fragment")?, get("userinfo")?);
    let mut out = String::new();
    if !scheme.is_empty() {
        out += &scheme;
        out.push(':');
    }
    if !opaque.is_empty() {
        out += &opaque;
    } else {
        if (!scheme.is_empty() || !host.is_empty() || !user.is_empty())
            && (!host.is_empty() || !path.is_empty() || !user.is_empty())
        {
            out += "//";
            if !user.is_empty() {
                out += &user;
                out.push('@');
            }
            out += &host;
        }
        let p = escape(&path, "$&+,/:;=@");
        if !p.is_empty() && !p.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        out += &p;
    }
    if !query.is_empty() {
        out.push('?');
        out += &query;
    }
    if !fragment.is_empty() {
        out.push('#');
        out += &escape(&fragment, "$&+,/:;=?@!()*");
    }
    Ok(Value::from(out))
}
