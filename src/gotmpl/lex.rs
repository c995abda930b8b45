//! The lexer: template text into tokens, as Go's `text/template/parse`
//! lexes it (delimiters `{{ }}`, trim markers `{{- ` and ` -}}`, comments
//! `{{/* */}}` dropped, spaces inside actions kept as tokens because they
//! separate arguments: `.a.b` is one chain, `.a .b` two arguments).

/// A token kind; strings and numbers keep their source text.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// Text between actions: its byte range in the template text.
    Text(std::ops::Range<usize>),
    Left,
    Right,
    Space,
    /// `.name` (one link of a chain).
    Field(String),
    /// `$` or `$name`.
    Variable(String),
    Dot,
    Ident(String),
    Keyword(&'static str),
    Bool(bool),
    Nil,
    Number(String),
    /// A quoted or raw string, as written.
    Str(String),
    /// A character constant, as written (`'a'`).
    Char(String),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    /// Another printable character (`,` in range declarations).
    Other(char),
}

/// A token with its byte offset in the template text.
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// A lexing error: the message and the byte offset it refers to.
#[derive(Debug)]
pub struct LexError {
    pub msg: String,
    pub pos: usize,
    /// For an unclosed action: where it started (Go names that line).
    pub started: Option<usize>,
}

const KEYWORDS: [&str; 10] = ["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Lexes the whole template.
pub fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    loop {
        // Text up to the next left delimiter.
        let start = pos;
        let found = memchr::memmem::find(&b[pos..], b"{{").map(|x| pos + x);
        let end = found.unwrap_or(b.len());
        let mut text = &src[start..end];
        if trim_next {
            text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        let Some(at) = found else {
            if !text.is_empty() {
                let from = text.as_ptr() as usize - src.as_ptr() as usize;
                out.push(Token { tok: Tok::Text(from..from + text.len()), pos: end - text.len() });
            }
            return Ok(out);
        };
        let left_trim = b.len() > at + 3 && b[at + 2] == b'-' && is_space(b[at + 3]);
        if left_trim {
            text = text.trim_end_matches([' ', '\t', '\r', '\n']);
        }
        if !text.is_empty() {
            let tpos = if trim_next { end - text.len() } else { start };
            // the text's own place in `src` (trimmed at either end)
            let from = text.as_ptr() as usize - src.as_ptr() as usize;
            out.push(Token { tok: Tok::Text(from..from + text.len()), pos: tpos });
        }
        pos = at + 2;
        if left_trim {
            pos += 2;
        }
        // A comment must follow the delimiter directly.
        if src[pos..].starts_with("/*") {
            let close =
                src[pos..].find("*/").ok_or(LexError { msg: "unclosed comment".into(), pos: at, started: None })?;
            pos += close + 2;
            let (ok, trim, len) = right_delim(b, pos);
            if !ok {
                return Err(LexError { msg: "comment ends before closing delimiter".into(), pos: at, started: None });
            }
            pos += len;
            trim_next = trim;
            continue;
        }
        out.push(Token { tok: Tok::Left, pos: at });
        let (next, trim) = lex_action(src, pos, &mut out)?;
        pos = next;
        trim_next = trim;
    }
}

/// Whether a right delimiter (optionally with a trim marker) starts at `pos`:
/// (found, trim, length).
fn right_delim(b: &[u8], pos: usize) -> (bool, bool, usize) {
    if b[pos..].starts_with(b"}}") {
        return (true, false, 2);
    }
    if b.len() >= pos + 4 && is_space(b[pos]) && b[pos + 1] == b'-' && b[pos + 2..].starts_with(b"}}") {
        return (true, true, 4);
    }
    (false, false, 0)
}

/// Lexes one action after its left delimiter; returns the offset after the
/// right delimiter and whether it trims the following text.
fn lex_action(src: &str, mut pos: usize, out: &mut Vec<Token>) -> Result<(usize, bool), LexError> {
    let b = src.as_bytes();
    let start_action = out.last().map_or(pos, |t| t.pos);
    let mut parens = 0usize;
    loop {
        if pos >= b.len() {
            return Err(LexError { msg: "unclosed action".into(), pos, started: Some(start_action) });
        }
        let (ok, trim, len) = right_delim(b, pos);
        if ok {
            if parens > 0 {
                return Err(LexError { msg: "unclosed left paren".into(), pos, started: None });
            }
            out.push(Token { tok: Tok::Right, pos });
            return Ok((pos + len, trim));
        }
        let start = pos;
        let c = src[pos..].chars().next().unwrap_or('\0');
        let push = |out: &mut Vec<Token>, tok| out.push(Token { tok, pos: start });
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                while pos < b.len() && is_space(b[pos]) && !right_delim(b, pos).0 {
                    pos += 1;
                }
                push(out, Tok::Space);
            }
            '=' => {
                pos += 1;
                push(out, Tok::Assign);
            }
            ':' => {
                if b.get(pos + 1) != Some(&b'=') {
                    return Err(LexError { msg: "expected :=".into(), pos, started: None });
                }
                pos += 2;
                push(out, Tok::Declare);
            }
            '|' => {
                pos += 1;
                push(out, Tok::Pipe);
            }
            '(' => {
                pos += 1;
                parens += 1;
                push(out, Tok::LParen);
            }
            ')' => {
                if parens == 0 {
                    return Err(LexError { msg: "unexpected right paren".into(), pos, started: None });
                }
                parens -= 1;
                pos += 1;
                push(out, Tok::RParen);
            }
            '"' => {
                pos += 1;
                loop {
                    match b.get(pos) {
                        None | Some(b'\n') => {
                            return Err(LexError {
                                msg: "unterminated quoted string".into(),
                                pos: start,
                                started: None,
                            });
                        }
                        Some(b'\\') => pos += 2,
                        Some(b'"') => break,
                        _ => pos += 1,
                    }
                }
                pos += 1;
                push(out, Tok::Str(src[start..pos].to_string()));
            }
            '`' => {
                let close = src[pos + 1..].find('`').ok_or(LexError {
                    msg: "unterminated raw quoted string".into(),
                    pos: start,
                    started: None,
                })?;
                pos += close + 2;
                push(out, Tok::Str(src[start..pos].to_string()));
            }
            '\'' => {
                pos += 1;
                loop {
                    match b.get(pos) {
                        None | Some(b'\n') => {
                            return Err(LexError {
                                msg: "unterminated character constant".into(),
                                pos: start,
                                started: None,
                            });
                        }
                        Some(b'\\') => pos += 2,
                        Some(b'\'') => break,
                        _ => pos += 1,
                    }
                }
                pos += 1;
                push(out, Tok::Char(src[start..pos].to_string()));
            }
            '$' => {
                pos += 1;
                pos = scan_alnum(src, pos);
                check_terminator(src, pos)?;
                push(out, Tok::Variable(src[start..pos].to_string()));
            }
            '.' if !b.get(pos + 1).is_some_and(u8::is_ascii_digit) => {
                pos += 1;
                let end = scan_alnum(src, pos);
                if end == pos {
                    pos = end;
                    push(out, Tok::Dot);
                } else {
                    pos = end;
                    check_terminator(src, pos)?;
                    push(out, Tok::Field(src[start + 1..pos].to_string()));
                }
            }
            '.' | '+' | '-' | '0'..='9' => {
                pos = scan_number(src, pos);
                if pos == start || src[pos..].chars().next().is_some_and(is_alnum) {
                    let end = scan_alnum(src, pos.max(start + 1));
                    return Err(LexError {
                        msg: format!("bad number syntax: {:?}", &src[start..end]),
                        pos: start,
                        started: None,
                    });
                }
                push(out, Tok::Number(src[start..pos].to_string()));
            }
            c if is_alnum(c) => {
                pos = scan_alnum(src, pos);
                check_terminator(src, pos)?;
                let word = &src[start..pos];
                let tok = match word {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "nil" => Tok::Nil,
                    w => match KEYWORDS.iter().find(|k| **k == w) {
                        Some(k) => Tok::Keyword(k),
                        None => Tok::Ident(w.to_string()),
                    },
                };
                push(out, tok);
            }
            c if c.is_ascii_graphic() => {
                pos += 1;
                push(out, Tok::Other(c));
            }
            c => {
                return Err(LexError {
                    msg: format!("bad character {}", super::fmt::unicode_u(c, true)),
                    pos,
                    started: None,
                });
            }
        }
    }
}

