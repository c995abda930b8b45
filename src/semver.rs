//! Semantic versions and ranges as Masterminds/semver (v3) reads them, the
//! library behind helm's chart versions and Argo CD Image Updater's tag
//! constraints:
//! lenient versions (`v1.2`, `1.2.3-rc.1+build`), constraints joined by
//! `,` or spaces (and) and `||` (or), operators `= != > < >= <= ~ ^`,
//! wildcards (`1.2.x`, `*`) and hyphen ranges (`1.2 - 1.4`). A version
//! with a pre-release only satisfies a constraint that has one.
//!
//! Rust's `semver` crate reads the same text differently: a bare `1.2.3`
//! is `^1.2.3` there and exactly 1.2.3 here; `v` prefixes, `1.2` versions,
//! `||` and hyphen ranges are errors there (the tests list each case).

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
        let (s, build) = match s.split_once('+') {
            Some((v, b)) => (v, Some(b)),
            None => (s, None),
        };
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (s, String::new()),
        };
        // Dot-separated identifiers of [0-9A-Za-z-], as the library's pattern wants.
        let identifiers =
            |t: &str| t.split('.').all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if (s.contains('-') && !identifiers(&pre)) || build.is_some_and(|b| !identifiers(b)) {
            return None;
        }
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

/// One clause as Masterminds v3 checks it. A partial or wildcard version
/// is "dirty": `1.2` and `1.2.x` are patch-dirty, `1` and `1.x` minor-dirty,
/// `*` dirty in the major (its version is 0.0.0). `include_pre`: some clause
/// of the AND group names a pre-release, so pre-release versions may match.
fn check(op: &str, cv: &Version, parts: Parts, v: &Version, include_pre: bool) -> bool {
    if !v.pre.is_empty() && !include_pre {
        return false;
    }
    let dirty = parts.given < 3;
    let minor_dirty = parts.given == 1;
    let patch_dirty = parts.given == 2;
    let tilde = || {
        if v < cv {
            return false;
        }
        if cv.major == 0 && cv.minor == 0 && cv.patch == 0 && !minor_dirty && !patch_dirty {
            return true;
        }
        v.major == cv.major && (v.minor == cv.minor || minor_dirty)
    };
    match op {
        "" | "=" => {
            if dirty {
                tilde()
            } else {
                v == cv
            }
        }
        "!=" => {
            if dirty {
                if cv.major != v.major {
                    return true;
                }
                if cv.minor != v.minor && !minor_dirty {
                    return true;
                } else if minor_dirty {
                    return false;
                } else if cv.patch != v.patch && !patch_dirty {
                    return true;
                } else if patch_dirty {
                    return (!v.pre.is_empty() || !cv.pre.is_empty()) && cmp_pre(&v.pre, &cv.pre) != Ordering::Equal;
                }
            }
            v != cv
        }
        ">" => {
            if !dirty {
                return v > cv;
            }
            if v.major != cv.major {
                return v.major > cv.major;
            }
            if minor_dirty {
                false
            } else if patch_dirty {
                v.minor > cv.minor
            } else {
                v > cv
            }
        }
        "<" => v < cv,
        ">=" | "=>" => v >= cv,
        "<=" | "=<" => {
            if !dirty {
                return v <= cv;
            }
            !(v.major > cv.major || (v.major == cv.major && v.minor > cv.minor && !minor_dirty))
        }
        "~" | "~>" => tilde(),
        "^" => {
            if v < cv {
                return false;
            }
            if cv.major > 0 || minor_dirty {
                return v.major == cv.major;
            }
            if v.major > 0 {
                return false;
            }
            if cv.minor > 0 || patch_dirty {
                return v.minor == cv.minor;
            }
            if v.minor > 0 {
                return false;
            }
            v.patch == cv.patch
        }
        _ => false,
    }
}

