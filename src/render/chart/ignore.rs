//! `.helmignore`: helm's subset of gitignore rules. One pattern a line,
//! `#` comments, `!` negates (the last matching line wins), a trailing `/` matches directories only, a
//! pattern with a `/` matches the whole path (a leading `/` is dropped),
//! any other pattern matches the base name. Hidden files under
//! `templates/` are always ignored, as helm does.

use globset::{Glob, GlobMatcher};

#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    matcher: GlobMatcher,
    negate: bool,
    must_dir: bool,
    full_path: bool,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Self {
        let mut rules = IgnoreRules::default();
        for line in text.lines() {
            rules.add(line);
        }
        rules
    }

    fn add(&mut self, line: &str) {
        let mut p = line.trim();
        if p.is_empty() || p.starts_with('#') || p == "!" {
            return;
        }
        let negate = p.starts_with('!');
        if negate {
            p = &p[1..];
        }
        let must_dir = p.ends_with('/');
        let p = p.trim_end_matches('/');
        let p = p.strip_prefix('/').unwrap_or(p);
        let full_path = p.contains('/');
        let glob = Glob::new(p).or_else(|_| Glob::new(&globset::escape(p)));
        if let Ok(g) = glob {
            self.patterns.push(Pattern { matcher: g.compile_matcher(), negate, must_dir, full_path });
        }
    }

    /// Is `rel` (a `/`-separated path relative to the chart) ignored?
    pub fn ignored(&self, rel: &str, is_dir: bool) -> bool {
        let base = rel.rsplit('/').next().unwrap_or(rel);
        if rel.starts_with("templates/") && base.starts_with('.') {
            return true;
        }
        let mut ignored = false;
        for p in &self.patterns {
            if p.must_dir && !is_dir {
                continue;
            }
            let subject = if p.full_path { rel } else { base };
            if p.matcher.is_match(subject) {
                ignored = !p.negate;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let r = IgnoreRules::parse("# c\n*.bak\nsecret/\ndocs/*.md\n");
        assert!(r.ignored("a/x.bak", false));
        assert!(r.ignored("secret", true));
        assert!(!r.ignored("secret", false));
        assert!(r.ignored("docs/a.md", false));
        assert!(!r.ignored("a.md", false));
        assert!(r.ignored("templates/.x.yaml", false));
        assert!(!r.ignored("templates/x.yaml", false));
    }
}
