//! Unified diff text with kubectl's headers, and optional colour.

use similar::TextDiff;

/// `diff -u -N LIVE/<name> MERGED/<name>` output for one object (as kubectl
/// diff prints it with GNU diff, without temp paths and timestamps).
pub fn unified_diff(name: &str, live: &str, merged: &str) -> String {
    let (a, b) = (format!("LIVE/{name}"), format!("MERGED/{name}"));
    let body = TextDiff::from_lines(live, merged).unified_diff().context_radius(3).header(&a, &b).to_string();
    format!("diff -u -N {a} {b}\n{body}")
}

/// ANSI colours for a terminal: removals red, additions green, hunks cyan.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (text, nl) = line.strip_suffix('\n').map_or((line, ""), |t| (t, "\n"));
        let color = if text.starts_with("diff ") || text.starts_with("---") || text.starts_with("+++") {
            Some("1")
        } else if text.starts_with('-') {
            Some("31")
        } else if text.starts_with('+') {
            Some("32")
        } else if text.starts_with("@@") {
            Some("36")
        } else {
            None
        };
        match color {
            Some(c) => {
                out.push_str(&format!("\x1b[{c}m{text}\x1b[0m"));
                out.push_str(nl);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_marks_lines() {
        let c = colorize("--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n");
        assert!(c.contains("\x1b[31m-x\x1b[0m\n") && c.contains("\x1b[32m+y\x1b[0m\n") && c.ends_with(" z\n"));
    }
}
