//! Scalar resolution: what an untagged YAML scalar means.
//!
//! Two dialects exist because the tools our users compare us with disagree:
//! kubectl decodes YAML 1.1 (go-yaml v2 through sigs.k8s.io/yaml), where
//! `yes`/`on` are booleans and `0644` is octal, while kustomize (go-yaml v3)
//! keeps `yes`/`on` strings. Numbers follow what the JSON hop in kubectl does:
//! a float with an integral value becomes an integer (`1e3` is `1000`).

use serde_json::{Number, Value};

/// Which tool's reading of YAML scalars to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// YAML 1.1 as kubectl reads manifests (go-yaml v2).
    #[default]
    Kubectl,
    /// YAML 1.2 core schema plus 1.1 octals, as kustomize (go-yaml v3) reads.
    Kustomize,
}

/// A resolved plain scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
    /// The `<<` merge key.
    Merge,
}

/// Resolve a plain (unquoted, untagged) scalar.
pub fn resolve_plain(s: &str, dialect: Dialect) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        "<<" => return Scalar::Merge,
        _ => {}
    }
    if dialect == Dialect::Kubectl {
        match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Scalar::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Scalar::Bool(false),
            _ => {}
        }
    }
    let first = s.as_bytes()[0];
    match first {
        b'.' => parse_go_float(s).map_or(Scalar::Str, Scalar::Float),
        b'0'..=b'9' | b'+' | b'-' => resolve_number(s),
        _ => Scalar::Str,
    }
}

/// go-yaml's 'D'/'S' branch: integer (any Go base prefix, `_` ignored),
/// then a YAML-style float, then `0b` binary.
fn resolve_number(s: &str) -> Scalar {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(v) = parse_go_int(&plain) {
        return Scalar::Int(v);
    }
    if let Some(v) = parse_go_uint(&plain) {
        return Scalar::Uint(v);
    }
    if is_yaml_style_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    Scalar::Str
}

/// `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b`, a
/// leading `0` (octal) or decimal digits.
fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mag = parse_go_magnitude(body)?;
    if neg {
        if mag == (i64::MAX as u64) + 1 { Some(i64::MIN) } else { i64::try_from(mag).ok().map(|v| -v) }
    } else {
        i64::try_from(mag).ok()
    }
}

fn parse_go_uint(s: &str) -> Option<u64> {
    let body = s.strip_prefix('+').unwrap_or(s);
    parse_go_magnitude(body)
}

fn parse_go_magnitude(body: &str) -> Option<u64> {
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
        (2, r)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat` for the `.`-prefixed branch (`.5`, `.5e3`).
fn parse_go_float(s: &str) -> Option<f64> {
    if is_yaml_style_float(s) { s.parse().ok() } else { None }
}

/// Convert a resolved scalar to JSON the way kubectl's YAML -> JSON -> object
/// path does: integral floats within the int64 range become integers.
pub fn scalar_to_json(scalar: Scalar, text: &str) -> Result<Value, String> {
    Ok(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::Number(i.into()),
        Scalar::Uint(u) => Value::Number(u.into()),
        Scalar::Float(f) => {
            float_to_json(f).ok_or_else(|| format!("unsupported value {text:?}: JSON has no NaN or infinity"))?
        }
        Scalar::Str | Scalar::Merge => Value::String(text.to_string()),
    })
}

/// A float as JSON: integral values below 1e21 become integers, as Go's
/// encoder writes them without a fraction and kubectl reads them back as int64.
pub fn float_to_json(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 {
        return Some(Value::Number((f as i64).into()));
    }
    Number::from_f64(f).map(Value::Number)
}

/// Would a plain scalar with this text read back as something other than
/// this string, in either dialect? Used by the emitter to decide quoting.
pub fn plain_is_ambiguous(s: &str) -> bool {
    !matches!(resolve_plain(s, Dialect::Kubectl), Scalar::Str)
        || !matches!(resolve_plain(s, Dialect::Kustomize), Scalar::Str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Scalar {
        resolve_plain(s, Dialect::Kubectl)
    }

    #[test]
    fn yaml11_booleans_and_nulls() {
        assert_eq!(k("yes"), Scalar::Bool(true));
        assert_eq!(k("On"), Scalar::Bool(true));
        assert_eq!(k("off"), Scalar::Bool(false));
        assert_eq!(k("n"), Scalar::Bool(false));
        assert_eq!(k("~"), Scalar::Null);
        assert_eq!(k(""), Scalar::Null);
        assert_eq!(resolve_plain("on", Dialect::Kustomize), Scalar::Str);
        assert_eq!(resolve_plain("yes", Dialect::Kustomize), Scalar::Str);
        assert_eq!(k("yess"), Scalar::Str);
    }

    #[test]
    fn go_integers() {
        assert_eq!(k("0644"), Scalar::Int(420));
        assert_eq!(k("0o17"), Scalar::Int(15));
        assert_eq!(k("0x1F"), Scalar::Int(31));
        assert_eq!(k("0b101"), Scalar::Int(5));
        assert_eq!(k("-42"), Scalar::Int(-42));
        assert_eq!(k("+7"), Scalar::Int(7));
        assert_eq!(k("1_000"), Scalar::Int(1000));
        assert_eq!(k("18446744073709551615"), Scalar::Uint(u64::MAX));
        assert_eq!(k("-9223372036854775808"), Scalar::Int(i64::MIN));
        // 08 is not octal; go-yaml falls through to its float pattern.
        assert_eq!(k("08"), Scalar::Float(8.0));
    }

    #[test]
    fn go_floats() {
        assert_eq!(k("1e3"), Scalar::Float(1000.0));
        assert_eq!(k(".5"), Scalar::Float(0.5));
        assert_eq!(k("-.5"), Scalar::Float(-0.5));
        assert_eq!(k("1."), Scalar::Float(1.0));
        assert_eq!(k("1.5e-3"), Scalar::Float(0.0015));
        assert_eq!(k("1.2.3"), Scalar::Str);
        assert_eq!(k("1e"), Scalar::Str);
        assert_eq!(k("."), Scalar::Str);
        assert_eq!(k("-"), Scalar::Str);
        assert_eq!(k("2024-01-02"), Scalar::Str);
        assert_eq!(k("1.20"), Scalar::Float(1.2));
    }

    #[test]
    fn json_conversion_follows_kubectl() {
        assert_eq!(scalar_to_json(k("1e3"), "1e3").unwrap(), serde_json::json!(1000));
        assert_eq!(scalar_to_json(k("1.0"), "1.0").unwrap(), serde_json::json!(1));
        assert_eq!(scalar_to_json(k("0.25"), "0.25").unwrap(), serde_json::json!(0.25));
        assert!(scalar_to_json(k(".nan"), ".nan").is_err());
    }

    #[test]
    fn ambiguity_for_emitter() {
        for s in ["yes", "on", "0644", "1e3", "null", "", "~", "true", "12", "<<", ".5", "-1"] {
            assert!(plain_is_ambiguous(s), "{s}");
        }
        for s in ["nginx", "1.2.3", "v1", "a b"] {
            assert!(!plain_is_ambiguous(s), "{s}");
        }
    }
}
