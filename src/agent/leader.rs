//! Leader election among agent replicas through one
//! `coordination.k8s.io/v1` Lease, kept the way client-go's leader
//! election keeps one (and like the sync lock, [`crate::cluster::lease`]):
//!
//! - every retry period (a third of the lease duration) each replica reads
//!   the Lease: an absent one is created, one without a holder is taken,
//!   ours is renewed (a PUT carrying the resourceVersion we read, so a
//!   takeover in between makes it fail);
//! - another holder's Lease is never judged by its `renewTime` (another
//!   host's clock): it is taken over only once it stayed unchanged (same
//!   uid and resourceVersion) for its whole `leaseDurationSeconds`,
//!   measured on this process's monotonic clock;
//! - the leader counts as leader only while its last successful renewal
//!   was sent less than two thirds of the duration ago ([`Leadership::is_leader`]),
//!   so it stops writing before any other replica may take over;
//! - stopping hands the Lease over at once: the holder is cleared (with our
//!   resourceVersion, so a successor's Lease is left alone).
//!
//! Runs on its own thread with its own [`Cluster`] (blocking calls, each
//! iteration bounded by a deadline).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::cluster::lease::{lease_body, lease_duration, lease_resource, micro_time, text, version};
use crate::error::{Error, Result};

/// What the election thread knows, shared with the workers.
#[derive(Default)]
struct State {
    /// The election has looked at the Lease at least once.
    looked: bool,
    leader: bool,
    /// When the last successful create or renewal was sent.
    renewed: Option<Instant>,
    /// The holder seen last (for the log and the status).
    holder: String,
}

/// A running election; [`Leadership::stop`] ends it and hands the Lease over.
pub struct Leadership {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    renew_deadline: Duration,
    thread: Option<std::thread::JoinHandle<()>>,
    pub namespace: String,
    pub name: String,
    pub identity: String,
}

