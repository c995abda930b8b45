//! Literals as Go's parser reads them: numbers typed as `idealConstant`
//! types them (`3` an int, `3.0` and `1e6` float64, `'a'` an int, base
//! prefixes, `_` separators) and strings unquoted as `strconv.Unquote`.

use super::ast::NumValue;

/// A number literal's value as Go's `idealConstant` types it.
pub fn number(text: &str) -> Result<NumValue, String> {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, &clean[..]),
    };
    let lower = body.to_ascii_lowercase();
    let radix_int = if let Some(h) = lower.strip_prefix("0x") {
        if h.contains('p') { None } else { Some(u64::from_str_radix(h, 16)) }
    } else if let Some(o) = lower.strip_prefix("0o") {
        Some(u64::from_str_radix(o, 8))
    } else if let Some(b) = lower.strip_prefix("0b") {
        Some(u64::from_str_radix(b, 2))
    } else if !lower.contains(['.', 'e']) {
        if lower.len() > 1 && lower.starts_with('0') {
            Some(u64::from_str_radix(&lower[1..], 8))
        } else {
            Some(lower.parse::<u64>())
        }
    } else {
        None
    };
    match radix_int {
        Some(Ok(u)) => {
            let i = if neg { 0i128 - u as i128 } else { u as i128 };
            Ok(i64::try_from(i).map_or(NumValue::Overflow, NumValue::Int))
        }
        Some(Err(_)) if lower.bytes().all(|c| c.is_ascii_hexdigit() || c == b'x' || c == b'o') && !lower.is_empty() => {
            // Too large for 64 bits: Go parses it as a float, then rejects it.
            Err(format!("integer overflow: {text:?}"))
        }
        Some(Err(_)) => Err(format!("illegal number syntax: {text:?}")),
        None => match clean.parse::<f64>() {
            Ok(f) => Ok(NumValue::Float(f)),
            Err(_) => Err(format!("illegal number syntax: {text:?}")),
        },
    }
}

pub fn unquote_char(q: &str) -> Result<char, String> {
    let inner = &q[1..q.len() - 1];
    let s = unescape(inner, '\'').map_err(|_| format!("malformed character constant: {q}"))?;
    let mut cs = s.chars();
    match (cs.next(), cs.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(format!("malformed character constant: {q}")),
    }
}

/// Go's `strconv.Unquote` for "..." and `...` strings.
pub fn unquote(q: &str) -> Result<String, String> {
    if q.len() >= 2 && q.starts_with('`') && q.ends_with('`') {
        return Ok(q[1..q.len() - 1].replace('\r', ""));
    }
    if q.len() >= 2 && q.starts_with('"') && q.ends_with('"') {
        return unescape(&q[1..q.len() - 1], '"').map_err(|_| "invalid syntax".to_string());
    }
    Err("invalid syntax".into())
}

fn unescape(s: &str, quote: char) -> Result<String, ()> {
    let mut out = String::with_capacity(s.len());
    let mut cs = s.chars();
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(c) = cs.next() {
        if c != '\\' {
            if c == quote {
                return Err(());
            }
            flush(&mut bytes, &mut out)?;
            out.push(c);
            continue;
        }
        let e = cs.next().ok_or(())?;
        let hex = |cs: &mut std::str::Chars<'_>, n: usize| -> Result<u32, ()> {
            let h: String = cs.by_ref().take(n).collect();
            if h.len() != n {
                return Err(());
            }
            u32::from_str_radix(&h, 16).map_err(|_| ())
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' | '"' if e == quote => out.push(e),
            'x' => {
                bytes.push(hex(&mut cs, 2)? as u8);
                continue;
            }
            'u' => out.push(char::from_u32(hex(&mut cs, 4)?).ok_or(())?),
            'U' => out.push(char::from_u32(hex(&mut cs, 8)?).ok_or(())?),
            '0'..='7' => {
                let rest: String = cs.by_ref().take(2).collect();
                let v = u32::from_str_radix(&format!("{e}{rest}"), 8).map_err(|_| ())?;
                if v > 255 || rest.len() != 2 {
                    return Err(());
                }
                bytes.push(v as u8);
                continue;
            }
            _ => return Err(()),
        }
        // Keep byte escapes and the characters that follow in order.
        if !bytes.is_empty() {
            let last = out.pop();
            flush(&mut bytes, &mut out)?;
            out.extend(last);
        }
    }
    flush(&mut bytes, &mut out)?;
    Ok(out)
}

/// Appends pending `\x` bytes (invalid UTF-8 becomes U+FFFD).
fn flush(bytes: &mut Vec<u8>, out: &mut String) -> Result<(), ()> {
    if !bytes.is_empty() {
        out.push_str(&String::from_utf8_lossy(bytes));
        bytes.clear();
    }
    Ok(())
}
