//! Sprig's date functions (`now`, `date`, `dateInZone`, `htmlDate`,
//! `htmlDateInZone`, `toDate`, `unixEpoch`, `dateModify`, `duration`,
//! `durationRound`, `ago`) over a `time.Time` value formatted and parsed
//! with Go's reference layouts (`2006-01-02 15:04:05`).
//!
//! Every zone is UTC: helm's "Local" is the zone of the machine that
//! renders, which a reproducible render should not depend on, and
//! unknown zone names fall back to UTC in Sprig too. Named zones other
//! than UTC (`America/New_York`) are not loaded: they render as UTC.

use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{add, string_arg};
use crate::gotmpl::value::{Arity, Func, IntType, Object, Value};

mod layout;

pub(super) use layout::civil;

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "now", Arity::Exact(0), |_| Ok(Time::now().value()));
    add(v, "date", Arity::Exact(2), |a| Ok(Value::from(layout::format(&time_arg(&a[1]), string_arg(a, 0)?))));
    for name in ["dateInZone", "date_in_zone"] {
        add(v, name, Arity::Exact(3), |a| {
            string_arg(a, 2)?;
            Ok(Value::from(layout::format(&time_arg(&a[1]), string_arg(a, 0)?)))
        });
    }
    add(v, "htmlDate", Arity::Exact(1), |a| Ok(Value::from(layout::format(&time_arg(&a[0]), "2006-01-02"))));
    add(v, "htmlDateInZone", Arity::Exact(2), |a| {
        string_arg(a, 1)?;
        Ok(Value::from(layout::format(&time_arg(&a[0]), "2006-01-02")))
    });
    add(v, "toDate", Arity::Exact(2), |a| {
        Ok(layout::parse(string_arg(a, 0)?, string_arg(a, 1)?).unwrap_or(Time { unix: ZERO_UNIX, nsec: 0 }).value())
    });
    add(v, "mustToDate", Arity::Exact(2), |a| {
        let (l, s) = (string_arg(a, 0)?, string_arg(a, 1)?);
        layout::parse(l, s)
            .map(Time::value)
            .map_err(|e| super::err(format!("parsing time {} as {}: {e}", quote(s), quote(l))))
    });
    add(v, "unixEpoch", Arity::Exact(1), |a| Ok(Value::from(time_param(&a[0])?.unix.to_string())));
    for name in ["dateModify", "date_modify"] {
        add(v, name, Arity::Exact(2), |a| {
            let t = time_param(&a[1])?;
            Ok(match parse_duration(string_arg(a, 0)?) {
                Some(d) => t.add_nanos(d),
                None => t,
            }
            .value())
        });
    }
    for name in ["mustDateModify", "must_date_modify"] {
        add(v, name, Arity::Exact(2), |a| {
            let t = time_param(&a[1])?;
            let d = string_arg(a, 0)?;
            let d = parse_duration(d).ok_or_else(|| super::err(format!("time: invalid duration {}", quote(d))))?;
            Ok(t.add_nanos(d).value())
        });
    }
    add(v, "duration", Arity::Exact(1), |a| {
        let secs = match &a[0] {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            Value::Int(i, IntType::Int64) => *i,
            _ => 0,
        };
        Ok(Value::from(format_duration(secs.wrapping_mul(1_000_000_000))))
    });
    add(v, "durationRound", Arity::Exact(1), |a| {
        let d = match &a[0] {
            Value::String(s) => parse_duration(s).unwrap_or(0),
            Value::Int(i, IntType::Int64) => *i,
            Value::Object(_) => Time::now().nanos_since(&time_param(&a[0])?),
            _ => 0,
        };
        Ok(Value::from(duration_round(d)))
    });
    add(v, "ago", Arity::Exact(1), |a| {
        let d = Time::now().nanos_since(&time_arg(&a[0]));
        Ok(Value::from(format_duration(round_to_second(d))))
    });
}

fn quote(s: &str) -> String {
    crate::gotmpl::fmt::quote(s)
}

/// `time.Time.String`'s layout.
const TIME_STRING: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

/// Seconds from 1970 to January 1, year 1 (Go's zero `time.Time`).
const ZERO_UNIX: i64 = -62_135_596_800;

/// A `time.Time` in UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Time {
    pub unix: i64,
    pub nsec: u32,
}

impl Time {
    fn now() -> Time {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Time { unix: d.as_secs() as i64, nsec: d.subsec_nanos() }
    }

    fn value(self) -> Value {
        Value::Object(Rc::new(self))
    }

