//! Semantic versions and ranges as helm reads them (Masterminds/semver):
//! lenient versions (`v1.2`, `1.2.3-rc.1+build`), constraints joined by
//! `,` or spaces (and) and `||` (or), operators `= != > < >= <= ~ ^`,
//! wildcards (`1.2.x`, `*`) and hyphen ranges (`1.2 - 1.4`). A version
//! with a pre-release only satisfies a constraint that has one.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl Version {
    /// Parse a version; missing minor/patch are 0, a leading `v` is allowed.
    pub fn parse(s: &str) -> Option<Version> {
        Self::parse_partial(s).filter(|(_, parts)| !parts.wildcard).map(|(v, _)| v)
    }

    /// Parse, also returning how many numeric parts were given and whether any was a wildcard.
    fn parse_partial(s: &str) -> Option<(Version, Parts)> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let s = s.split('+').next()?;
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (s, String::new()),
        };
        let mut nums = [0u64; 3];
        let mut given = 0;
        let mut wildcard = None;
        for (i, part) in core.split('.').enumerate() {
            if i >= 3 {
                return None;
            }
            if matches!(part, "x" | "X" | "*") {
                wildcard.get_or_insert(i);
                given = i + 1;
                continue;
            }
            if wildcard.is_some() || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            nums[i] = part.parse().ok()?;
            given = i + 1;
        }
        if given == 0 {
            return None;
        }
        let v = Version { major: nums[0], minor: nums[1], patch: nums[2], pre };
        Some((v, Parts { given: wildcard.unwrap_or(given), wildcard: wildcard.is_some() }))
    }
}

#[derive(Debug, Clone, Copy)]
struct Parts {
    /// Numeric parts given before any wildcard.
    given: usize,
    wildcard: bool,
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch)).then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

fn bump(v: &Version, part: usize) -> Version {
    match part {
        0 => Version { major: v.major + 1, minor: 0, patch: 0, pre: String::new() },
        1 => Version { major: v.major, minor: v.minor + 1, patch: 0, pre: String::new() },
        _ => Version { major: v.major, minor: v.minor, patch: v.patch + 1, pre: String::new() },
    }
}

/// One comparison: the version must lie in [lo, hi) (bounds optional) or be unequal.
fn check(op: &str, cv: &Version, parts: Parts, v: &Version) -> bool {
    if !v.pre.is_empty() && cv.pre.is_empty() {
        return false;
    }
    let range = |lo: &Version, hi: Option<Version>| v >= lo && hi.is_none_or(|h| *v < h);
    let wild_hi = || if parts.given == 0 { None } else { Some(bump(cv, parts.given - 1)) };
    match op {
        "" | "=" | "==" => {
            if parts.wildcard {
                range(cv, wild_hi())
            } else {
                v == cv
            }
        }
        "!=" => {
            if parts.wildcard {
                !range(cv, wild_hi())
            } else {
                v != cv
            }
        }
        ">" => {
            if parts.wildcard {
                wild_hi().is_some_and(|h| *v >= h)
            } else {
                v > cv
            }
        }
        ">=" | "=>" => v >= cv,
        "<" => v < cv,
        "<=" | "=<" => {
            if parts.wildcard {
                wild_hi().is_none_or(|h| *v < h)
            } else {
                v <= cv
            }
        }
        "~" | "~>" => {
            let hi = if parts.given >= 2 { bump(cv, 1) } else { bump(cv, 0) };
            range(cv, Some(hi))
        }
        "^" => {
            let hi = if cv.major > 0 || parts.given == 1 {
                bump(cv, 0)
            } else if cv.minor > 0 || parts.given == 2 {
                bump(cv, 1)
            } else {
                bump(cv, 2)
            };
            range(cv, Some(hi))
        }
        _ => false,
    }
}

/// Does `version` satisfy `constraint`? `Err` when either does not parse.
pub fn satisfies(constraint: &str, version: &str) -> Result<bool, String> {
    let v = Version::parse(version).ok_or_else(|| format!("invalid semantic version {version:?}"))?;
    let mut any = false;
    for alt in constraint.split("||") {
        let mut ok = true;
        let mut clauses = alt.trim();
        // Hyphen ranges: `1.2 - 1.4.5`.
        let hyphen: Option<(String, String)> =
            clauses.split_once(" - ").map(|(a, b)| (a.trim().to_string(), b.trim().to_string()));
        let expanded;
        if let Some((a, b)) = hyphen {
            expanded = format!(">= {a}, <= {b}");
            clauses = &expanded;
        }
        for clause in split_clauses(clauses) {
            let op_len = clause.find(|c: char| c.is_ascii_alphanumeric() || c == '*').unwrap_or(clause.len());
            let (op, rest) = clause.split_at(op_len);
            let op = op.trim();
            let (cv, parts) =
                Version::parse_partial(rest).ok_or_else(|| format!("improper constraint: {constraint}"))?;
            if !check(op, &cv, parts, &v) {
                ok = false;
            }
        }
        any |= ok;
    }
    Ok(any)
}

/// Split `>= 1.2, < 2` / `>=1.2 <2` into clauses, keeping an operator with its version.
fn split_clauses(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for tok in s.split([',', ' ']).map(str::trim).filter(|t| !t.is_empty()) {
        if tok.chars().all(|c| "=!<>~^".contains(c)) {
            pending_op.push_str(tok);
        } else {
            out.push(format!("{pending_op}{tok}"));
            pending_op.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        let t = |c: &str, v: &str| satisfies(c, v).unwrap();
        assert!(t(">=1.20-0", "v1.33.0"));
        assert!(t(">=1.20-0", "1.21.0-gke.1"));
        assert!(!t(">=1.20", "1.21.0-gke.1"));
        assert!(t("~1.2.3", "1.2.9") && !t("~1.2.3", "1.3.0"));
        assert!(t("^1.2.3", "1.9.0") && !t("^1.2.3", "2.0.0"));
        assert!(t("^0.2.3", "0.2.9") && !t("^0.2.3", "0.3.0"));
        assert!(t("1.2.x", "1.2.7") && !t("1.2.x", "1.3.0"));
        assert!(t("*", "3.0.0"));
        assert!(t(">= 1.0, < 2.0 || 3.x", "3.1.0"));
        assert!(t("1.2 - 1.4.5", "1.4.5") && !t("1.2 - 1.4.5", "1.4.6"));
        assert!(t("0.1.0", "0.1.0") && !t("0.1.0", "0.1.1"));
        assert!(satisfies(">= x.y", "1.0.0").is_err());
    }
}
