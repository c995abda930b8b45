//! What the agent remembers about each app between reconciles, and the
//! decision each reconcile makes from it (pure: no I/O, time passed in).
//!
//! The rules are Argo CD's automated sync:
//! - an app whose comparison says `Synced` is left alone;
//! - an `OutOfSync` app at a revision (and Application spec) not yet
//!   attempted is synced;
//! - an attempt that failed is not repeated for the same revision and
//!   spec: a new commit, or a change to the Application, clears it (the
//!   Application's `syncPolicy.retry` is honoured inside one attempt);
//! - an `OutOfSync` app already synced to this revision has drifted: with
//!   `selfHeal` it is synced again after a backoff that grows with each
//!   heal (none for the first, then 2s, x3, capped at 5m) and starts over
//!   after a sync of a new revision; without `selfHeal` the drift is
//!   reported only.

use std::time::{Duration, Instant};

use crate::source::app::Automated;

/// First wait between two heals of one app.
pub const HEAL_BACKOFF: Duration = Duration::from_secs(2);
/// Each wait is the previous one times this.
pub const HEAL_FACTOR: u32 = 3;
/// No wait between heals is longer.
pub const HEAL_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// What one sync attempt was for: the revision the source resolved to and
/// a digest of the Application's spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptKey {
    pub revision: String,
    pub spec: String,
}

/// The agent's memory of one app.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// The last sync attempt, and whether it failed.
    pub attempt: Option<(AttemptKey, bool)>,
    /// Heals since the last sync of a new revision.
    pub heals: u32,
    /// When the last heal finished.
    pub healed_at: Option<Instant>,
    /// Totals since the agent started.
    pub syncs: u64,
    pub failures: u64,
    pub total_heals: u64,
}

/// What a reconcile does once the app has been compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not automated: compared and reported only.
    ReportOnly,
    /// Synced: nothing to do.
    InSync,
    /// Sync a revision not attempted yet.
    Sync,
    /// The last attempt at this revision and spec failed: not retried.
    SkipFailed,
    /// Drifted, no `selfHeal`: reported only.
    Drift,
    /// Drifted, `selfHeal`: sync again now.
    Heal,
    /// Drifted, `selfHeal`, but the backoff has not passed: look again then.
    HealAt(Instant),
}

/// The wait before heal number `n + 1`, counting from the end of the last
/// heal (`n` heals done since the last sync of a new revision).
pub fn heal_delay(n: u32) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    let mut d = HEAL_BACKOFF;
    for _ in 1..n {
        d = d.saturating_mul(HEAL_FACTOR);
        if d >= HEAL_BACKOFF_MAX {
            return HEAL_BACKOFF_MAX;
        }
    }
    d.min(HEAL_BACKOFF_MAX)
}

/// What the comparison found.
#[derive(Debug, Clone)]
pub struct Compared<'a> {
    /// `Synced` or `OutOfSync`.
    pub in_sync: bool,
    /// The revision the source resolves to now.
    pub revision: &'a str,
    /// The revision of the last successful sync (the app's history).
    pub deployed: Option<&'a str>,
    /// The last sync in the history failed, at this revision.
    pub failed_in_history: Option<&'a str>,
}

impl Memory {
    /// Decide, for an app with `automated` (None or disabled: report only)
    /// whose Application spec digests to `spec`.
    pub fn decide(&self, automated: Option<&Automated>, spec: &str, c: &Compared<'_>, now: Instant) -> Decision {
        let Some(auto) = automated.filter(|a| a.enabled) else { return Decision::ReportOnly };
        if c.in_sync {
            return Decision::InSync;
        }
        let key = AttemptKey { revision: c.revision.to_string(), spec: spec.to_string() };
        let attempted_here = self.attempt.as_ref().filter(|(k, _)| *k == key);
        match attempted_here {
            Some((_, true)) => return Decision::SkipFailed,
            // A failure the history records (another replica's, or before a restart) counts,
            // unless this agent has attempted this revision itself since.
            None if c.failed_in_history == Some(c.revision) => return Decision::SkipFailed,
            _ => {}
        }
        let synced_here = attempted_here.is_some() || c.deployed == Some(c.revision);
        if !synced_here {
            return Decision::Sync;
        }
        if !auto.self_heal {
            return Decision::Drift;
        }
        match self.healed_at {
            Some(at) if at + heal_delay(self.heals) > now => Decision::HealAt(at + heal_delay(self.heals)),
            _ => Decision::Heal,
        }
    }