fn scan_alnum(src: &str, mut pos: usize) -> usize {
    for c in src[pos..].chars() {
        if !is_alnum(c) {
            break;
        }
        pos += c.len_utf8();
    }
    pos
}

/// Go accepts a word only before a space, `.`, `,`, `|`, `:`, `)`, `(`, the
/// end of the action or the end of input.
fn check_terminator(src: &str, pos: usize) -> Result<(), LexError> {
    let b = src.as_bytes();
    match b.get(pos) {
        None => Ok(()),
        Some(c) if is_space(*c) || b".,|:()".contains(c) => Ok(()),
        Some(_) if right_delim(b, pos).0 => Ok(()),
        Some(_) => {
            let c = src[pos..].chars().next().unwrap_or('\0');
            Err(LexError { msg: format!("bad character {}", super::fmt::unicode_u(c, true)), pos, started: None })
        }
    }
}

/// Scans a Go number literal (sign, base prefix, digits with `_`, fraction,
/// exponent); imaginary numbers are not supported.
fn scan_number(src: &str, mut pos: usize) -> usize {
    let b = src.as_bytes();
    if matches!(b.get(pos), Some(b'+' | b'-')) {
        pos += 1;
    }
    let mut digits: &[u8] = b"0123456789_";
    let mut exp: &[u8] = b"eE";
    if b.get(pos) == Some(&b'0') {
        match b.get(pos + 1) {
            Some(b'x' | b'X') => {
                pos += 2;
                digits = b"0123456789abcdefABCDEF_";
                exp = b"pP";
            }
            Some(b'o' | b'O') => {
                pos += 2;
                digits = b"01234567_";
                exp = b"";
            }
            Some(b'b' | b'B') => {
                pos += 2;
                digits = b"01_";
                exp = b"";
            }
            _ => {}
        }
    }
    let run = |pos: &mut usize, set: &[u8]| {
        while b.get(*pos).is_some_and(|c| set.contains(c)) {
            *pos += 1;
        }
    };
    run(&mut pos, digits);
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        run(&mut pos, digits);
    }
    if !exp.is_empty() && b.get(pos).is_some_and(|c| exp.contains(c)) {
        pos += 1;
        if matches!(b.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        run(&mut pos, b"0123456789_");
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens, text as `Tok::Ident` of its content (easier to read).
    fn toks(s: &str) -> Vec<Tok> {
        let text = |t: Tok| match t {
            Tok::Text(r) => Tok::Ident(format!("text:{}", &s[r])),
            t => t,
        };
        lex(s).unwrap().into_iter().map(|t| text(t.tok)).collect()
    }

    #[test]
    fn text_and_actions() {
        assert_eq!(
            toks("a{{.x.y $v}}b"),
            vec![
                Tok::Ident("text:a".into()),
                Tok::Left,
                Tok::Field("x".into()),
                Tok::Field("y".into()),
                Tok::Space,
                Tok::Variable("$v".into()),
                Tok::Right,
                Tok::Ident("text:b".into()),
            ]
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(
            toks("a  {{- 1 -}}  b"),
            vec![
                Tok::Ident("text:a".into()),
                Tok::Left,
                Tok::Number("1".into()),
                Tok::Right,
                Tok::Ident("text:b".into())
            ]
        );
        assert_eq!(toks("a \n{{- /* c */ -}}\n b"), vec![Tok::Ident("text:a".into()), Tok::Ident("text:b".into())]);
        assert_eq!(toks("{{-3}}"), vec![Tok::Left, Tok::Number("-3".into()), Tok::Right]);
        // text trimmed at both ends
        assert_eq!(toks("{{1 -}} a b  {{- 2}}")[3..4], [Tok::Ident("text:a b".into())]);
    }

    #[test]
    fn literals_and_errors() {
        assert_eq!(
            toks(r#"{{"a\"b" `r` 'x' 0x1F 1.5e3 true nil if}}"#),
            vec![
                Tok::Left,
                Tok::Str(r#""a\"b""#.into()),
                Tok::Space,
                Tok::Str("`r`".into()),
                Tok::Space,
                Tok::Char("'x'".into()),
                Tok::Space,
                Tok::Number("0x1F".into()),
                Tok::Space,
                Tok::Number("1.5e3".into()),
                Tok::Space,
                Tok::Bool(true),
                Tok::Space,
                Tok::Nil,
                Tok::Space,
                Tok::Keyword("if"),
                Tok::Right,
            ]
        );
        assert_eq!(lex("{{ .x").unwrap_err().msg, "unclosed action");
        assert_eq!(lex("{{ \"x }}").unwrap_err().msg, "unterminated quoted string");
        assert_eq!(lex("{{ 3x }}").unwrap_err().msg, "bad number syntax: \"3x\"");
    }
}
