//! `semver` and `semverCompare` with Masterminds/semver v3's rules: loose
//! versions (`v1.2` is 1.2.0), constraints joined with `,`/space (and) and
//! `||` (or), operators `= != > < >= <= ~ ~> ^`, wildcards `x X *`, hyphen
//! ranges, and prereleases: a version with a prerelease satisfies a
//! constraint only when the constraint's version has one too (so charts
//! write `>=1.21-0` to admit `1.30.0-gke.1`).

use std::cmp::Ordering;
use std::rc::Rc;
use std::sync::LazyLock;

use regex::Regex;

use super::{add, err, string_arg};
use crate::gotmpl::Error;
use crate::gotmpl::value::{Arity, Func, IntType, Object, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "semver", Arity::Exact(1), |a| Ok(Value::Object(Rc::new(Version::parse(string_arg(a, 0)?)?))));
    add(v, "semverCompare", Arity::Exact(2), |a| {
        let c = Constraints::parse(string_arg(a, 0)?)?;
        let v = Version::parse(string_arg(a, 1)?)?;
        Ok(Value::Bool(c.check(&v)))
    });
}

/// A parsed version (`*semver.Version`).
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$")
        .expect("valid regex")
});
static CONSTRAINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^\s*({OPS})\s*({CV})\s*$")).expect("valid regex"));
static RANGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"\s*({CV})\s+-\s+({CV})\s*")).expect("valid regex"));
static FIND: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!(r"({OPS})\s*({CV})")).expect("valid regex"));
static VALID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")).expect("valid regex")
});

