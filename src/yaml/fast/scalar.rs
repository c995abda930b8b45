//! The fast reader's scalars: one-line and folded plain scalars, quoted
//! scalars (over lines too), literal blocks and one-line flow collections.

use serde_json::{Map, Value};

use super::{DuplicateKeys, GiveUp, R, Reader, find_value_colon, is_indicator};
use crate::yaml::resolve::{resolve_plain, scalar_to_json};

impl<'a> Reader<'a> {
    /// The scalar (or one-line flow collection) in `[from, to)` of one
    /// line, in a collection at column `n`.
    pub(super) fn scalar(&mut self, from: usize, to: usize, n: usize, depth: usize) -> R<Value> {
        let t = self.s(from, to);
        let value = match t.as_bytes()[0] {
            b'|' => return self.literal(t, n),
            b'"' | b'\'' | b'[' | b'{' => {
                let (v, rest) = if matches!(t.as_bytes()[0], b'[' | b'{') {
                    let (v, len) = self.flow(t, depth)?;
                    (v, &t[len..])
                } else if let Ok((s, len)) = quoted(t) {
                    (Value::String(s), &t[len..])
                } else {
                    let (s, rest) = self.quoted_lines(t, n)?;
                    (Value::String(s), rest)
                };
                let trimmed = rest.trim_start_matches(' ');
                if !(trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())) {
                    return Err(GiveUp(line!()));
                }
                v
            }
            c if is_indicator(c) => return Err(GiveUp(line!())),
            b'-' | b'?' | b':' if t.len() == 1 || t.as_bytes()[1] == b' ' => return Err(GiveUp(line!())),
            _ => {
                let end = plain_end(t.as_bytes())?;
                let s = t[..end].trim_end_matches(' ');
                if end == t.len()
                    && let Some(folded) = self.plain_continued(s, n)?
                {
                    return scalar_to_json(resolve_plain(&folded, self.dialect), &folded).map_err(|_| GiveUp(line!()));
                }
                scalar_to_json(resolve_plain(s, self.dialect), s).map_err(|_| GiveUp(line!()))?
            }
        };
        // more-indented lines after it would continue a multi-line scalar
        if let Some(l) = self.peek()?
            && l.indent > n
        {
            return Err(GiveUp(line!()));
        }
        Ok(value)
    }

    /// The lines that continue the plain scalar `first` (more indented than
    /// `n`), folded: `None` when none follows.
    fn plain_continued(&mut self, first: &str, n: usize) -> R<Option<String>> {
        if self.pending.is_some() {
            return Ok(None);
        }
        let mut out: Option<String> = None;
        let mut blanks = 0;
        loop {
            let (save_pos, save_no) = (self.pos, self.no);
            let Some((start, end)) = self.raw_line() else { break };
            let line = &self.b[start..end];
            let sp = line.iter().take_while(|&&c| c == b' ').count();
            if sp == line.len() {
                blanks += 1;
                continue;
            }
            if sp <= n {
                (self.pos, self.no) = (save_pos, save_no);
                break;
            }
            if line[sp] == b'#' {
                // a comment ends the scalar
                (self.pos, self.no) = (save_pos, save_no);
                break;
            }
            let mut text = self.s(start + sp, end);
            let comment = text.find(" #");
            if let Some(at) = comment {
                text = &text[..at];
            }
            let text = text.trim_end_matches(' ');
            // `key: ` inside: left to the full reader
            if self.tabs && line.contains(&b'\t') || find_value_colon(text.as_bytes()).is_some() {
                return Err(GiveUp(line!()));
            }
            let out = out.get_or_insert_with(|| first.to_string());
            if blanks == 0 {
                out.push(' ');
            }
            for _ in 0..blanks {
                out.push('\n');
            }
            blanks = 0;
            out.push_str(text);
            if comment.is_some() {
                break;
            }
        }
        Ok(out)
    }

    /// A quoted scalar that starts at `t` and goes on over the next lines
    /// (more indented than `n`), folded: its value and what follows its
    /// closing quote on its last line.
    fn quoted_lines(&mut self, t: &'a str, n: usize) -> R<(String, &'a str)> {
        let double = t.starts_with('"');
        let mut out = String::new();
        let mut cur = &t[1..];
        loop {
            let b = cur.as_bytes();
            let (mut i, mut run) = (0, 0);
            let mut escaped_break = false;
            while i < b.len() {
                match b[i] {
                    b'\'' if !double => {
                        out.push_str(&cur[run..i]);
                        if b.get(i + 1) == Some(&b'\'') {
                            out.push('\'');
                            i += 2;
                            run = i;
                            continue;
                        }
                        return Ok((out, &cur[i + 1..]));
                    }
                    b'"' if double => {
                        out.push_str(&cur[run..i]);
                        return Ok((out, &cur[i + 1..]));
                    }
                    b'\\' if double && i + 1 == b.len() => {
                        out.push_str(&cur[run..i]);
                        escaped_break = true;
                        run = b.len();
                        break;
                    }
                    b'\\' if double => {
                        out.push_str(&cur[run..i]);
                        i = escape(cur, i, &mut out)?;
                        run = i;
                    }
                    _ => i += 1,
                }
            }
            out.push_str(cur[run..].trim_end_matches(' '));
            if out.is_empty() {
                return Err(GiveUp(line!()));
            }
            let mut blanks = 0;
            loop {
                let Some((start, end)) = self.raw_line() else { return Err(GiveUp(line!())) };
                let line = &self.b[start..end];
                let sp = line.iter().take_while(|&&c| c == b' ').count();
                if sp == line.len() {
                    blanks += 1;
                    continue;
                }
                if sp <= n || self.tabs && line.contains(&b'\t') || escaped_break && blanks > 0 {
                    return Err(GiveUp(line!()));
                }
                cur = self.s(start + sp, end);
                break;
            }
            if escaped_break {
                continue;
            }
            if blanks == 0 {
                out.push(' ');
            }
            for _ in 0..blanks {
                out.push('\n');
            }
        }
    }

    /// A literal block scalar (`|` or `|-`) whose header is `header`, in a
    /// collection at column `n`: its lines follow.
    fn literal(&mut self, header: &str, n: usize) -> R<Value> {
        let strip = match header.as_bytes().get(1) {
            None | Some(b' ') => false,
            Some(b'-') => true,
            _ => return Err(GiveUp(line!())),
        };
        let rest = &header[1 + usize::from(strip)..];
        let trimmed = rest.trim_start_matches(' ');
        if !(trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())) {
            return Err(GiveUp(line!()));
        }
        let mut out = String::new();
        let mut indent = 0;
        // blank lines seen since the last content line
        let mut blanks = 0usize;
        let mut lead_spaces = 0;
        loop {
            let (save_pos, save_no) = (self.pos, self.no);
            let Some((start, end)) = self.raw_line() else {
                // the full reader keeps trailing blank lines at the end of the text
                if blanks > 0 && self.end == self.b.len() {
                    return Err(GiveUp(line!()));
                }
                break;
            };
            let line = &self.b[start..end];
            let sp = line.iter().take_while(|&&c| c == b' ').count();
            if sp == line.len() {
                if indent > 0 && sp > indent {
                    return Err(GiveUp(line!()));
                }
                lead_spaces = lead_spaces.max(sp);
                blanks += 1;
                continue;
            }
            if indent == 0 {
                if sp <= n {
                    (self.pos, self.no) = (save_pos, save_no);
                    break;
                }
                // leading blank lines may not be longer than the indentation
                if lead_spaces > sp {
                    return Err(GiveUp(line!()));
                }
                indent = sp;
            } else if sp < indent {
                (self.pos, self.no) = (save_pos, save_no);
                break;
            }
            if !out.is_empty() || blanks > 0 {
                for _ in 0..blanks + usize::from(!out.is_empty()) {
                    out.push('\n');
                }
            }
            blanks = 0;
            out.push_str(self.s(start + indent, end));
        }
        if indent == 0 {
            // no content
            return Err(GiveUp(line!()));
        }
        if !strip {
            out.push('\n');
        }
        Ok(Value::String(out))
    }
}