    /// Record a sync attempt of `key` (a heal when `heal`) that ended at `now`.
    pub fn attempted(&mut self, key: AttemptKey, heal: bool, failed: bool, now: Instant) {
        if heal {
            self.heals = self.heals.saturating_add(1);
            self.healed_at = Some(now);
            self.total_heals += 1;
        } else {
            self.heals = 0;
            self.healed_at = None;
        }
        self.syncs += 1;
        if failed {
            self.failures += 1;
        }
        self.attempt = Some((key, failed));
    }
}

/// A stable digest of an Application's spec (what Argo CD compares to
/// decide whether "the app's source changed" since a failed attempt).
pub fn spec_digest(app: &crate::source::app::Application) -> String {
    use sha2::{Digest, Sha256};
    let mut v = serde_json::to_value(app).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("file");
    }
    let digest = Sha256::digest(v.to_string().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `--shard N/M`: this agent takes the apps whose stable hash falls in shard N (of 0..M).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parse `N/M` (0 <= N < M).
    pub fn parse(s: &str) -> std::result::Result<Shard, String> {
        let (n, m) = s.split_once('/').ok_or_else(|| format!("--shard {s:?}: expected N/M, e.g. 0/3"))?;
        let index: u32 = n.trim().parse().map_err(|_| format!("--shard {s:?}: N must be a number"))?;
        let count: u32 = m.trim().parse().map_err(|_| format!("--shard {s:?}: M must be a number"))?;
        if count == 0 || index >= count {
            return Err(format!("--shard {s:?}: N must be at least 0 and less than M (shards are 0..M)"));
        }
        Ok(Shard { index, count })
    }

    /// Whether app `name` is in this shard: the first 8 bytes of its
    /// name's SHA-256, modulo M (the same on every replica and release).
    pub fn takes(&self, name: &str) -> bool {
        shard_of(name, self.count) == self.index
    }
}

