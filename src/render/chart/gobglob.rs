//! gobwas/glob patterns with `/` as the separator, as helm's `.Files.Glob`
//! compiles them: `*` and `?` stop at `/`, `**` does not (`**.yaml` matches
//! `a/b/c.yaml`), `[a-z]`, `[!x]`, `{a,b}` alternatives and `\` escapes.

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Glob(Vec<Tok>);

#[derive(Debug, Clone)]
enum Tok {
    Char(char),
    Any,
    AnyDeep,
    One,
    Class(bool, Vec<(char, char)>),
    Alt(Vec<Glob>),
}

impl Glob {
    /// The pattern, or `None` when it does not compile (an unclosed `[` or `{`).
    pub fn parse(p: &str) -> Option<Glob> {
        let chars: Vec<char> = p.chars().collect();
        let (g, i) = parse_until(&chars, 0, false)?;
        (i == chars.len()).then_some(g)
    }

    /// `**`: everything.
    pub fn everything() -> Glob {
        Glob(vec![Tok::AnyDeep])
    }

    pub fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let toks: Vec<&Tok> = self.0.iter().collect();
        match_from(&toks, &chars)
    }
}

/// Tokens up to the end, or (inside braces) to a `,` or `}`.
fn parse_until(c: &[char], mut i: usize, in_alt: bool) -> Option<(Glob, usize)> {
    let mut toks = Vec::new();
    while i < c.len() {
        match c[i] {
            ',' | '}' if in_alt => break,
            '*' if c.get(i + 1) == Some(&'*') => {
                toks.push(Tok::AnyDeep);
                i += 2;
            }
            '*' => {
                toks.push(Tok::Any);
                i += 1;
            }
            '?' => {
                toks.push(Tok::One);
                i += 1;
            }
            '\\' => {
                toks.push(Tok::Char(*c.get(i + 1)?));
                i += 2;
            }
            '[' => {
                i += 1;
                let neg = c.get(i) == Some(&'!');
                if neg {
                    i += 1;
                }
                let mut ranges = Vec::new();
                while *c.get(i)? != ']' {
                    let lo = c[i];
                    if c.get(i + 1) == Some(&'-') && c.get(i + 2).is_some_and(|x| *x != ']') {
                        ranges.push((lo, c[i + 2]));
                        i += 3;
                    } else {
                        ranges.push((lo, lo));
                        i += 1;
                    }
                }
                i += 1;
                toks.push(Tok::Class(neg, ranges));
            }
            '{' => {
                let mut alts = Vec::new();
                i += 1;
                loop {
                    let (g, j) = parse_until(c, i, true)?;
                    alts.push(g);
                    let sep = *c.get(j)?;
                    i = j + 1;
                    if sep == '}' {
                        break;
                    }
                }
                toks.push(Tok::Alt(alts));
            }
            ch => {
                toks.push(Tok::Char(ch));
                i += 1;
            }
        }
    }
    Some((Glob(toks), i))
}

fn match_from(toks: &[&Tok], s: &[char]) -> bool {
    let Some((first, rest)) = toks.split_first() else { return s.is_empty() };
    match first {
        Tok::Char(c) => s.first() == Some(c) && match_from(rest, &s[1..]),
        Tok::One => s.first().is_some_and(|c| *c != '/') && match_from(rest, &s[1..]),
        Tok::Class(neg, ranges) => {
            s.first().is_some_and(|c| *c != '/' && ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *neg)
                && match_from(rest, &s[1..])
        }
        Tok::Any => {
            for i in 0..=s.len() {
                if match_from(rest, &s[i..]) {
                    return true;
                }
                if i < s.len() && s[i] == '/' {
                    break;
                }
            }
            false
        }
        Tok::AnyDeep => (0..=s.len()).any(|i| match_from(rest, &s[i..])),
        Tok::Alt(alts) => alts.iter().any(|g| {
            let mut t: Vec<&Tok> = g.0.iter().collect();
            t.extend_from_slice(rest);
            match_from(&t, s)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn gobwas_semantics() {
        let m = |p: &str, s: &str| Glob::parse(p).unwrap().matches(s);
        assert!(m("files/*", "files/a.txt") && !m("files/*", "files/sub/b.yaml"));
        assert!(m("**.yaml", "files/sub/b.yaml") && m("files/**", "files/sub/b.yaml"));
        assert!(m("*.{yaml,json}", "a.json") && !m("*.{yaml,json}", "a.toml"));
        assert!(m("[a-c]?.txt", "b1.txt") && !m("[!a-c]?.txt", "b1.txt"));
        assert!(Glob::parse("[abc").is_none() && Glob::parse("{a,b").is_none());
    }
}
