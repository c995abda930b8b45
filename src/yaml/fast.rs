//! A fast reader for the block YAML that templates and tools write: block
//! mappings and sequences (compact ones too), one-line plain and quoted
//! scalars, literal block scalars (`|`, `|-`), comments, `---` between
//! documents. It reads most manifests several times faster than composing
//! saphyr-parser's events, and gives up ([`GiveUp`]) on anything else: flow
//! collections, anchors, aliases, tags, `<<`, multi-line plain or quoted
//! scalars, folded or kept block scalars, tabs outside block scalars,
//! control characters, directives, keys the reader would refuse. The caller
//! then reads the whole stream with the full reader, so errors and rare
//! syntax are always the full reader's.
//!
//! Invariant: whatever this reader accepts, it reads exactly as the full
//! reader does (values, key conversion, duplicate keys, document lines).
//! `tests.rs` checks it against the full reader on every YAML file under
//! `tests/data` and on generated text.

use serde_json::{Map, Value};

use super::resolve::{Scalar, resolve_plain, scalar_to_json};
use super::{Dialect, Document, DuplicateKeys};

/// The text is outside what this reader handles (the source line that
/// gave up, for tests).
#[derive(Debug)]
pub(super) struct GiveUp(#[cfg_attr(not(test), allow(dead_code))] pub u32);

type R<T> = Result<T, GiveUp>;

/// Longest implicit key YAML allows.
const MAX_KEY: usize = 1024;

/// Every document of `text`, or [`GiveUp`].
pub(super) fn parse_stream(
    text: &str,
    dialect: Dialect,
    duplicates: DuplicateKeys,
    max_depth: usize,
) -> R<Vec<Document>> {
    if !plain_text(text.as_bytes()) {
        return Err(GiveUp(line!()));
    }
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        pos: 0,
        end: 0,
        no: 1,
        pending: None,
        tabs: memchr(b'\t', text.as_bytes()).is_some(),
        dialect,
        duplicates,
        max_depth,
    };
    let mut docs = Vec::new();
    let mut explicit = false;
    loop {
        // the document runs to the next marker line
        let (end, marker) = r.find_marker(r.pos)?;
        r.end = end;
        match r.peek()? {
            Some(first) => {
                let line = first.no;
                let value = r.node(first, 0, 0)?;
                if r.peek()?.is_some() {
                    return Err(GiveUp(line!()));
                }
                docs.push(Document { value, line });
            }
            // a `---` with nothing after it is an empty document, at the
            // next `---` or past the end (the full reader ends an
            // unterminated last line); before the first `---`, nothing
            None if explicit => {
                let line = match marker {
                    Some(_) => r.line_no_at(end),
                    None => 1 + memchr_count(b'\n', text.as_bytes()) + usize::from(!text.ends_with('\n')),
                };
                docs.push(Document { value: Value::Null, line });
            }
            None => {}
        }
        let Some(next) = marker else { break };
        r.no = r.line_no_at(next);
        r.pos = next;
        explicit = true;
    }
    Ok(docs)
}

/// Only printable characters, line feeds and tabs (tabs are checked per
/// line): no carriage returns, byte-order marks or other controls.
fn plain_text(b: &[u8]) -> bool {
    // the common case, all printable ASCII, in one vectorizable pass
    if b.iter().all(|&c| (0x20..0x7f).contains(&c) || c == b'\n' || c == b'\t') {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let bad = match c {
            b'\n' | b'\t' => false,
            0..0x20 | 0x7f => true,
            // C1 controls (U+0080..U+009F, NEL among them)
            0xC2 => b.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n)),
            // BOM, U+FFFE, U+FFFF
            0xEF => matches!((b.get(i + 1), b.get(i + 2)), (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))),
            _ => false,
        };
        if bad {
            return false;
        }
        i += 1;
    }
    true
}

