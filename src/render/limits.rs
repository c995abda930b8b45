//! Render limits: how long one render may run, how much it may produce and
//! how deep its values may nest, so a hostile repo ends in a clear error
//! instead of a hang, an exhausted memory or a stack overflow.
//!
//! [`Limits`] are plain settings (flags, defaults). A render turns them into
//! one [`Budget`], shared by every stage of that render (and by the threads
//! it starts): templates, Jsonnet and YAML decoding charge what they produce
//! against it and check its deadline in their loops. Nothing resets it, so
//! an `include`, a `tpl` or an alias that starts a nested evaluation keeps
//! counting against the same totals.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Default of `--render-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default of `--max-render-bytes`: what a render may produce in all.
pub const DEFAULT_MAX_OUTPUT: u64 = 512 << 20;
/// Default of `--max-nesting`: the deepest value (YAML, JSON, Jsonnet, `--set` paths).
pub const DEFAULT_MAX_DEPTH: usize = 256;
/// Deepest chain of `include`/`tpl`/template calls (helm's own limit is 1000).
pub const MAX_CALL_DEPTH: usize = 1000;

/// The limits of one render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall time for the whole render (`--render-timeout`).
    pub timeout: Duration,
    /// Bytes the render may produce: template output, decoded manifests
    /// with aliases expanded, Jsonnet output (`--max-render-bytes`).
    pub max_output: u64,
    /// Deepest nesting of any value (`--max-nesting`).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: DEFAULT_TIMEOUT, max_output: DEFAULT_MAX_OUTPUT, max_depth: DEFAULT_MAX_DEPTH }
    }
}

/// One render's running totals against its [`Limits`]; cheap to clone
/// (clones share the totals).
#[derive(Debug, Clone)]
pub struct Budget(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    limits: Limits,
    deadline: Instant,
    used: AtomicU64,
}

/// Which limit was passed, for [`Error::Limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Time,
    Output,
    Depth,
    Calls,
}

impl Limit {
    /// The flag that raises it (none for the call depth, which is helm's).
    pub fn flag(self) -> &'static str {
        match self {
            Limit::Time => "--render-timeout",
            Limit::Output => "--max-render-bytes",
            Limit::Depth => "--max-nesting",
            Limit::Calls => "",
        }
    }
}

impl Budget {
    /// Start the clock for a render with `limits`.
    pub fn start(limits: &Limits) -> Budget {
        let deadline = Instant::now().checked_add(limits.timeout).unwrap_or_else(far_future);
        Budget(Arc::new(Inner { limits: limits.clone(), deadline, used: AtomicU64::new(0) }))
    }

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    pub fn max_depth(&self) -> usize {
        self.0.limits.max_depth
    }

    pub fn deadline(&self) -> Instant {
        self.0.deadline
    }

    /// Time left before the deadline (zero once passed).
    pub fn time_left(&self) -> Duration {
        self.0.deadline.saturating_duration_since(Instant::now())
    }

    /// An error when the deadline has passed; `what` names the file or stage.
    pub fn check_time(&self, what: &str) -> Result<()> {
        if Instant::now() >= self.0.deadline { Err(self.exceeded(Limit::Time, what)) } else { Ok(()) }
    }

    /// Count `bytes` produced by `what`; an error once the total passes the limit.
    pub fn charge(&self, bytes: u64, what: &str) -> Result<()> {
        let total = self.0.used.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        if total > self.0.limits.max_output { Err(self.exceeded(Limit::Output, what)) } else { Ok(()) }
    }

    /// Bytes still allowed.
    pub fn output_left(&self) -> u64 {
        self.0.limits.max_output.saturating_sub(self.0.used.load(Ordering::Relaxed))
    }

    /// An error when `depth` is deeper than allowed.
    pub fn check_depth(&self, depth: usize, what: &str) -> Result<()> {
        if depth > self.0.limits.max_depth { Err(self.exceeded(Limit::Depth, what)) } else { Ok(()) }
    }

    /// The error for passing `limit` while working on `what`.
    pub fn exceeded(&self, limit: Limit, what: &str) -> Error {
        let l = &self.0.limits;
        let (name, value) = match limit {
            Limit::Time => ("render time", format!("{}s", l.timeout.as_secs_f64())),
            Limit::Output => ("render output", human_bytes(l.max_output)),
            Limit::Depth => ("nesting depth", format!("{} levels", l.max_depth)),
            Limit::Calls => ("template call depth", format!("{MAX_CALL_DEPTH} nested calls")),
        };
        Error::Limit { what: what.to_string(), limit: format!("{name} limit of {value}"), flag: limit.flag() }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::start(&Limits::default())
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

/// `512 MiB`, `1.5 GiB`, `300 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() == 0.0 { format!("{v} {}", UNITS[unit]) } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// Parse a byte size as `--max-render-bytes` takes it: `1048576`, `64Ki`,
/// `512Mi`, `2Gi` (also `K`/`M`/`G` as powers of 1000, like Kubernetes quantities).
pub fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 =
        num.parse().map_err(|_| format!("invalid size {s:?}: expected a number with an optional unit (Ki, Mi, Gi)"))?;
    let mult: u64 = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "K" | "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        _ => return Err(format!("invalid size {s:?}: unknown unit {unit:?} (use Ki, Mi, Gi)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("invalid size {s:?}: too large"))
}

/// Parse a duration as `--render-timeout` takes it: `90s`, `2m`, `1m30s`, `500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("invalid duration {s:?}: expected e.g. 90s, 2m, 1m30s, 500ms");
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| !c.is_ascii_digit() && c != '.').ok_or_else(bad)?;
        let (num, tail) = rest.split_at(split);
        let n: f64 = num.parse().map_err(|_| bad())?;
        let unit_len = tail.find(|c: char| c.is_ascii_digit()).unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let secs = match unit {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            "h" => n * 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::try_from_secs_f64(secs).map_err(|_| bad())?;
        rest = next;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_budget_is_shared_by_clones() {
        let b = Budget::start(&Limits { max_output: 10, ..Limits::default() });
        let c = b.clone();
        b.charge(6, "a").unwrap();
        let e = c.charge(6, "b.yaml").unwrap_err().to_string();
        assert!(e.contains("b.yaml") && e.contains("--max-render-bytes") && e.contains("10 B"), "{e}");
    }

    #[test]
    fn deadline_passes() {
        let b = Budget::start(&Limits { timeout: Duration::ZERO, ..Limits::default() });
        let e = b.check_time("chart x").unwrap_err().to_string();
        assert!(e.contains("--render-timeout") && e.contains("chart x"), "{e}");
    }

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_bytes("64Ki"), Ok(65536));
        assert_eq!(parse_bytes("2M"), Ok(2_000_000));
        assert_eq!(parse_bytes("12"), Ok(12));
        assert!(parse_bytes("1Xi").is_err());
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("5 years").is_err());
        assert_eq!(human_bytes(512 << 20), "512 MiB");
    }
}