impl Leadership {
    /// Whether this replica may write now: it holds the Lease and renewed
    /// it within two thirds of its duration.
    pub fn is_leader(&self) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.leader && s.renewed.is_some_and(|r| r.elapsed() < self.renew_deadline)
    }

    /// Wait (at most `timeout`) until the election has looked at the Lease
    /// once: a one-round agent then knows whether it leads.
    pub fn wait_first_look(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        while Instant::now() < until && !self.state.lock().unwrap_or_else(|e| e.into_inner()).looked {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Who holds the Lease, as last seen.
    pub fn holder(&self) -> String {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).holder.clone()
    }

    /// Stop campaigning; a held Lease is released (its holder cleared).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Campaign for Lease `namespace/name` as `identity` with `duration`, on
/// a thread of its own that owns `cluster`.
pub fn start(cluster: Cluster, namespace: &str, name: &str, identity: &str, duration: Duration) -> Result<Leadership> {
    if duration < Duration::from_secs(1) {
        return Err(Error::Usage("--lease-duration must be at least 1s".into()));
    }
    let state = Arc::new(Mutex::new(State::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let campaign = Campaign {
        cluster,
        namespace: namespace.to_string(),
        name: name.to_string(),
        identity: identity.to_string(),
        duration,
        observed: None,
    };
    let (s, st) = (state.clone(), stop.clone());
    let thread = std::thread::Builder::new()
        .name("agent-leader".into())
        .spawn(move || campaign.run(&s, &st))
        .map_err(|e| Error::io("<leader election thread>", e))?;
    Ok(Leadership {
        state,
        stop,
        renew_deadline: duration * 2 / 3,
        thread: Some(thread),
        namespace: namespace.to_string(),
        name: name.to_string(),
        identity: identity.to_string(),
    })
}

struct Campaign {
    cluster: Cluster,
    namespace: String,
    name: String,
    identity: String,
    duration: Duration,
    /// Another holder's Lease version and when we first saw it (our clock).
    observed: Option<((String, String), Instant)>,
}

/// What one look at the Lease found.
enum Look {
    /// Ours (created, taken or renewed) as of the moment the request was sent.
    Ours(String),
    /// Someone else's.
    Theirs(String),
}

impl Campaign {
    fn run(mut self, state: &Mutex<State>, stop: &AtomicBool) {
        let period = (self.duration / 3).max(Duration::from_millis(200));
        let renew_deadline = self.duration * 2 / 3;
        let mut last: Option<Value> = None;
        while !stop.load(Ordering::SeqCst) {
            let sent = Instant::now();
            self.cluster.set_deadline(Some(sent + period.max(Duration::from_secs(1))));
            let result = self.look(&mut last);
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            s.looked = true;
            match result {
                Ok(Look::Ours(holder)) => {
                    if !s.leader {
                        tracing::info!("leader election: now the leader (Lease {}/{})", self.namespace, self.name);
                    }
                    s.leader = true;
                    s.renewed = Some(sent);
                    s.holder = holder;
                }
                Ok(Look::Theirs(holder)) => {
                    if s.leader {
                        tracing::warn!("leader election: lost the Lease {}/{} to {holder}", self.namespace, self.name);
                    }
                    s.leader = false;
                    s.holder = holder;
                    last = None;
                }
                Err(e) => {
                    tracing::warn!("leader election: Lease {}/{}: {e}", self.namespace, self.name);
                    if s.leader && s.renewed.is_none_or(|r| r.elapsed() >= renew_deadline) {
                        tracing::warn!("leader election: not renewed in time; no longer the leader");
                        s.leader = false;
                        last = None;
                    }
                }
            }
            drop(s);
            let until = sent + period;
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
            }
        }
        let leader = state.lock().unwrap_or_else(|e| e.into_inner()).leader;
        if let (true, Some(lease)) = (leader, last) {
            self.cluster.set_deadline(Some(Instant::now() + Duration::from_secs(5)));
            let mut body = lease;
            body["spec"]["holderIdentity"] = Value::String(String::new());
            body["spec"]["leaseDurationSeconds"] = Value::from(1);
            match self.cluster.replace(&lease_resource(), &body) {
                Ok(_) => tracing::info!("leader election: released the Lease {}/{}", self.namespace, self.name),
                Err(e) => tracing::warn!("leader election: releasing the Lease {}/{}: {e}", self.namespace, self.name),
            }
        }
    }

    /// Read the Lease and create, take over or renew it as the rules say.
    /// `last` keeps the Lease as we last wrote it.
    fn look(&mut self, last: &mut Option<Value>) -> Result<Look> {
        let res = lease_resource();
        let (ns, name) = (self.namespace.as_str(), self.name.as_str());
        let Some(lease) = self.cluster.get_object(&res, ns, name)? else {
            let body = lease_body(ns, name, &self.identity, self.duration, 0);
            return self.write(|c| c.create(&res, &body), last);
        };
        let holder = text(&lease, "/spec/holderIdentity").to_string();
        if holder == self.identity {
            let mut body = lease.clone();
            body["spec"]["renewTime"] = Value::String(micro_time(k8s_openapi::jiff::Timestamp::now()));
            body["spec"]["leaseDurationSeconds"] = Value::from(self.duration.as_secs().max(1));
            return self.write(|c| c.replace(&res, &body), last);
        }
        if !holder.is_empty() {
            let seen = version(&lease);
            let seen = (seen.0.to_string(), seen.1.to_string());
            let watch = lease_duration(&lease).unwrap_or(self.duration);
            match &self.observed {
                Some((v, since)) if *v == seen => {
                    if since.elapsed() < watch {
                        return Ok(Look::Theirs(holder));
                    }
                    tracing::info!(
                        "leader election: {holder} did not renew the Lease for {}s: taking it over",
                        watch.as_secs()
                    );
                }
                _ => {
                    self.observed = Some((seen, Instant::now()));
                    return Ok(Look::Theirs(holder));
                }
            }
        }
        let transitions = lease.pointer("/spec/leaseTransitions").and_then(Value::as_i64).unwrap_or(0) + 1;
        let mut body = lease_body(ns, name, &self.identity, self.duration, transitions);
        // Only the version we looked at: a renewal or another taker in between wins.
        body["metadata"]["resourceVersion"] = lease.pointer("/metadata/resourceVersion").cloned().unwrap_or_default();
        self.write(|c| c.replace(&res, &body), last)
    }

    fn write(&mut self, send: impl FnOnce(&Cluster) -> Result<Value>, last: &mut Option<Value>) -> Result<Look> {
        match send(&self.cluster) {
            Ok(v) => {
                self.observed = None;
                *last = Some(v);
                Ok(Look::Ours(self.identity.clone()))
            }
            // Someone else wrote first (a create race, a takeover, a deletion).
            Err(Error::Api(f)) if f.code == 409 || f.code == 404 => {
                let now = self.cluster.get_object(&lease_resource(), &self.namespace, &self.name)?;
                Ok(Look::Theirs(now.map(|l| text(&l, "/spec/holderIdentity").to_string()).unwrap_or_default()))
            }
            Err(e) => Err(e),
        }
    }
}