/// A line's content from its first non-space byte.
#[derive(Clone, Copy, Debug)]
struct Line {
    /// Byte offset of the content.
    start: usize,
    /// Byte offset of the end of the line (its `\n` or the end of the document).
    end: usize,
    /// Column of the content.
    indent: usize,
    /// 1-based line number.
    no: usize,
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    /// Start of the next unread line.
    pos: usize,
    /// End of the current document.
    end: usize,
    /// Line number of the line at `pos`.
    no: usize,
    /// A content line peeked at, or the rest of a line after `- `.
    pending: Option<Line>,
    /// The text has tabs somewhere (lines are checked only then).
    tabs: bool,
    dialect: Dialect,
    duplicates: DuplicateKeys,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    fn s(&self, from: usize, to: usize) -> &'a str {
        &self.text[from..to]
    }

    fn line_no_at(&self, at: usize) -> usize {
        // only called at document starts: count from the last known line
        self.no + memchr_count(b'\n', &self.b[self.pos.min(at)..at])
    }

    /// Where the document starting at `from` ends, and where the next one
    /// starts (after its `---` line), if one does.
    fn find_marker(&self, from: usize) -> R<(usize, Option<usize>)> {
        let mut at = from;
        while at < self.b.len() {
            let eol = memchr(b'\n', &self.b[at..]).map_or(self.b.len(), |i| at + i);
            let line = &self.b[at..eol];
            if line.starts_with(b"---") && (line.len() == 3 || line[3] == b' ' || line[3] == b'\t') {
                let rest = self.s(at + 3, eol).trim_start_matches(' ');
                if !(rest.is_empty() || rest.starts_with('#')) || line[3..].contains(&b'\t') {
                    return Err(GiveUp(line!()));
                }
                return Ok((at, Some((eol + 1).min(self.b.len()))));
            }
            if line.starts_with(b"...") || line.starts_with(b"%") {
                return Err(GiveUp(line!()));
            }
            at = eol + 1;
        }
        Ok((self.b.len(), None))
    }

    /// The next raw line: (start, end), advancing; `None` at the document's end.
    fn raw_line(&mut self) -> Option<(usize, usize)> {
        if self.pos >= self.end {
            return None;
        }
        let start = self.pos;
        let end = memchr(b'\n', &self.b[start..self.end]).map_or(self.end, |i| start + i);
        self.pos = end + 1;
        self.no += 1;
        Some((start, end))
    }

    /// The next content line (blank and comment lines skipped), not consumed.
    fn peek(&mut self) -> R<Option<Line>> {
        if let Some(l) = self.pending {
            return Ok(Some(l));
        }
        loop {
            let no = self.no;
            let Some((start, end)) = self.raw_line() else { return Ok(None) };
            let line = &self.b[start..end];
            let indent = line.iter().take_while(|&&c| c == b' ').count();
            if indent == line.len() {
                continue;
            }
            if self.tabs && line.contains(&b'\t') {
                return Err(GiveUp(line!()));
            }
            if line[indent] == b'#' {
                continue;
            }
            let l = Line { start: start + indent, end, indent, no };
            self.pending = Some(l);
            return Ok(Some(l));
        }
    }

    fn consume(&mut self) {
        self.pending = None;
    }

    /// The node starting at `line` (peeked, not consumed), in a collection
    /// at column `n`: a mapping, a sequence or a one-line scalar.
    fn node(&mut self, line: Line, n: usize, depth: usize) -> R<Value> {
        if depth + 2 >= self.max_depth {
            return Err(GiveUp(line!()));
        }
        let t = self.s(line.start, line.end);
        if is_dash(t) {
            self.sequence(line.indent, depth)
        } else if self.split_key(line)?.is_some() {
            self.mapping(line.indent, depth)
        } else if t.starts_with('|') {
            Err(GiveUp(line!()))
        } else {
            self.consume();
            self.scalar(line.start, line.end, n, depth)
        }
    }

    fn sequence(&mut self, n: usize, depth: usize) -> R<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek()? {
            if line.indent != n {
                if line.indent > n {
                    return Err(GiveUp(line!()));
                }
                break;
            }
            let t = self.s(line.start, line.end);
            if !is_dash(t) {
                break;
            }
            self.consume();
            let spaces = t[1..].bytes().take_while(|&c| c == b' ').count();
            let off = 1 + spaces;
            if off == t.len() || t.as_bytes()[off] == b'#' {
                items.push(self.value_below(n, depth + 1, true)?);
            } else {
                let sub = Line { start: line.start + off, end: line.end, indent: line.indent + off, no: line.no };
                items.push(self.inline_node(sub, n, depth + 1)?);
            }
        }
        Ok(Value::Array(items))
    }

    /// A sequence item's node starting after its `- `.
    fn inline_node(&mut self, sub: Line, n: usize, depth: usize) -> R<Value> {
        let t = self.s(sub.start, sub.end);
        if is_dash(t) || self.split_key(sub)?.is_some() {
            self.pending = Some(sub);
            return self.node(sub, n, depth);
        }
        self.scalar(sub.start, sub.end, n, depth)
    }

    /// The value of `key:` or `-` with nothing after it on the line.
    fn value_below(&mut self, n: usize, depth: usize, in_sequence: bool) -> R<Value> {
        match self.peek()? {
            Some(l) if l.indent > n => self.node(l, n, depth),
            Some(l) if l.indent == n && !in_sequence && is_dash(self.s(l.start, l.end)) => {
                if depth + 2 >= self.max_depth {
                    return Err(GiveUp(line!()));
                }
                self.sequence(n, depth)
            }
            _ => Ok(Value::Null),
        }
    }

    fn mapping(&mut self, n: usize, depth: usize) -> R<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek()? {
            if line.indent != n {
                if line.indent > n {
                    return Err(GiveUp(line!()));
                }
                break;
            }
            let Some((key, after)) = self.split_key(line)? else {
                if is_dash(self.s(line.start, line.end)) {
                    break;
                }
                return Err(GiveUp(line!()));
            };
            self.consume();
            let rest = self.s(after, line.end).trim_start_matches(' ');
            let value = if rest.is_empty() || rest.starts_with('#') {
                self.value_below(n, depth + 1, false)?
            } else {
                self.scalar(line.end - rest.len(), line.end, n, depth + 1)?
            };
            match self.duplicates {
                DuplicateKeys::Error if map.contains_key(&key) => return Err(GiveUp(line!())),
                _ => map.insert(key, value),
            };
        }
        Ok(Value::Object(map))
    }

    /// A mapping entry's key and where its value starts, or `None` when the
    /// line holds no `key:`.
    fn split_key(&self, line: Line) -> R<Option<(String, usize)>> {
        let t = self.s(line.start, line.end);
        let bytes = t.as_bytes();
        let (key, mut at) = match bytes[0] {
            // not closed on this line: no key
            b'"' | b'\'' => match quoted(t) {
                Ok(q) => q,
                Err(_) => return Ok(None),
            },
            c if is_indicator(c) => return Ok(None),
            b'-' | b'?' | b':' if bytes.len() == 1 || bytes[1] == b' ' => return Ok(None),
            _ => {
                let Some(colon) = find_value_colon(bytes) else { return Ok(None) };
                let raw = t[..colon].trim_end_matches(' ');
                if raw.len() > MAX_KEY {
                    return Err(GiveUp(line!()));
                }
                (self.plain_key(raw)?, colon)
            }
        };
        if matches!(bytes[0], b'"' | b'\'') {
            while at < bytes.len() && bytes[at] == b' ' {
                at += 1;
            }
            if at >= bytes.len() || bytes[at] != b':' || (at + 1 < bytes.len() && bytes[at + 1] != b' ') {
                // a quoted scalar that is no key: not a mapping line
                return Ok(None);
            }
            if at > MAX_KEY {
                return Err(GiveUp(line!()));
            }
        }
        Ok(Some((key, line.start + at + 1)))
    }

    /// A plain key converted as the full reader converts keys.
    fn plain_key(&self, raw: &str) -> R<String> {
        match resolve_plain(raw, self.dialect) {
            Scalar::Str => Ok(raw.to_string()),
            Scalar::Merge | Scalar::Null => Err(GiveUp(line!())),
            s => match scalar_to_json(s, raw).map_err(|_| GiveUp(line!()))? {
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                Value::String(s) => Ok(s),
                _ => Err(GiveUp(line!())),
            },
        }
    }

    /// The scalar (or one-line flow collection) in `[from, to)` of one
    /// line, in a collection at column `n`.
    fn scalar(&mut self, from: usize, to: usize, n: usize, depth: usize) -> R<Value> {
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

/// `-` alone or followed by a space: a sequence entry.
fn is_dash(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// Bytes that cannot start a plain scalar here (or start what this reader leaves alone).
fn is_indicator(c: u8) -> bool {
    matches!(c, b'[' | b']' | b'{' | b'}' | b',' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' | b'#')
}

/// Where the key of a `key: value` line ends (its `:`), unless a comment
/// comes first.
fn find_value_colon(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b':' if i + 1 == b.len() || b[i + 1] == b' ' => return Some(i),
            b'#' if i > 0 && b[i - 1] == b' ' => return None,
            _ => {}
        }
        i += 1;
    }
    None
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
fn quoted(t: &str) -> R<(String, usize)> {
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

fn memchr_count(needle: u8, hay: &[u8]) -> usize {
    memchr::memchr_iter(needle, hay).count()
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}
