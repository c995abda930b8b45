//! Choosing the tag an image updates to, as Argo CD Image Updater does
//! (`GetTags`, then `GetNewestVersionFromTags`):
//!
//! 1. the registry's tags are filtered: `allow-tags` must match, no
//!    `ignore-tags` glob may match (Go's `filepath.Match`), and the digest
//!    strategy keeps only the tag its constraint names;
//! 2. the rest are sorted by the strategy (semver: by version, ties by the
//!    tag's text; alphabetical: by text; newest-build: by the image's
//!    `created` time, ties by text; digest: the one tag) and, for semver,
//!    tags that are no version or miss the constraint are dropped;
//! 3. the last one wins.
//!
//! Pure: tags and their metadata come in, a choice comes out.

use std::cmp::Ordering;

use super::annotations::{AllowTags, ImageSpec, Strategy};
use crate::semver::{self, Version};

/// A tag and, when the strategy needs them, its image's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub tag: String,
    /// The image's `created` time (seconds, nanoseconds since the epoch, UTC).
    pub created: Option<(i64, u32)>,
    /// The digest of the tag's manifest (or index).
    pub digest: Option<String>,
}

impl Candidate {
    pub fn new(tag: &str) -> Self {
        Candidate { tag: tag.to_string(), created: None, digest: None }
    }
}

/// The tags worth looking at (step 1), in the registry's order.
pub fn filter_tags(spec: &ImageSpec, tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter(|t| match &spec.allow {
            AllowTags::Any => true,
            AllowTags::Regexp(re) => re.is_match(t),
        })
        .filter(|t| !spec.ignore.iter().any(|g| go_match(g, t).unwrap_or(false)))
        .filter(|t| spec.strategy != Strategy::Digest || Some(t.as_str()) == spec.constraint())
        .cloned()
        .collect()
}

/// The newest candidate by the strategy (steps 2 and 3); `Ok(None)` when
/// none qualifies. `current` is the tag in use: the semver strategy refuses
/// to move from a tag that is no version (as Image Updater does).
pub fn choose(spec: &ImageSpec, current: Option<&str>, candidates: &[Candidate]) -> Result<Option<Candidate>, String> {
    let mut list: Vec<&Candidate> = candidates.iter().collect();
    match spec.strategy {
        Strategy::Semver => {
            if let Some(cur) = current.filter(|c| !c.is_empty())
                && Version::parse(cur).is_none()
            {
                return Err(format!(
                    "the current tag {cur:?} is not a semantic version; the semver strategy cannot update from it"
                ));
            }
            let mut versions: Vec<(Version, &Candidate)> =
                list.into_iter().filter_map(|c| Some((Version::parse(&c.tag)?, c))).collect();
            if let Some(constraint) = spec.constraint() {
                // Validated when the annotations were read.
                versions.retain(|(_, c)| semver::satisfies(constraint, &c.tag).unwrap_or(false));
            }
            versions.sort_by(|(a, ca), (b, cb)| a.cmp(b).then_with(|| ca.tag.cmp(&cb.tag)));
            Ok(versions.pop().map(|(_, c)| c.clone()))
        }
        Strategy::Alphabetical => {
            list.sort_by(|a, b| a.tag.cmp(&b.tag));
            Ok(list.pop().cloned())
        }
        Strategy::NewestBuild => {
            list.retain(|c| c.created.is_some());
            list.sort_by(|a, b| match a.created.cmp(&b.created) {
                Ordering::Equal => a.tag.cmp(&b.tag),
                o => o,
            });
            Ok(list.pop().cloned())
        }
        Strategy::Digest => {
            Ok(list.into_iter().find(|c| Some(c.tag.as_str()) == spec.constraint() && c.digest.is_some()).cloned())
        }
    }
}

