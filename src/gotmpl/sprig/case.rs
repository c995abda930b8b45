//! Case conversions from huandu/xstrings as Sprig uses them: `camelcase`
//! (xstrings' Pascal case: `http_server` is `HttpServer`), `snakecase`
//! and `kebabcase` (words split at case changes, digits and connectors).

use super::{add, string_arg};
use crate::gotmpl::value::{Arity, Func, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "camelcase", Arity::Exact(1), |a| Ok(Value::from(pascal(string_arg(a, 0)?))));
    add(v, "snakecase", Arity::Exact(1), |a| Ok(Value::from(lower_words(string_arg(a, 0)?, '_'))));
    add(v, "kebabcase", Arity::Exact(1), |a| Ok(Value::from(lower_words(string_arg(a, 0)?, '-'))));
}

/// `_`, `-` and spaces join words.
fn is_connector(c: char) -> bool {
    c == '_' || c == '-' || c.is_whitespace()
}

fn upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn lower(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Connectors dropped and the next letter upper-cased; an all-caps word
/// is lower-cased after its first letter; leading and repeated
/// connectors kept.
fn pascal(x: &str) -> String {
    let mut out = String::new();
    let mut chars = x.chars();
    let mut first_upper = false;
    let mut r0 = None;
    for c in chars.by_ref() {
        if !is_connector(c) {
            first_upper = c.is_uppercase();
            r0 = Some(upper(c));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in chars {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = r0.is_uppercase();
            r0 = upper(r0);
        } else {
            if first_upper {
                if r0.is_uppercase() {
                    r0 = lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    /// The end of the input.
    End,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// Go's `unicode.IsPunct` for ASCII (symbols such as `$+<=>^|~` are not
/// punctuation); other scripts' marks count as other characters.
fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c)
}

/// The next word of `s` and the rest: a run of connectors, punctuation,
/// digits, lower-case letters, or capitals (a capital run keeps its last
/// capital for the next word when a lower-case letter follows, so
/// `HTTPServer` is `HTTP` + `Server`).
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices();
    let Some((_, r)) = it.next() else {
        return (Word::End, "", "");
    };
    let take_while = |from: usize, f: &dyn Fn(char) -> bool| -> usize {
        s[from..].char_indices().find(|&(_, c)| !f(c)).map_or(s.len(), |(i, _)| from + i)
    };
    let first = r.len_utf8();
    let (wt, end) = if is_connector(r) {
        (Word::Connector, take_while(first, &is_connector))
    } else if is_punct(r) {
        (Word::Punct, take_while(first, &is_punct))
    } else if r.is_uppercase() {
        match s[first..].chars().next() {
            Some(n) if n.is_uppercase() => {
                let end = take_while(first, &|c: char| c.is_uppercase());
                match s[end..].chars().next() {
                    Some(n) if n.is_alphabetic() => {
                        let last = s[..end].chars().next_back().map_or(0, char::len_utf8);
                        (Word::Upper, end - last)
                    }
                    _ => (Word::Upper, end),
                }
            }
            Some(n) if n.is_alphabetic() => {
                (Word::Upper, take_while(first, &|c: char| c.is_alphabetic() && !c.is_uppercase()))
            }
            _ => (Word::Upper, first),
        }
    } else if r.is_alphabetic() {
        (Word::Alphabet, take_while(first, &|c: char| c.is_alphabetic() && !c.is_uppercase()))
    } else if r.is_numeric() {
        (Word::Number, take_while(first, &char::is_numeric))
    } else {
        (
            Word::Other,
            take_while(first, &|c: char| !(is_connector(c) || c.is_alphabetic() || c.is_numeric() || is_punct(c))),
        )
    };
    (wt, &s[..end], &s[end..])
}

/// Writes a word; capitals and connectors lower-cased / replaced.
fn write_word(out: &mut String, wt: Word, word: &str, connector: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        out.push(if is_connector(c) {
            connector
        } else if c.is_uppercase() {
            lower(c)
        } else {
            c
        });
    }
}

/// xstrings' `camelCaseToLowerCase`: lower-case words joined by
/// `connector`; digits stick to the word before them unless lower-case
/// letters follow (`Bld4Floor` is `bld4_floor`, `HTTP2xx` is `http_2xx`).
fn lower_words(x: &str, connector: char) -> String {
    let mut out = String::new();
    let (mut wt, mut word, mut rest) = next_word(x);
    while !rest.is_empty() {
        if wt != Word::Connector {
            write_word(&mut out, wt, word, connector);
        }
        let (prev, last) = (wt, word);
        (wt, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while matches!(wt, Word::Alphabet | Word::Number) {
                    write_word(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::End | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => write_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if !matches!(wt, Word::Connector | Word::Punct) {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let num = word;
                (wt, word, rest) = next_word(rest);
                if wt != Word::Alphabet {
                    write_word(&mut out, Word::Number, num, connector);
                    if !matches!(wt, Word::Connector | Word::Punct) {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                write_word(&mut out, Word::Number, num, connector);
                while matches!(wt, Word::Alphabet | Word::Number) {
                    write_word(&mut out, wt, word, connector);
                    (wt, word, rest) = next_word(rest);
                }
                if !matches!(wt, Word::End | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    write_word(&mut out, wt, word, connector);
    out
}
