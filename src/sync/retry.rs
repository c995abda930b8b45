//! Retrying a failed sync, as Argo CD's `syncPolicy.retry` does: up to
//! `limit` more attempts (a negative limit: until the run's `--timeout`),
//! waiting `duration * factor^n` before the n-th retry (n from 0), capped
//! at `maxDuration`. Only failures the cluster may get over are retried
//! (a failed apply, a preflight the server refused, an unreachable
//! server); a refusal by a safety rail or a usage error is final.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{SyncOptions, SyncReport, SyncUi, sync};
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::model::Object;

/// `syncPolicy.retry` (or the `--retry-*` flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; negative: no limit but the deadline.
    pub limit: i64,
    /// Wait before the first retry (Argo CD's default: 5s).
    pub duration: Duration,
    /// Each wait is the previous one times this (default 2).
    pub factor: f64,
    /// No wait is longer (default 3m).
    pub max_duration: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { limit: 0, duration: Duration::from_secs(5), factor: 2.0, max_duration: Duration::from_secs(180) }
    }
}

impl RetryPolicy {
    /// Parse an Application's `spec.syncPolicy.retry`.
    pub fn from_value(v: &Value) -> std::result::Result<RetryPolicy, String> {
        let mut p = RetryPolicy::default();
        let Value::Object(m) = v else { return Err("syncPolicy.retry must be a mapping".into()) };
        if let Some(l) = m.get("limit").filter(|l| !l.is_null()) {
            p.limit = l.as_i64().ok_or_else(|| format!("syncPolicy.retry.limit must be an integer, not {l}"))?;
        }
        if let Some(b) = m.get("backoff").filter(|b| !b.is_null()) {
            let Value::Object(b) = b else { return Err("syncPolicy.retry.backoff must be a mapping".into()) };
            let duration = |key: &str| -> std::result::Result<Option<Duration>, String> {
                match b.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => {
                        super::parse_duration(s).map(Some).map_err(|e| format!("syncPolicy.retry.backoff.{key}: {e}"))
                    }
                    Some(other) => Err(format!("syncPolicy.retry.backoff.{key} must be a string, not {other}")),
                }
            };
            if let Some(d) = duration("duration")? {
                p.duration = d;
            }
            if let Some(d) = duration("maxDuration")? {
                p.max_duration = d;
            }
            if let Some(f) = b.get("factor").filter(|f| !f.is_null()) {
                p.factor = f
                    .as_f64()
                    .filter(|f| *f >= 1.0 && f.is_finite())
                    .ok_or_else(|| format!("syncPolicy.retry.backoff.factor must be a number >= 1, not {f}"))?;
            }
        }
        Ok(p)
    }

    /// The wait before retry `n` (0: the first retry).
    pub fn delay(&self, n: u32) -> Duration {
        let secs = self.duration.as_secs_f64() * self.factor.powi(n.min(64) as i32);
        let cap = self.max_duration.as_secs_f64();
        Duration::from_secs_f64(if secs.is_finite() { secs.min(cap) } else { cap })
    }
}

/// A duration in Go's `time.ParseDuration` form (`5s`, `1m30s`, `500ms`,
/// `2h`), or a bare number of seconds, as Argo CD accepts backoff durations.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * scale;
    }
    Some(Duration::from_secs_f64(total))
}

/// Whether another attempt may succeed where this one failed.
fn retryable(e: &Error) -> bool {
    !matches!(e, Error::Refused(_) | Error::Usage(_) | Error::Invalid { .. })
}

/// [`sync`], retried as `opts.retry` says within `opts.timeout`. Each failed
/// attempt is reported through `ui`; the last attempt's result is returned.
pub fn sync_with_retry(
    cluster: &Cluster,
    objects: Vec<Object>,
    opts: &SyncOptions,
    ui: &mut dyn SyncUi,
) -> Result<SyncReport> {
    let Some(policy) = opts.retry.filter(|p| p.limit != 0) else { return sync(cluster, objects, opts, ui) };
    let deadline = Instant::now() + opts.timeout;
    let outer = cluster.deadline();
    cluster.set_deadline(Some(outer.map_or(deadline, |o| o.min(deadline))));
    let result = attempts(cluster, objects, opts, policy, deadline, ui);
    cluster.set_deadline(outer);
    result
}

fn attempts(
    cluster: &Cluster,
    objects: Vec<Object>,
    opts: &SyncOptions,
    policy: RetryPolicy,
    deadline: Instant,
    ui: &mut dyn SyncUi,
) -> Result<SyncReport> {
    let mut retries: u32 = 0;
    loop {
        let result = sync(cluster, objects.clone(), opts, ui);
        let failure = match &result {
            Ok(report) => report.error.clone(),
            Err(e) if retryable(e) => Some(e.to_string()),
            Err(_) => None,
        };
        let Some(why) = failure else { return result };
        let more = policy.limit < 0 || i64::from(retries) < policy.limit;
        let wait = policy.delay(retries);
        if !more || Instant::now() + wait > deadline {
            return result;
        }
        retries += 1;
        let limit = if policy.limit < 0 { "no limit".to_string() } else { policy.limit.to_string() };
        let first = why.lines().next().unwrap_or("");
        ui.step(&format!("sync failed ({first}); retry {retries} of {limit} in {}", humantime(wait)));
        std::thread::sleep(wait);
    }
}

fn humantime(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn argo_defaults_and_backoff() {
        let p = RetryPolicy::from_value(&json!({"limit": 5})).unwrap();
        assert_eq!(p, RetryPolicy { limit: 5, ..RetryPolicy::default() });
        let waits: Vec<u64> = (0..5).map(|n| p.delay(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80]);
        assert_eq!(p.delay(10), Duration::from_secs(180));
        let p = RetryPolicy::from_value(
            &json!({"limit": -1, "backoff": {"duration": "1m30s", "factor": 3, "maxDuration": "10m"}}),
        )
        .unwrap();
        assert_eq!(
            (p.limit, p.delay(0), p.delay(1), p.delay(3)),
            (-1, Duration::from_secs(90), Duration::from_secs(270), Duration::from_secs(600))
        );
        assert_eq!(
            RetryPolicy::from_value(&json!({"backoff": {"duration": "30"}})).unwrap().duration,
            Duration::from_secs(30)
        );
    }

    #[test]
    fn bad_retry_settings_are_errors() {
        for bad in [
            json!([]),
            json!({"limit": "x"}),
            json!({"backoff": {"duration": "5 parsecs"}}),
            json!({"backoff": {"factor": 0.5}}),
        ] {
            assert!(RetryPolicy::from_value(&bad).is_err(), "{bad}");
        }
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("5x"), None);
    }
}
