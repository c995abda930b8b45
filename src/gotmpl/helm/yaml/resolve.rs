//! How go-yaml reads a plain scalar back (`resolve.go`): what decides
//! whether a string must be quoted; and its map key order (`sorter.go`).

use std::cmp::Ordering;
use std::sync::LazyLock;

use super::Flavor;

/// Whether yaml.v2's `resolve("", s)` gives `!!str` (yaml.v3's with its
/// `isOldBool` check gives the same answers).
pub(super) fn resolves_to_str(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else { return false };
    let hint = match first {
        b'+' | b'-' => 'S',
        b'0'..=b'9' => 'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => 'M',
        b'.' => '.',
        _ => return true,
    };
    const MAP: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No", "NO", "false",
        "False", "FALSE", "off", "Off", "OFF", "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf",
        ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
    ];
    if MAP.contains(&s) {
        return false;
    }
    match hint {
        '.' => go_parse_float(s).is_none(),
        'D' | 'S' => {
            if is_timestamp(s) {
                return false;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if parse_int_base0(&plain).is_some() {
                return false;
            }
            if FLOAT_RE.is_match(&plain) && go_parse_float(&plain).is_some() {
                return false;
            }
            true
        }
        _ => true,
    }
}

static FLOAT_RE: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").expect("regex"));
static BASE60_RE: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").expect("regex"));

pub(super) fn is_base60_float(s: &str) -> bool {
    let Some(&c) = s.as_bytes().first() else { return false };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    BASE60_RE.is_match(s)
}

/// `strconv.ParseFloat(s, 64)` succeeding (finite results, or `inf`/`nan` spelled out).
fn go_parse_float(s: &str) -> Option<f64> {
    let f = crate::gotmpl::sprig::parse_go_float(s)?;
    let lower = s.to_ascii_lowercase();
    if f.is_infinite() && !lower.contains("inf") {
        return None; // out of range: ParseFloat fails
    }
    Some(f)
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeding.
fn parse_int_base0(s: &str) -> Option<()> {
    if crate::gotmpl::sprig::parse_go_int(s).is_some() {
        return Some(());
    }
    // ParseUint: no sign, base prefixes as ParseInt.
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok().map(|_| ())
}

/// yaml.v2's `parseTimestamp`: `YYYY-M-D`, optionally with a time
/// (`T`/`t` and a zone, or a space and no zone).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let year_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_len != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    let mut p = Parser { b, i: 5 };
    let Some(month) = p.num(2) else { return false };
    if !p.eat(b'-') {
        return false;
    }
    let Some(day) = p.num(2) else { return false };
    let year: i64 = s[..4].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return false;
    }
    if p.done() {
        return true;
    }
    let zoned = match b[p.i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    p.i += 1;
    let Some(h) = p.num(2) else { return false };
    if !p.eat(b':') {
        return false;
    }
    let Some(m) = p.num(2) else { return false };
    if !p.eat(b':') {
        return false;
    }
    let Some(sec) = p.num(2) else { return false };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if p.eat(b'.') {
        let n = p.b[p.i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        p.i += n;
    }
    if !zoned {
        return p.done();
    }
    if p.eat(b'Z') {
        return p.done();
    }
    if !(p.eat(b'+') || p.eat(b'-')) {
        return false;
    }
    let two = |p: &mut Parser| {
        let ok = p.b.len() >= p.i + 2 && p.b[p.i].is_ascii_digit() && p.b[p.i + 1].is_ascii_digit();
        p.i += 2;
        ok
    };
    two(&mut p) && p.eat(b':') && two(&mut p) && p.done()
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn num(&mut self, max: usize) -> Option<i64> {
        let n = self.b[self.i.min(self.b.len())..].iter().take(max).take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let v = std::str::from_utf8(&self.b[self.i..self.i + n]).ok()?.parse().ok();
        self.i += n;
        v
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// go-yaml's `keyList.Less` for string keys: digit runs compare as numbers,
/// letters sort before other characters.
pub fn key_order(a: &str, b: &str, flavor: Flavor) -> Ordering {
    if key_less(a, b, flavor) {
        Ordering::Less
    } else if key_less(b, a, flavor) {
        Ordering::Greater
    } else {
        a.cmp(b)
    }
}

fn key_less(a: &str, b: &str, flavor: Flavor) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = ar[i].is_numeric();
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if flavor == Flavor::V3 && digits { al } else { bl };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_numeric() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_numeric() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai].to_digit(10).unwrap_or(0) as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_numeric() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi].to_digit(10).unwrap_or(0) as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}