    fn add_nanos(self, d: i64) -> Time {
        let total = i128::from(self.unix) * 1_000_000_000 + i128::from(self.nsec) + i128::from(d);
        Time { unix: total.div_euclid(1_000_000_000) as i64, nsec: total.rem_euclid(1_000_000_000) as u32 }
    }

    fn nanos_since(&self, o: &Time) -> i64 {
        let d =
            (i128::from(self.unix) - i128::from(o.unix)) * 1_000_000_000 + i128::from(self.nsec) - i128::from(o.nsec);
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn kind(&self) -> &str {
        "struct"
    }
    fn method(&self, name: &str) -> Option<Func> {
        let t = *self;
        Some(match name {
            "Unix" => Func::new(name, Arity::Exact(0), move |_, _| Ok(Value::Int(t.unix, IntType::Int64))),
            "UTC" | "Local" => Func::new(name, Arity::Exact(0), move |_, _| Ok(t.value())),
            "Year" => Func::new(name, Arity::Exact(0), move |_, _| Ok(Value::int(layout::civil(t.unix).0))),
            "Format" => {
                Func::new(name, Arity::Exact(1), move |_, a| Ok(Value::from(layout::format(&t, string_arg(a, 0)?))))
            }
            _ => return None,
        })
    }
    fn string(&self) -> Option<String> {
        Some(layout::format(self, TIME_STRING))
    }
}

/// `date`'s argument: a time, or Unix seconds as `int`, `int64` or
/// `int32`; anything else is now.
fn time_arg(v: &Value) -> Time {
    match v {
        Value::Int(i, IntType::Int | IntType::Int64 | IntType::Int32) => Time { unix: *i, nsec: 0 },
        Value::Object(o) if o.type_name() == "time.Time" => time_of(o.as_ref()).unwrap_or_else(Time::now),
        _ => Time::now(),
    }
}

/// A `time.Time` parameter, with Go's conversion error.
fn time_param(v: &Value) -> Result<Time, crate::gotmpl::Error> {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => {
            time_of(o.as_ref()).ok_or_else(|| super::type_error(v, "time.Time"))
        }
        v => Err(super::type_error(v, "time.Time")),
    }
}

/// A `time.Time`'s printed form as RFC 3339 with nanoseconds (its JSON).
pub(super) fn rfc3339(printed: &str) -> Option<String> {
    let t = layout::parse(TIME_STRING, printed).ok()?;
    Some(layout::format(&t, "2006-01-02T15:04:05.999999999Z07:00"))
}

/// The time behind a `time.Time` object (ours print exactly, so the
/// printed form parses back).
fn time_of(o: &dyn Object) -> Option<Time> {
    layout::parse(TIME_STRING, &o.string()?).ok()
}

/// `time.ParseDuration` in nanoseconds.
pub(super) fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." {
            return None;
        }
        let x: f64 = num.parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += x * unit;
    }
    if total > 9.223_372_036_854_776e18 {
        return None;
    }
    Some(if neg { -(total.round() as i64) } else { total.round() as i64 })
}

/// `time.Duration.String`: `1h2m3.5s`, `1.5ms`, `0s`.
pub(super) fn format_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let frac = |v: u64, digits: u32| -> String {
        let p = 10u64.pow(digits);
        let (int, f) = (v / p, v % p);
        if f == 0 {
            return int.to_string();
        }
        let fs = format!("{f:0width$}", width = digits as usize);
        format!("{int}.{}", fs.trim_end_matches('0'))
    };
    let body = if u < 1_000 {
        format!("{u}ns")
    } else if u < 1_000_000 {
        format!("{}µs", frac(u, 3))
    } else if u < 1_000_000_000 {
        format!("{}ms", frac(u, 6))
    } else {
        let secs = u / 1_000_000_000;
        let ns = u % 1_000_000_000;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let s = frac(s * 1_000_000_000 + ns, 9);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else if m > 0 {
            format!("{m}m{s}s")
        } else {
            format!("{s}s")
        }
    };
    if neg { format!("-{body}") } else { body }
}

fn round_to_second(d: i64) -> i64 {
    let r = d % 1_000_000_000;
    let d = d - r;
    if r.abs() * 2 >= 1_000_000_000 { d + r.signum() * 1_000_000_000 } else { d }
}

/// Sprig's `durationRound`: the largest whole unit (`2h`, `3d`, `1y`).
fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    let s: u64 = 1_000_000_000;
    let units = [
        (s * 3600 * 24 * 365, "y"),
        (s * 3600 * 24 * 30, "mo"),
        (s * 3600 * 24, "d"),
        (s * 3600, "h"),
        (s * 60, "m"),
        (s, "s"),
    ];
    for (size, name) in units {
        if u > size {
            return format!("{}{name}", u / size);
        }
    }
    "0s".into()
}