impl Version {
    /// `semver.NewVersion`.
    pub fn parse(v: &str) -> Result<Version, Error> {
        let m = VERSION.captures(v).ok_or_else(|| err("invalid semantic version"))?;
        let seg = |i: usize| -> Result<u64, Error> {
            match m.get(i) {
                None => Ok(0),
                Some(s) => {
                    let s = s.as_str().trim_start_matches('.');
                    s.parse().map_err(|_| {
                        err(format!(
                            "Error parsing version segment: strconv.ParseUint: parsing {}: value out of range",
                            crate::gotmpl::fmt::quote(s)
                        ))
                    })
                }
            }
        };
        let pre = m.get(5).map_or("", |x| x.as_str()).to_string();
        for part in pre.split('.').filter(|_| !pre.is_empty()) {
            if part.len() > 1 && part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("version segment starts with 0"));
            }
        }
        Ok(Version {
            major: seg(1)?,
            minor: seg(2)?,
            patch: seg(3)?,
            pre,
            metadata: m.get(8).map_or("", |x| x.as_str()).to_string(),
            original: v.to_string(),
        })
    }

    fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch)).then_with(|| {
            match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            }
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

/// Dot-separated identifiers; numbers compare as numbers and below words;
/// a missing identifier is below a present one.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..pa.len().max(pb.len()) {
        let (x, y) = (pa.get(i).copied().unwrap_or(""), pb.get(i).copied().unwrap_or(""));
        let d = compare_part(x, y);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    let (sn, on) = (s.parse::<u64>().ok(), o.parse::<u64>().ok());
    if o.is_empty() {
        return if sn.is_some() { Ordering::Less } else { Ordering::Greater };
    }
    if s.is_empty() {
        return if on.is_some() { Ordering::Greater } else { Ordering::Less };
    }
    match (sn, on) {
        (None, None) => s.cmp(o),
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

impl Object for Version {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn method(&self, name: &str) -> Option<Func> {
        let v = self.clone();
        let f = move |name: &str, out: Value| Func::new(name, Arity::Exact(0), move |_, _| Ok(out.clone()));
        Some(match name {
            "Major" => f(name, Value::Int(v.major as i64, IntType::Uint64)),
            "Minor" => f(name, Value::Int(v.minor as i64, IntType::Uint64)),
            "Patch" => f(name, Value::Int(v.patch as i64, IntType::Uint64)),
            "Prerelease" => f(name, Value::from(v.pre.clone())),
            "Metadata" => f(name, Value::from(v.metadata.clone())),
            "Original" => f(name, Value::from(v.original.clone())),
            "String" => f(name, Value::from(v.to_string())),
            _ => return None,
        })
    }
    fn string(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// One comparison of a constraint.
struct Constraint {
    op: String,
    con: Version,
    orig: String,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

/// `semver.Constraints`: OR of ANDs.
pub struct Constraints(Vec<Vec<Constraint>>);

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Constraints {
    /// `semver.NewConstraint`.
    pub fn parse(c: &str) -> Result<Constraints, Error> {
        let c = rewrite_range(c);
        let mut ors = Vec::new();
        for part in c.split("||") {
            if !VALID.is_match(part) {
                return Err(err(format!("improper constraint: {part}")));
            }
            let mut found: Vec<&str> = FIND.find_iter(part).map(|m| m.as_str()).collect();
            if found.is_empty() {
                found.push(part);
            }
            ors.push(found.into_iter().map(Constraint::parse).collect::<Result<_, _>>()?);
        }
        Ok(Constraints(ors))
    }

    pub fn check(&self, v: &Version) -> bool {
        self.0.iter().any(|and| and.iter().all(|c| c.check(v)))
    }
}

/// `1.2 - 1.4.5` becomes `>= 1.2, <= 1.4.5`.
fn rewrite_range(c: &str) -> String {
    let mut out = c.to_string();
    for m in RANGE.captures_iter(c) {
        let t = format!(">= {}, <= {}", &m[1], &m[11]);
        out = out.replacen(&m[0], &t, 1);
    }
    out
}

impl Constraint {
    fn parse(c: &str) -> Result<Constraint, Error> {
        if c.is_empty() {
            let con = Version::parse("0.0.0")?;
            return Ok(Constraint {
                op: String::new(),
                con,
                orig: String::new(),
                minor_dirty: false,
                patch_dirty: false,
                dirty: true,
            });
        }
        let m = CONSTRAINT.captures(c).ok_or_else(|| err(format!("improper constraint: {c}")))?;
        let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
        let pre = g(6);
        let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
        let ver = if is_x(g(3)) || g(3).is_empty() {
            dirty = true;
            format!("0.0.0{pre}")
        } else if is_x(g(4).trim_start_matches('.')) || g(4).is_empty() {
            minor_dirty = true;
            dirty = true;
            format!("{}.0.0{pre}", g(3))
        } else if is_x(g(5).trim_start_matches('.')) || g(5).is_empty() {
            patch_dirty = true;
            dirty = true;
            format!("{}{}.0{pre}", g(3), g(4))
        } else {
            g(2).to_string()
        };
        let con = Version::parse(&ver).map_err(|_| err("constraint Parser Error"))?;
        Ok(Constraint { op: g(1).to_string(), con, orig: g(2).to_string(), minor_dirty, patch_dirty, dirty })
    }

    fn check(&self, v: &Version) -> bool {
        let _ = &self.orig;
        if !v.pre.is_empty() && self.con.pre.is_empty() {
            return false;
        }
        let c = &self.con;
        let cmp = v.compare(c);
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    if c.minor != v.minor {
                        return true;
                    }
                    if self.patch_dirty {
                        return (!v.pre.is_empty() || !c.pre.is_empty())
                            && compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                    }
                    if c.patch != v.patch {
                        return true;
                    }
                }
                cmp != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return cmp == Ordering::Greater;
                }
                match v.major.cmp(&c.major) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal if self.minor_dirty => false,
                    Ordering::Equal if self.patch_dirty => v.minor > c.minor,
                    Ordering::Equal => cmp == Ordering::Greater,
                }
            }
            "<" => cmp == Ordering::Less,
            ">=" | "=>" => cmp != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return cmp != Ordering::Greater;
                }
                !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => self.tilde(v),
            "^" => self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        v.patch == c.patch
    }
}