/// Does `version` satisfy `constraint`? `Err` when either does not parse.
pub fn satisfies(constraint: &str, version: &str) -> Result<bool, String> {
    let v = Version::parse(version).ok_or_else(|| format!("invalid semantic version {version:?}"))?;
    let mut any = false;
    for alt in constraint.split("||") {
        let mut clauses = alt.trim();
        // Hyphen ranges: `1.2 - 1.4.5`.
        let hyphen: Option<(String, String)> =
            clauses.split_once(" - ").map(|(a, b)| (a.trim().to_string(), b.trim().to_string()));
        let expanded;
        if let Some((a, b)) = hyphen {
            expanded = format!(">= {a}, <= {b}");
            clauses = &expanded;
        }
        let mut parsed = Vec::new();
        for clause in split_clauses(clauses) {
            let op_len = clause.find(|c: char| c.is_ascii_alphanumeric() || c == '*').unwrap_or(clause.len());
            let (op, rest) = clause.split_at(op_len);
            let op = op.trim();
            if !matches!(op, "" | "=" | "!=" | ">" | "<" | ">=" | "=>" | "<=" | "=<" | "~" | "~>" | "^") {
                return Err(format!("improper constraint: {constraint}"));
            }
            let (cv, parts) =
                Version::parse_partial(rest).ok_or_else(|| format!("improper constraint: {constraint}"))?;
            parsed.push((op.trim().to_string(), cv, parts));
        }
        if parsed.is_empty() {
            return Err(format!("improper constraint: {constraint}"));
        }
        let include_pre = parsed.iter().any(|(_, cv, _)| !cv.pre.is_empty());
        any |= parsed.iter().all(|(op, cv, parts)| check(op, cv, *parts, &v, include_pre));
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
        assert!(satisfies("=~1.2", "1.0.0").is_err() && satisfies("", "1.0.0").is_err());
    }

    /// Partial versions are "dirty" in Masterminds v3 (3.2 and later).
    #[test]
    fn partial_versions_and_wildcards() {
        let t = |c: &str, v: &str| satisfies(c, v).unwrap();
        assert!(t("1.2", "1.2.7") && !t("1.2", "1.3.0"), "a bare partial version is a tilde range");
        assert!(t("1", "1.9.0") && !t("1", "2.0.0"));
        assert!(!t(">1.2", "1.2.5") && t(">1.2", "1.3.0"));
        assert!(!t(">1", "1.9.0") && t(">1", "2.0.0"));
        assert!(t("<=1.2", "1.2.9") && !t("<=1.2", "1.3.0"));
        assert!(t("<1.2", "1.1.9") && !t("<1.2", "1.2.0"));
        assert!(!t("!=1.2", "1.2.3") && t("!=1.2", "1.3.0") && t("!=1.2.3", "1.2.4"));
        assert!(t("*", "3.0.0") && t("~0.0.0", "5.0.0"));
        assert!(t("^0.0.3", "0.0.3") && !t("^0.0.3", "0.0.4") && t("^1.x", "1.5.0"));
    }

    /// A pre-release in one clause of an AND group admits pre-releases to the whole group.
    #[test]
    fn prereleases_per_and_group() {
        let t = |c: &str, v: &str| satisfies(c, v).unwrap();
        assert!(t(">=1.0.0-0 <2.0.0", "1.5.0-rc.1"));
        assert!(!t("<2.0.0", "1.5.0-rc.1"));
        assert!(!t(">=1.0.0-0 <2.0.0 || >=3", "3.1.0-rc.1"));
    }

    #[test]
    fn versions_parse_leniently_but_identifiers_are_checked() {
        assert_eq!(Version::parse("v1.2"), Some(Version { major: 1, minor: 2, patch: 0, pre: String::new() }));
        assert_eq!(Version::parse("1").map(|v| v.major), Some(1));
        assert_eq!(Version::parse("1.2.3-rc.1+build.5").map(|v| v.pre), Some("rc.1".into()));
        for bad in ["latest", "1.2.3.4", "1.2.3-rc_1", "1.2.3-", "1.2.3+", "1.2.3-a..b", "v", ""] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        // Ordering: pre-releases before the release, numeric identifiers numerically.
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(v("1.2.3-rc.2") < v("1.2.3-rc.10") && v("1.2.3-rc.10") < v("1.2.3"));
        assert!(v("1.2.3-alpha") < v("1.2.3-beta") && v("1.2.3-1") < v("1.2.3-alpha"));
    }

    /// Where Masterminds (this module) and Rust's `semver` crate disagree on
    /// the same text: the reason a tag constraint must not go through the crate.
    #[test]
    fn differences_from_the_rust_semver_crate() {
        let crate_says = |c: &str, v: &str| -> Option<bool> {
            let req = ::semver::VersionReq::parse(c).ok()?;
            Some(req.matches(&::semver::Version::parse(v).ok()?))
        };
        let ours = |c: &str, v: &str| satisfies(c, v).unwrap();
        // A bare version: exactly that version here, a caret range there.
        assert!(!ours("1.2.3", "1.9.0"));
        assert_eq!(crate_says("1.2.3", "1.9.0"), Some(true));
        // `||`, hyphen ranges and `v` prefixes: Masterminds syntax the crate rejects.
        assert!(ours(">=1.0.0 <1.1.0 || >=2.0.0", "2.1.0"));
        assert_eq!(crate_says(">=1.0.0 <1.1.0 || >=2.0.0", "2.1.0"), None);
        assert!(ours("1.2 - 1.4", "1.3.5"));
        assert_eq!(crate_says("1.2 - 1.4", "1.3.5"), None);
        assert!(ours("v1.2.x", "v1.2.7"));
        assert_eq!(crate_says("v1.2.x", "1.2.7"), None);
        // Space-separated clauses: an AND here; the crate wants commas.
        assert!(ours(">=1.2 <2", "1.5.0"));
        assert_eq!(crate_says(">=1.2 <2", "1.5.0"), None);
        // A pre-release: only when the clause names one, for both, but the
        // crate also wants the same major.minor.patch; Masterminds does not.
        assert!(ours(">=1.2.0-0", "1.3.0-rc.1"));
        assert_eq!(crate_says(">=1.2.0-0", "1.3.0-rc.1"), Some(false));
        assert!(!ours(">=1.2.0", "1.3.0-rc.1"));
        // `~1` and `^0.0`: the same meaning in both.
        assert_eq!(crate_says("~1", "1.9.0"), Some(ours("~1", "1.9.0")));
        assert!(ours("^0.0", "0.0.9") && !ours("^0.0", "0.1.0"));
        assert_eq!(crate_says("^0.0", "0.0.9"), Some(true));
        // A bare partial version: 1.2.x here, ^1.2 there.
        assert!(!ours("1.2", "1.9.0"));
        assert_eq!(crate_says("1.2", "1.9.0"), Some(true));
        // Versions: `1.2` and `v1.2.3` are versions here, errors there.
        assert!(Version::parse("1.2").is_some() && ::semver::Version::parse("1.2").is_err());
        assert!(Version::parse("v1.2.3").is_some() && ::semver::Version::parse("v1.2.3").is_err());
    }
}
