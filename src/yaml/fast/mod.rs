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
//! `fast_tests.rs` checks it against the full reader on every YAML file under
//! `tests/data` and on generated text.

use serde_json::{Map, Value};

use super::resolve::{Scalar, resolve_plain, scalar_to_json};
use super::{Dialect, Document, DuplicateKeys};

mod scalar;

use scalar::quoted;

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

fn memchr_count(needle: u8, hay: &[u8]) -> usize {
    memchr::memchr_iter(needle, hay).count()
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}
