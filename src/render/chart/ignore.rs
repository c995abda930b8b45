//! `.helmignore`, exactly as helm 4 reads it (not gitignore): one pattern a
//! line, `#` comments; Go's `filepath.Match` syntax (`*` and `?` stop at
//! `/`, `[...]` classes with `^` negation, `\` escapes); `**` and patterns
//! that do not compile are errors. A trailing `/` matches directories
//! only; a pattern with a `/` matches the whole relative path (a leading
//! `/` is dropped), any other the base name.
//!
//! Evaluation runs in file order and stops at the first positive pattern
//! that matches (ignored). A `!pattern` is helm's, not gitignore's: a path
//! it does *not* match is ignored at once (so `!*.yaml` ignores every
//! other file, and every directory not named `*.yaml`); a path it matches
//! goes on to the next line. Helm's default `templates/.?*` comes last.
//! An ignored directory is skipped whole.

/// The parsed rules of one chart.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: String,
    negate: bool,
    must_dir: bool,
    full_path: bool,
}

impl IgnoreRules {
    /// Parse a `.helmignore`; errors name the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules = IgnoreRules::default();
        for (i, line) in text.lines().enumerate() {
            rules.add(line).map_err(|e| format!("line {}: {:?}: {e}", i + 1, line.trim()))?;
        }
        rules.add("templates/.?*").expect("the default rule parses");
        Ok(rules)
    }

    fn add(&mut self, line: &str) -> Result<(), String> {
        let rule = line.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        // Helm compiles the raw line (a leading `!` is a literal there).
        glob_match(rule, "abc")?;
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (rooted, rule) = match rule.strip_prefix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let full_path = rooted || rule.contains('/');
        self.patterns.push(Pattern { glob: rule.to_string(), negate, must_dir, full_path });
        Ok(())
    }

    /// Is `rel` (a `/`-separated path relative to the chart) ignored?
    pub fn ignored(&self, rel: &str, is_dir: bool) -> bool {
        if rel.is_empty() || rel == "." || rel == "./" {
            return false;
        }
        let base = rel.rsplit('/').next().unwrap_or(rel);
        for p in &self.patterns {
            let subject = if p.full_path { rel } else { base };
            // A pattern that fails on this name counts as no match (helm logs it).
            let matched = || glob_match(&p.glob, subject).unwrap_or(false);
            if p.negate {
                if (p.must_dir && !is_dir) || !matched() {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Match` on `/`-separated names: `*` (any run without `/`),
/// `?` (one character but `/`), `[...]` (`^` negates, `a-z` ranges), `\x`
/// (a literal x). A malformed pattern is an error.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, String> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let matched = match_here(&p, &n)?;
    if !matched {
        // Go reports a bad pattern even when the name fails before reaching it.
        check_syntax(&p)?;
    }
    Ok(matched)
}

fn bad() -> String {
    "syntax error in pattern".to_string()
}

fn match_here(p: &[char], n: &[char]) -> Result<bool, String> {
    let Some((&c, rest)) = p.split_first() else { return Ok(n.is_empty()) };
    match c {
        '*' => {
            // The star may take any run of non-separators, shortest first.
            for take in 0..=n.len() {
                if take > 0 && n[take - 1] == '/' {
                    break;
                }
                if match_here(rest, &n[take..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => match n.split_first() {
            Some((&x, tail)) if x != '/' => match_here(rest, tail),
            _ => Ok(false),
        },
        '[' => {
            let (set_end, negated, ranges) = parse_class(rest)?;
            match n.split_first() {
                Some((&x, tail)) if x != '/' => {
                    let inside = ranges.iter().any(|&(lo, hi)| lo <= x && x <= hi);
                    if inside != negated { match_here(&rest[set_end..], tail) } else { Ok(false) }
                }
                _ => Ok(false),
            }
        }
        '\\' => match rest.split_first() {
            Some((&lit, after)) => match n.split_first() {
                Some((&x, tail)) if x == lit => match_here(after, tail),
                _ => Ok(false),
            },
            None => Err(bad()),
        },
        lit => match n.split_first() {
            Some((&x, tail)) if x == lit => match_here(rest, tail),
            _ => Ok(false),
        },
    }
}

/// A bracket class: characters consumed after its `[` (with the `]`),
/// negated, inclusive ranges.
type Class = (usize, bool, Vec<(char, char)>);

/// Parse a class after its `[`.
fn parse_class(p: &[char]) -> Result<Class, String> {
    let mut i = 0;
    let negated = p.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = p.get(i) else { return Err(bad()) };
        if c == ']' && !first {
            return Ok((i + 1, negated, ranges));
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        let (hi, next) = if p.get(next) == Some(&'-') {
            let (hi, after) = class_char(p, next + 1)?;
            (hi, after)
        } else {
            (lo, next)
        };
        if hi < lo {
            return Err(bad());
        }
        ranges.push((lo, hi));
        i = next;
    }
}

/// One character of a class at `i` (`\` escapes; `-`, `]` unescaped are errors there).
fn class_char(p: &[char], i: usize) -> Result<(char, usize), String> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(bad()),
        Some('\\') => p.get(i + 1).map(|&c| (c, i + 2)).ok_or_else(bad),
        Some(&c) => Ok((c, i + 1)),
    }
}

/// Walk the whole pattern for syntax errors (Go checks the rest of a
/// pattern once a name stops matching).
fn check_syntax(p: &[char]) -> Result<(), String> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '[' => i += 1 + parse_class(&p[i + 1..])?.0,
            '\\' if i + 1 >= p.len() => return Err(bad()),
            '\\' => i += 2,
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text).unwrap()
    }

    #[test]
    fn positive_patterns() {
        let r = rules("# c\n*.bak\nsecret/\ndocs/*.md\n/top.txt\n");
        assert!(r.ignored("a/x.bak", false));
        assert!(r.ignored("secret", true));
        assert!(!r.ignored("secret", false));
        assert!(r.ignored("docs/a.md", false));
        assert!(!r.ignored("docs/sub/a.md", false), "* stops at /");
        assert!(!r.ignored("a.md", false));
        assert!(r.ignored("top.txt", false));
        assert!(!r.ignored("sub/top.txt", false));
        assert!(r.ignored("templates/.x.yaml", false), "helm's default rule");
        assert!(!r.ignored("templates/x.yaml", false));
    }

    #[test]
    fn negation_is_helms_not_gitignores() {
        // `!x` ignores whatever does not match x, at once.
        let r = rules("!*.yaml\n");
        assert!(!r.ignored("values.yaml", false));
        assert!(r.ignored("README.md", false));
        assert!(r.ignored("templates", true), "a directory not named *.yaml is skipped whole");
        // A later positive rule never re-includes: the first positive match wins.
        let r = rules("*.txt\n!keep.txt\n");
        assert!(r.ignored("keep.txt", false));
        assert!(r.ignored("other.md", false), "not matching !keep.txt");
        let r = rules("!dir/\n");
        assert!(r.ignored("file.txt", false), "a negated directory rule ignores files");
    }

    #[test]
    fn go_glob_syntax() {
        assert_eq!(glob_match("a[bc]d", "acd"), Ok(true));
        assert_eq!(glob_match("a[^bc]d", "acd"), Ok(false));
        assert_eq!(glob_match("a[a-c]?", "abz"), Ok(true));
        assert_eq!(glob_match("a\\*", "a*"), Ok(true));
        assert_eq!(glob_match("a\\*", "ab"), Ok(false));
        assert_eq!(glob_match("*", "a/b"), Ok(false));
        assert_eq!(glob_match("*/b", "a/b"), Ok(true));
        assert!(glob_match("a[", "x").is_err());
        assert!(glob_match("a[z-a]", "a").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let e = IgnoreRules::parse("ok\ndocs/**/x\n").unwrap_err();
        assert!(e.starts_with("line 2: \"docs/**/x\": double-star"), "{e}");
        let e = IgnoreRules::parse("[abc\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("syntax error in pattern"), "{e}");
    }
}