impl Reader<'_> {
    /// A one-line flow collection at the start of `t` (JSON-like: quoted
    /// scalars, plain scalars without `:` or `#`, `key: value` pairs): its
    /// value and length.
    fn flow(&self, t: &str, depth: usize) -> R<(Value, usize)> {
        if depth + 2 >= self.max_depth {
            return Err(GiveUp(line!()));
        }
        let b = t.as_bytes();
        let close = if b[0] == b'[' { b']' } else { b'}' };
        let mut i = skip_spaces(b, 1);
        let mut items = Vec::new();
        let mut map = Map::new();
        if b.get(i) == Some(&close) {
            return Ok((if close == b']' { Value::Array(items) } else { Value::Object(map) }, i + 1));
        }
        loop {
            if close == b'}' {
                let (key, len) = match b.get(i) {
                    Some(b'"' | b'\'') => quoted(&t[i..])?,
                    _ => {
                        let len = flow_plain_len(&b[i..])?;
                        (self.plain_key(&t[i..i + len])?, len)
                    }
                };
                i = skip_spaces(b, i + len);
                if b.get(i) != Some(&b':') || b.get(i + 1) != Some(&b' ') {
                    return Err(GiveUp(line!()));
                }
                i = skip_spaces(b, i + 1);
                let (v, len) = self.flow_node(&t[i..], depth)?;
                if self.duplicates == DuplicateKeys::Error && map.contains_key(&key) {
                    return Err(GiveUp(line!()));
                }
                map.insert(key, v);
                i += len;
            } else {
                let (v, len) = self.flow_node(&t[i..], depth)?;
                items.push(v);
                i += len;
            }
            i = skip_spaces(b, i);
            match b.get(i) {
                Some(&c) if c == close => {
                    let v = if close == b']' { Value::Array(items) } else { Value::Object(map) };
                    return Ok((v, i + 1));
                }
                Some(b',') => {
                    i = skip_spaces(b, i + 1);
                    // `[a, ]`, `[a,,b]`: left to the full reader
                    if matches!(b.get(i), None | Some(b',' | b']' | b'}')) {
                        return Err(GiveUp(line!()));
                    }
                }
                _ => return Err(GiveUp(line!())),
            }
        }
    }

    /// One entry of a flow collection: its value and length.
    fn flow_node(&self, t: &str, depth: usize) -> R<(Value, usize)> {
        match t.as_bytes().first() {
            Some(b'[' | b'{') => self.flow(t, depth + 1),
            Some(b'"' | b'\'') => quoted(t).map(|(s, len)| (Value::String(s), len)),
            Some(_) => {
                let len = flow_plain_len(t.as_bytes())?;
                let s = &t[..len];
                Ok((scalar_to_json(resolve_plain(s, self.dialect), s).map_err(|_| GiveUp(line!()))?, len))
            }
            None => Err(GiveUp(line!())),
        }
    }
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// The length of a plain scalar in a flow collection (trailing spaces
/// excluded): letters, digits, spaces inside and `-._/@+~=$%^()<>;` only,
/// not starting with an indicator.
fn flow_plain_len(b: &[u8]) -> R<usize> {
    let first = *b.first().ok_or(GiveUp(line!()))?;
    let negative_number = first == b'-' && b.get(1).is_some_and(u8::is_ascii_digit);
    if (is_indicator(first) || matches!(first, b' ' | b'-' | b'?' | b':' | b'\'' | b'"')) && !negative_number {
        return Err(GiveUp(line!()));
    }
    let mut end = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.' | b'_' | b'/' | b'@' | b'+' | b'~' | b'=' | b'$' | b'^' | b'(' | b')' | b'<' | b'>' | b';'
            )
        {
            end = i + 1;
        } else if c != b' ' {
            break;
        }
        i += 1;
    }
    if end == 0 {
        return Err(GiveUp(line!()));
    }
    Ok(end)
}

