//! Go's reference-time layouts: splitting a layout into fields
//! (`2006`, `Jan`, `_2`, `15`, `.000`, `-07:00`, ...) and literal text,
//! formatting a UTC time with them and parsing text back.

use super::Time;

/// A layout field.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    /// Offsets: with a `Z` for UTC?, colon?, seconds?, minutes?
    Offset {
        z: bool,
        colon: bool,
        secs: bool,
        mins: bool,
    },
    /// Fractional seconds: digits, and whether trailing zeros are dropped.
    Frac(usize, bool),
}

/// Splits a layout into literal text and fields (Go's `nextStdChunk`).
fn chunks(layout: &str) -> Vec<Result<Std, &str>> {
    let b = layout.as_bytes();
    let mut out = Vec::new();
    let (mut lit, mut i) = (0, 0);
    let lower_at = |j: usize| b.get(j).is_some_and(u8::is_ascii_lowercase);
    while i < b.len() {
        let rest = &layout[i..];
        let found: Option<(Std, usize)> = match b[i] {
            b'J' if rest.starts_with("January") => Some((Std::LongMonth, 7)),
            b'J' if rest.starts_with("Jan") && !lower_at(i + 3) => Some((Std::Month, 3)),
            b'M' if rest.starts_with("Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if rest.starts_with("Mon") && !lower_at(i + 3) => Some((Std::WeekDay, 3)),
            b'M' if rest.starts_with("MST") => Some((Std::TZ, 3)),
            b'0' if rest.starts_with("002") => Some((Std::ZeroYearDay, 3)),
            b'0' => match b.get(i + 1) {
                Some(b'1') => Some((Std::ZeroMonth, 2)),
                Some(b'2') => Some((Std::ZeroDay, 2)),
                Some(b'3') => Some((Std::ZeroHour12, 2)),
                Some(b'4') => Some((Std::ZeroMinute, 2)),
                Some(b'5') => Some((Std::ZeroSecond, 2)),
                Some(b'6') => Some((Std::Year, 2)),
                _ => None,
            },
            b'1' if rest.starts_with("15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if rest.starts_with("2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if rest.starts_with("_2006") => {
                // a literal `_` and the year
                out.push(Err(&layout[lit..=i]));
                out.push(Ok(Std::LongYear));
                i += 5;
                lit = i;
                continue;
            }
            b'_' if rest.starts_with("_2") => Some((Std::UnderDay, 2)),
            b'_' if rest.starts_with("__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if rest.starts_with("PM") => Some((Std::PM, 2)),
            b'p' if rest.starts_with("pm") => Some((Std::Pm, 2)),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let p = &rest[1..];
                if p.starts_with("070000") {
                    Some((Std::Offset { z, colon: false, secs: true, mins: true }, 7))
                } else if p.starts_with("07:00:00") {
                    Some((Std::Offset { z, colon: true, secs: true, mins: true }, 9))
                } else if p.starts_with("0700") {
                    Some((Std::Offset { z, colon: false, secs: false, mins: true }, 5))
                } else if p.starts_with("07:00") {
                    Some((Std::Offset { z, colon: true, secs: false, mins: true }, 6))
                } else if p.starts_with("07") {
                    Some((Std::Offset { z, colon: false, secs: false, mins: false }, 3))
                } else {
                    None
                }
            }
            b'.' | b',' if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    Some((Std::Frac(j - i - 1, ch == b'9'), j - i))
                }
            }
            _ => None,
        };
        match found {
            Some((std, len)) => {
                if lit < i {
                    out.push(Err(&layout[lit..i]));
                }
                out.push(Ok(std));
                i += len;
                lit = i;
            }
            None => i += layout[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if lit < b.len() {
        out.push(Err(&layout[lit..]));
    }
    out
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Days since 1970-01-01 to (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// (year, month, day) of a Unix time.
pub(in crate::gotmpl::sprig) fn civil(unix: i64) -> (i64, i64, i64) {
    civil_from_days(unix.div_euclid(86_400))
}

/// Formats `t` (UTC) with a Go layout.
pub(super) fn format(t: &Time, layout: &str) -> String {
    let days = t.unix.div_euclid(86_400);
    let secs = t.unix.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let wday = (days + 4).rem_euclid(7) as usize;
    let mut out = String::new();
    for c in chunks(layout) {
        let std = match c {
            Err(lit) => {
                out.push_str(lit);
                continue;
            }
            Ok(std) => std,
        };
        let h12 = if h % 12 == 0 { 12 } else { h % 12 };
        match std {
            Std::LongMonth => out.push_str(MONTHS[mo as usize - 1]),
            Std::Month => out.push_str(&MONTHS[mo as usize - 1][..3]),
            Std::NumMonth => out += &mo.to_string(),
            Std::ZeroMonth => out += &format!("{mo:02}"),
            Std::LongWeekDay => out.push_str(DAYS[wday]),
            Std::WeekDay => out.push_str(&DAYS[wday][..3]),
            Std::Day => out += &d.to_string(),
            Std::UnderDay => out += &format!("{d:>2}"),
            Std::ZeroDay => out += &format!("{d:02}"),
            Std::UnderYearDay => out += &format!("{yday:>3}"),
            Std::ZeroYearDay => out += &format!("{yday:03}"),
            Std::Hour => out += &format!("{h:02}"),
            Std::Hour12 => out += &h12.to_string(),
            Std::ZeroHour12 => out += &format!("{h12:02}"),
            Std::Minute => out += &mi.to_string(),
            Std::ZeroMinute => out += &format!("{mi:02}"),
            Std::Second => out += &s.to_string(),
            Std::ZeroSecond => out += &format!("{s:02}"),
            Std::LongYear => out += &format!("{y:04}"),
            Std::Year => out += &format!("{:02}", y.rem_euclid(100)),
            Std::PM => out.push_str(if h >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if h >= 12 { "pm" } else { "am" }),
            Std::TZ => out.push_str("UTC"),
            Std::Offset { z: true, .. } => out.push('Z'),
            Std::Offset { colon, secs, mins, .. } => {
                out.push_str("+00");
                if mins {
                    out.push_str(if colon { ":00" } else { "00" });
                }
                if secs {
                    out.push_str(if colon { ":00" } else { "00" });
                }
            }
            Std::Frac(n, trim) => {
                let digits = format!("{:09}", t.nsec);
                let mut f = &digits[..n.min(9)];
                if trim {
                    f = f.trim_end_matches('0');
                    if f.is_empty() {
                        continue;
                    }
                }
                out.push('.');
                out.push_str(f);
            }
        }
    }
    out
}

/// Reads up to `max` digits (at least `min`).
fn digits(s: &mut &str, min: usize, max: usize) -> Result<i64, String> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return Err("bad number".into());
    }
    let v = s[..n].parse().map_err(|_| "bad number".to_string())?;
    *s = &s[n..];
    Ok(v)
}

fn name(s: &mut &str, names: &[&str], len: Option<usize>) -> Result<usize, String> {
    for (i, n) in names.iter().enumerate() {
        let n = len.map_or(*n, |l| &n[..l]);
        if s.len() >= n.len() && s[..n.len()].eq_ignore_ascii_case(n) {
            *s = &s[n.len()..];
            return Ok(i);
        }
    }
    Err("bad name".into())
}

/// Parses `value` with a Go layout as UTC (offsets in the text are
/// applied); the error names the failing part.
pub(super) fn parse(layout: &str, value: &str) -> Result<Time, String> {
    let mut s = value;
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ns) = (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let (mut pm, mut am, mut offset, mut yday) = (false, false, 0i64, None);
    let bad = |what: &str| {
        format!("cannot parse {} as {}", crate::gotmpl::fmt::quote(what), crate::gotmpl::fmt::quote(layout))
    };
    for c in chunks(layout) {
        let std = match c {
            Err(lit) => {
                s = s.strip_prefix(lit).ok_or_else(|| bad(s))?;
                continue;
            }
            Ok(std) => std,
        };
        let here = s;
        let r: Result<(), String> = (|| {
            match std {
                Std::LongMonth => mo = name(&mut s, &MONTHS, None)? as i64 + 1,
                Std::Month => mo = name(&mut s, &MONTHS, Some(3))? as i64 + 1,
                Std::NumMonth | Std::ZeroMonth => mo = digits(&mut s, if std == Std::ZeroMonth { 2 } else { 1 }, 2)?,
                Std::LongWeekDay => drop(name(&mut s, &DAYS, None)?),
                Std::WeekDay => drop(name(&mut s, &DAYS, Some(3))?),
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay {
                        s = s.strip_prefix(' ').unwrap_or(s);
                    }
                    d = digits(&mut s, if std == Std::ZeroDay { 2 } else { 1 }, 2)?;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    s = s.trim_start_matches(' ');
                    yday = Some(digits(&mut s, 1, 3)?);
                }
                Std::Hour => h = digits(&mut s, 2, 2)?,
                Std::Hour12 | Std::ZeroHour12 => h = digits(&mut s, if std == Std::ZeroHour12 { 2 } else { 1 }, 2)?,
                Std::Minute | Std::ZeroMinute => mi = digits(&mut s, if std == Std::ZeroMinute { 2 } else { 1 }, 2)?,
                Std::Second | Std::ZeroSecond => {
                    sec = digits(&mut s, if std == Std::ZeroSecond { 2 } else { 1 }, 2)?;
                    // a fraction after seconds is accepted even if the layout has none
                    if s.starts_with('.') && s[1..].starts_with(|c: char| c.is_ascii_digit()) {
                        let n = s[1..].bytes().take_while(u8::is_ascii_digit).count();
                        ns = frac_nanos(&s[1..1 + n]);
                        s = &s[1 + n..];
                    }
                }
                Std::LongYear => y = digits(&mut s, 4, 4)?,
                Std::Year => y = 1900 + digits(&mut s, 2, 2)?,
                Std::PM | Std::Pm => match s.get(..2).map(str::to_ascii_uppercase).as_deref() {
                    Some("PM") => {
                        pm = true;
                        s = &s[2..];
                    }
                    Some("AM") => {
                        am = true;
                        s = &s[2..];
                    }
                    _ => return Err("bad am/pm".into()),
                },
                Std::TZ => {
                    let n = s.bytes().take_while(u8::is_ascii_uppercase).count();
                    if n < 3 {
                        return Err("bad zone".into());
                    }
                    s = &s[n..];
                }
                Std::Offset { z, colon, secs, mins } => {
                    if z && s.starts_with('Z') {
                        s = &s[1..];
                        return Ok(());
                    }
                    let sign = match s.as_bytes().first() {
                        Some(b'+') => 1,
                        Some(b'-') => -1,
                        _ => return Err("bad offset".into()),
                    };
                    s = &s[1..];
                    let mut off = digits(&mut s, 2, 2)? * 3600;
                    for (want, mult) in [(mins, 60), (secs, 1)] {
                        if want {
                            if colon {
                                s = s.strip_prefix(':').ok_or("bad offset")?;
                            }
                            off += digits(&mut s, 2, 2)? * mult;
                        }
                    }
                    offset = sign * off;
                }
                Std::Frac(n, trim) => {
                    if let Some(rest) = s.strip_prefix(['.', ',']) {
                        let k = rest.bytes().take_while(u8::is_ascii_digit).count();
                        if !trim && k != n {
                            return Err("bad fraction".into());
                        }
                        ns = frac_nanos(&rest[..k]);
                        s = &rest[k..];
                    } else if !trim {
                        return Err("bad fraction".into());
                    }
                }
            }
            Ok(())
        })();
        r.map_err(|_| bad(here))?;
    }
    if !s.is_empty() {
        return Err(format!("extra text: {}", crate::gotmpl::fmt::quote(s)));
    }
    if pm && h < 12 {
        h += 12;
    } else if am && h == 12 {
        h = 0;
    }
    if let Some(yd) = yday {
        let days = days_from_civil(y, 1, 1) + yd - 1;
        let (_, m2, d2) = civil_from_days(days);
        mo = m2;
        d = d2;
    }
    let month_len = [31, if is_leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) {
        return Err("month out of range".into());
    }
    if d < 1 || d > month_len[mo as usize - 1] || h > 23 || mi > 59 || sec > 59 {
        return Err("day out of range".into());
    }
    let unix = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Ok(Time { unix, nsec: ns as u32 })
}

fn frac_nanos(digits: &str) -> i64 {
    let mut d = digits.chars().take(9).collect::<String>();
    while d.len() < 9 {
        d.push('0');
    }
    d.parse().unwrap_or(0)
}