/// Go's `path/filepath.Match` for a tag (`*` any run of characters but
/// `/`, `?` one, `[...]`/`[^...]` classes with ranges, `\` escapes).
/// `None` for a malformed pattern.
pub fn go_match(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Option<bool> {
    let Some((&first, rest)) = p.split_first() else { return Some(n.is_empty()) };
    match first {
        '*' => {
            // Try every split that does not cross a separator.
            for i in 0..=n.len() {
                if i > 0 && n[i - 1] == '/' {
                    break;
                }
                if match_from(rest, &n[i..])? {
                    return Some(true);
                }
            }
            // A malformed rest is still an error when nothing matched.
            Some(false)
        }
        '?' => match n.split_first() {
            Some((&c, nr)) if c != '/' => match_from(rest, nr),
            _ => Some(false),
        },
        '[' => {
            let (matched, consumed) = class(rest, n.first().copied())?;
            match (matched, n.split_first()) {
                (true, Some((_, nr))) => match_from(&rest[consumed..], nr),
                _ => Some(false),
            }
        }
        '\\' => match rest.split_first() {
            Some((&lit, pr)) => match n.split_first() {
                Some((&c, nr)) if c == lit => match_from(pr, nr),
                _ => Some(false),
            },
            None => None,
        },
        lit => match n.split_first() {
            Some((&c, nr)) if c == lit => match_from(rest, nr),
            _ => Some(false),
        },
    }
}

/// A `[...]` class after its `[`: whether `c` is in it, and the pattern length it used (through `]`).
fn class(p: &[char], c: Option<char>) -> Option<(bool, usize)> {
    let mut i = 0;
    let negate = p.first() == Some(&'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            i += 1;
            *p.get(i)?
        } else {
            ch
        };
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            hi = if p[i] == '\\' {
                i += 1;
                *p.get(i)?
            } else {
                p[i]
            };
            i += 1;
        }
        if lo > hi {
            return None;
        }
        if let Some(c) = c
            && lo <= c
            && c <= hi
        {
            matched = true;
        }
    }
    let Some(c) = c else { return Some((false, i)) };
    Some((matched != negate && c != '/', i))
}

/// Parse an RFC 3339 time (Go's `time.RFC3339Nano` layout, any offset) into
/// seconds and nanoseconds since the epoch, UTC.
pub fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok()).flatten()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = frac[..digits].parse::<u32>().ok()? * 10u32.pow(9 - digits as u32);
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (num_of(&rest[1..3])? * 3600 + num_of(&rest[4..6])? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3600 + min * 60 + sec - offset, nanos))
}