/// Where a one-line plain scalar ends (before a comment); a `: ` inside is
/// a syntax error the full reader reports.
fn plain_end(b: &[u8]) -> R<usize> {
    for i in 0..b.len() {
        match b[i] {
            b':' if i + 1 == b.len() || b[i + 1] == b' ' => return Err(GiveUp(line!())),
            b'#' if i > 0 && b[i - 1] == b' ' => return Ok(i),
            _ => {}
        }
    }
    Ok(b.len())
}

/// A one-line quoted scalar at the start of `t`: its value and length.
pub(super) fn quoted(t: &str) -> R<(String, usize)> {
    let b = t.as_bytes();
    let mut out = String::new();
    if b[0] == b'\'' {
        let mut i = 1;
        let mut run = 1;
        while i < b.len() {
            if b[i] == b'\'' {
                out.push_str(&t[run..i]);
                if b.get(i + 1) == Some(&b'\'') {
                    out.push('\'');
                    i += 2;
                    run = i;
                    continue;
                }
                return Ok((out, i + 1));
            }
            i += 1;
        }
        return Err(GiveUp(line!()));
    }
    let mut i = 1;
    let mut run = 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                out.push_str(&t[run..i]);
                return Ok((out, i + 1));
            }
            b'\\' => {
                out.push_str(&t[run..i]);
                i = escape(t, i, &mut out)?;
                run = i;
            }
            _ => i += 1,
        }
    }
    Err(GiveUp(line!()))
}

/// The escape at `t[i]` (a backslash) of a double-quoted scalar, decoded
/// into `out`: where the text goes on.
fn escape(t: &str, i: usize, out: &mut String) -> R<usize> {
    let b = t.as_bytes();
    let e = *b.get(i + 1).ok_or(GiveUp(line!()))?;
    let simple = match e {
        b'0' => Some('\0'),
        b'a' => Some('\x07'),
        b'b' => Some('\x08'),
        b't' => Some('\t'),
        b'n' => Some('\n'),
        b'v' => Some('\x0b'),
        b'f' => Some('\x0c'),
        b'r' => Some('\r'),
        b'e' => Some('\x1b'),
        b' ' => Some(' '),
        b'"' => Some('"'),
        b'/' => Some('/'),
        b'\\' => Some('\\'),
        b'N' => Some('\u{85}'),
        b'_' => Some('\u{a0}'),
        b'L' => Some('\u{2028}'),
        b'P' => Some('\u{2029}'),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return Ok(i + 2);
    }
    let digits = match e {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        _ => return Err(GiveUp(line!())),
    };
    let hex = t.get(i + 2..i + 2 + digits).ok_or(GiveUp(line!()))?;
    if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(GiveUp(line!()));
    }
    let code = u32::from_str_radix(hex, 16).map_err(|_| GiveUp(line!()))?;
    out.push(char::from_u32(code).ok_or(GiveUp(line!()))?);
    Ok(i + 2 + digits)
}