/// The shard of app `name` among `count`.
pub fn shard_of(name: &str, count: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(name.as_bytes());
    let n = u64::from_be_bytes(d[..8].try_into().expect("8 bytes"));
    (n % u64::from(count.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(self_heal: bool) -> Automated {
        Automated { enabled: true, prune: false, self_heal, allow_empty: false }
    }

    fn compared<'a>(in_sync: bool, revision: &'a str, deployed: Option<&'a str>) -> Compared<'a> {
        Compared { in_sync, revision, deployed, failed_in_history: None }
    }

    fn key(rev: &str, spec: &str) -> AttemptKey {
        AttemptKey { revision: rev.into(), spec: spec.into() }
    }

    #[test]
    fn heal_backoff_is_2s_times_3_capped_at_5m() {
        let waits: Vec<u64> = (0..7).map(|n| heal_delay(n).as_secs()).collect();
        assert_eq!(waits, [0, 2, 6, 18, 54, 162, 300]);
        assert_eq!(heal_delay(1000), HEAL_BACKOFF_MAX);
    }

    #[test]
    fn manual_apps_are_reported_only_and_synced_apps_left_alone() {
        let m = Memory::default();
        let now = Instant::now();
        assert_eq!(m.decide(None, "s", &compared(false, "c1", None), now), Decision::ReportOnly);
        let off = Automated { enabled: false, ..auto(true) };
        assert_eq!(m.decide(Some(&off), "s", &compared(false, "c1", None), now), Decision::ReportOnly);
        assert_eq!(m.decide(Some(&auto(true)), "s", &compared(true, "c1", Some("c0")), now), Decision::InSync);
    }

    #[test]
    fn a_failed_revision_is_not_retried_until_the_revision_or_the_spec_changes() {
        let now = Instant::now();
        let mut m = Memory::default();
        assert_eq!(m.decide(Some(&auto(false)), "s", &compared(false, "c1", None), now), Decision::Sync);
        m.attempted(key("c1", "s"), false, true, now);
        assert_eq!(m.decide(Some(&auto(true)), "s", &compared(false, "c1", None), now), Decision::SkipFailed);
        // A new commit, or a changed Application, is attempted.
        assert_eq!(m.decide(Some(&auto(true)), "s", &compared(false, "c2", None), now), Decision::Sync);
        assert_eq!(m.decide(Some(&auto(true)), "s2", &compared(false, "c1", None), now), Decision::Sync);
        // A failure the history records counts too (a restart, another replica).
        let fresh = Memory::default();
        let c = Compared { failed_in_history: Some("c1"), ..compared(false, "c1", Some("c0")) };
        assert_eq!(fresh.decide(Some(&auto(false)), "s", &c, now), Decision::SkipFailed);
        let c = Compared { failed_in_history: Some("c0"), ..compared(false, "c1", Some("c0")) };
        assert_eq!(fresh.decide(Some(&auto(false)), "s", &c, now), Decision::Sync);
    }

    #[test]
    fn drift_heals_only_with_self_heal_and_with_a_growing_backoff() {
        let t0 = Instant::now();
        let mut m = Memory::default();
        m.attempted(key("c1", "s"), false, false, t0);
        let drifted = compared(false, "c1", Some("c1"));
        assert_eq!(m.decide(Some(&auto(false)), "s", &drifted, t0), Decision::Drift);
        assert_eq!(m.decide(Some(&auto(true)), "s", &drifted, t0), Decision::Heal, "the first heal waits for nothing");
        m.attempted(key("c1", "s"), true, false, t0);
        assert_eq!(m.decide(Some(&auto(true)), "s", &drifted, t0), Decision::HealAt(t0 + Duration::from_secs(2)));
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(m.decide(Some(&auto(true)), "s", &drifted, t1), Decision::Heal);
        m.attempted(key("c1", "s"), true, false, t1);
        assert_eq!(m.decide(Some(&auto(true)), "s", &drifted, t1), Decision::HealAt(t1 + Duration::from_secs(6)));
        assert_eq!((m.total_heals, m.syncs), (2, 3));
        // A sync of a new revision starts the backoff over.
        m.attempted(key("c2", "s"), false, false, t1);
        assert_eq!(m.decide(Some(&auto(true)), "s", &compared(false, "c2", Some("c2")), t1), Decision::Heal);
        // Deployed before this agent started (the history says so): drift, not a new sync.
        let fresh = Memory::default();
        assert_eq!(fresh.decide(Some(&auto(false)), "s", &drifted, t0), Decision::Drift);
    }

    #[test]
    fn shards() {
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
        for bad in ["3/3", "x/2", "1", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        // Stable (the same on every replica) and spread over the shards.
        assert_eq!(shard_of("web", 4), shard_of("web", 4));
        let names: Vec<String> = (0..200).map(|i| format!("app-{i}")).collect();
        for n in 0..4 {
            let s = Shard { index: n, count: 4 };
            let taken = names.iter().filter(|a| s.takes(a)).count();
            assert!((25..=75).contains(&taken), "shard {n} takes {taken} of 200");
        }
        let all: usize = (0..4).map(|n| names.iter().filter(|a| Shard { index: n, count: 4 }.takes(a)).count()).sum();
        assert_eq!(all, 200, "every app in exactly one shard");
    }
}