fn num_of(s: &str) -> Option<i64> {
    s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imageupdate::annotations::Platform;
    use crate::imageupdate::reference::ImageRef;

    fn spec(image: &str, strategy: Strategy) -> ImageSpec {
        ImageSpec {
            alias: None,
            image: ImageRef::parse(image).unwrap(),
            strategy,
            allow: AllowTags::Any,
            ignore: Vec::new(),
            platforms: vec![Platform::default_linux()],
            pull_secret: None,
            force_update: false,
            helm: Default::default(),
            kustomize_name: None,
        }
    }

    fn tags(list: &[&str]) -> Vec<Candidate> {
        list.iter().map(|t| Candidate::new(t)).collect()
    }

    fn pick(s: &ImageSpec, list: &[&str]) -> Option<String> {
        choose(s, None, &tags(list)).unwrap().map(|c| c.tag)
    }

    #[test]
    fn semver_with_each_constraint_form() {
        let all = ["1.0.0", "1.2.0", "1.2.9", "1.3.0", "1.10.0-rc.1", "2.0.0", "v2.1.0", "2.1", "latest", "3.0.0-beta"];
        let with = |c: &str| pick(&spec(&format!("x/app:{c}"), Strategy::Semver), &all);
        // No constraint: every version, pre-releases too (Image Updater checks no constraint then).
        assert_eq!(pick(&spec("x/app", Strategy::Semver), &all).as_deref(), Some("3.0.0-beta"));
        assert_eq!(with("~1.2").as_deref(), Some("1.2.9"));
        assert_eq!(with("^1.0").as_deref(), Some("1.3.0"));
        assert_eq!(with("1.2.x").as_deref(), Some("1.2.9"));
        assert_eq!(with(">=1.0 <2.0").as_deref(), Some("1.3.0"));
        assert_eq!(with(">=1.0-0 <2.0-0").as_deref(), Some("1.10.0-rc.1"), "a pre-release when the constraint has one");
        assert_eq!(with("1.0 - 1.2").as_deref(), Some("1.2.9"));
        assert_eq!(
            with("<1.1 || >=2.0 <3").as_deref(),
            Some("v2.1.0"),
            "v2.1.0 and 2.1 tie on 2.1.0; the text breaks it"
        );
        assert_eq!(with("1.2.0").as_deref(), Some("1.2.0"), "a bare version is that version");
        assert_eq!(with("9.x"), None);
        // The current tag must be a version.
        let e = choose(&spec("x/app", Strategy::Semver), Some("latest"), &tags(&all)).unwrap_err();
        assert!(e.contains("not a semantic version"), "{e}");
    }

    #[test]
    fn alphabetical_newest_build_and_digest() {
        assert_eq!(pick(&spec("x/app", Strategy::Alphabetical), &["b-2", "a-9", "b-10"]).as_deref(), Some("b-2"));
        let at = |t: &str, time: &str| Candidate { tag: t.into(), created: parse_rfc3339(time), digest: None };
        let list = vec![
            at("old", "2026-01-01T00:00:00Z"),
            at("new", "2026-03-01T10:00:00.5+02:00"),
            at("newer-zone", "2026-03-01T08:00:00.6Z"),
            Candidate::new("no-metadata"),
        ];
        let s = spec("x/app", Strategy::NewestBuild);
        assert_eq!(choose(&s, None, &list).unwrap().unwrap().tag, "newer-zone");
        let tie = vec![at("b", "2026-01-01T00:00:00Z"), at("a", "2026-01-01T00:00:00Z")];
        assert_eq!(choose(&s, None, &tie).unwrap().unwrap().tag, "b");
        let d = spec("x/app:stable", Strategy::Digest);
        let list = vec![
            Candidate { tag: "stable".into(), created: None, digest: Some("sha256:aa".into()) },
            Candidate { tag: "other".into(), created: None, digest: Some("sha256:bb".into()) },
        ];
        assert_eq!(choose(&d, Some("stable"), &list).unwrap().unwrap().digest.as_deref(), Some("sha256:aa"));
    }

    #[test]
    fn allow_and_ignore_filters() {
        let mut s = spec("x/app", Strategy::Alphabetical);
        s.allow = AllowTags::Regexp(regex::Regex::new(r"^main-[0-9]+$").unwrap());
        s.ignore = vec!["main-9*".into(), "[0-9]?".into()];
        let all: Vec<String> =
            ["main-1", "main-2", "main-90", "main-3-dirty", "feature-7", "12"].iter().map(|s| s.to_string()).collect();
        assert_eq!(filter_tags(&s, &all), vec!["main-1", "main-2"]);
        let d = spec("x/app:stable", Strategy::Digest);
        assert_eq!(filter_tags(&d, &["stable".into(), "latest".into()]), vec!["stable"]);
    }

    #[test]
    fn go_globs() {
        assert_eq!(go_match("*-rc*", "1.2-rc1"), Some(true));
        assert_eq!(go_match("v?.?", "v1.2"), Some(true));
        assert_eq!(go_match("[^a-c]x", "dx"), Some(true));
        assert_eq!(go_match("[^a-c]x", "bx"), Some(false));
        assert_eq!(go_match("\\*", "*"), Some(true));
        assert_eq!(go_match("*", "a/b"), Some(false));
        assert!(go_match("[a-", "a").is_none());
        assert!(go_match("ab\\", "ab").is_none());
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00.25Z"), Some((951_782_400, 250_000_000)));
        assert_eq!(parse_rfc3339("2026-11-25T18:59:59+02:00"), Some((1_795_625_999, 0)));
        assert_eq!(parse_rfc3339("2026-11-25 16:59:59Z"), None);
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
    }
}
