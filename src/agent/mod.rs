//! `kubectl gitops agent`: the pull-mode reconciler. It keeps clusters
//! equal to git without anyone running `sync`, as Argo CD's application
//! controller does, on the same use cases the command line calls.
//!
//! One agent process:
//! - reads the Applications (`-f FILE_OR_DIR`, or a directory of a git
//!   repository: the app-of-apps root) again on every poll, keeping those
//!   of its shard ([`Shard`]);
//! - every `interval` (with up to 10% jitter) bumps the fetch generation of
//!   every repository and queues every app; a webhook
//!   ([`webhook`], `POST /hooks/git`) does the same for the apps of one
//!   repository at once; every `drift_interval` every app is compared again
//!   without fetching;
//! - runs each queued app's reconcile ([`reconcile::run`]) on one of
//!   `parallel` worker threads; an app is never reconciled twice at once
//!   (a request while it runs is kept and run after it), and one slow or
//!   broken app holds only its own worker;
//! - decides per app with Argo CD's rules ([`state`]): automated apps are
//!   synced at a new revision, a failed revision is not retried, drift is
//!   healed with `selfHeal` under a growing backoff; other apps are
//!   compared and reported only;
//! - with leader election ([`leader`]) only the leader writes; the others
//!   compare and report;
//! - serves `/healthz`, `/readyz`, `/status` (every app's last
//!   [`AppReport`] as JSON), `/metrics` ([`metrics`]) and `/hooks/git`
//!   on `listen` ([`http`]);
//! - reports each reconcile through [`AgentEvents`] (the command line
//!   writes one line on stderr).
//!
//! The scheduler is the only owner of the per-app [`Memory`]: a job
//! carries a copy to its worker and the finished reconcile brings it back.

pub mod http;
pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod state;
pub mod webhook;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand_core::RngCore;

pub use reconcile::{AppReport, Context};
pub use state::{Memory, Shard};

use crate::error::{Error, Result};
use crate::source::app::Application;
use crate::source::git::{Checkout, GitSpec};

/// Where the Applications are.
#[derive(Debug, Clone)]
pub enum AppsSource {
    /// A file or directory of Application manifests.
    Path(PathBuf),
    /// A directory of a git repository (fetched on every poll).
    Git(GitSpec),
}

/// How an agent runs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    pub apps: AppsSource,
    /// Poll every repository this often (plus up to 10% jitter).
    pub interval: Duration,
    /// Compare every app this often between polls.
    pub drift_interval: Duration,
    /// Apps reconciled at once.
    pub parallel: usize,
    /// One round, then return.
    pub once: bool,
    pub shard: Option<Shard>,
    /// Serve `/healthz`, `/readyz`, `/status`, `/hooks/git` here.
    pub listen: Option<SocketAddr>,
    /// The webhooks' shared secret (none: webhooks are refused).
    pub webhook_secret: Option<Vec<u8>>,
}

/// What the agent reports as it goes (called from its scheduler thread).
pub trait AgentEvents: Sync {
    /// One app's reconcile finished.
    fn reconciled(&self, report: &AppReport);
    /// Anything else worth a line: polls, webhooks, the address served.
    fn note(&self, line: &str);
}

/// How often the scheduler looks at the stop flag, at least.
const STOP_POLL: Duration = Duration::from_millis(200);

/// The largest share of `interval` added as jitter.
const JITTER: f64 = 0.1;

/// `interval` plus a random jitter of up to 10%.
fn jittered(interval: Duration) -> Duration {
    let r = f64::from(rand_core::OsRng.next_u32()) / f64::from(u32::MAX);
    interval + interval.mul_f64(JITTER * r)
}

enum Event {
    Done(Box<reconcile::Done>),
    Push(webhook::Push),
}

/// What the HTTP handler shares with the scheduler.
struct Shared {
    reports: Mutex<BTreeMap<String, AppReport>>,
    metrics: Mutex<metrics::Metrics>,
    ready: AtomicBool,
    events: Mutex<Sender<Event>>,
    secret: Option<Vec<u8>>,
}

impl http::Handler for Shared {
    fn handle(&self, req: &http::Request) -> http::Response {
        use http::Response;
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/healthz") => Response::text(200, "ok"),
            ("GET", "/readyz") if self.ready.load(Ordering::SeqCst) => Response::text(200, "ready"),
            ("GET", "/readyz") => Response::text(503, "the first round has not finished"),
            ("GET", "/status") => {
                let reports = self.reports.lock().unwrap_or_else(|e| e.into_inner());
                let list: Vec<&AppReport> = reports.values().collect();
                Response::json(200, &serde_json::to_value(list).expect("JSON"))
            }
            ("GET", "/metrics") => Response {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: self.metrics.lock().unwrap_or_else(|e| e.into_inner()).render().into_bytes(),
            },
            ("POST", "/hooks/git") => {
                let r = webhook::Request { headers: &req.headers, body: &req.body };
                match webhook::read(&r, self.secret.as_deref()) {
                    Ok(Some(push)) => {
                        let repos: Vec<String> = push.urls.iter().map(|u| crate::source::git::redact_url(u)).collect();
                        let repos = repos.join(", ");
                        let sent = self.events.lock().unwrap_or_else(|e| e.into_inner()).send(Event::Push(push));
                        match sent {
                            Ok(()) => Response::text(202, format!("fetching {repos}")),
                            Err(_) => Response::text(503, "the agent is stopping"),
                        }
                    }
                    Ok(None) => Response::text(200, "not a push: nothing to do"),
                    Err(refusal) => {
                        tracing::warn!("webhook refused: {}", refusal.message);
                        Response::text(refusal.status, refusal.message)
                    }
                }
            }
            (_, "/healthz" | "/readyz" | "/status" | "/metrics" | "/hooks/git") => {
                Response::text(405, "method not allowed")
            }
            _ => Response::text(404, "not found"),
        }
    }
}

/// Run the agent: until `stop` is set (then the reconciles in progress
/// finish and no new one starts), or for one round with `once`. Returns
/// every app's last report, in name order.
pub fn run(ctx: &Context, opts: &AgentOptions, events: &dyn AgentEvents, stop: &AtomicBool) -> Result<Vec<AppReport>> {
    if opts.interval.is_zero() || opts.drift_interval.is_zero() {
        return Err(Error::Usage("--interval and --drift-interval must be longer than 0s".into()));
    }
    let (event_tx, event_rx) = mpsc::channel();
    let shared = Arc::new(Shared {
        reports: Mutex::new(BTreeMap::new()),
        metrics: Mutex::new(metrics::Metrics::default()),
        ready: AtomicBool::new(false),
        events: Mutex::new(event_tx.clone()),
        secret: opts.webhook_secret.clone(),
    });
    if let Some(addr) = opts.listen {
        let bound = http::serve(addr, shared.clone())?;
        events.note(&format!("serving /healthz, /readyz, /status, /metrics and /hooks/git on http://{bound}"));
    }
    let (job_tx, job_rx) = mpsc::channel::<reconcile::Job>();
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|s| {
        for _ in 0..opts.parallel.max(1) {
            let (rx, tx) = (&job_rx, event_tx.clone());
            s.spawn(move || {
                loop {
                    let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(job) = job else { return };
                    if tx.send(Event::Done(Box::new(reconcile::run(ctx, job)))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(event_tx);
        let mut sched = Scheduler::new(ctx, opts, job_tx, &shared, events);
        let result = sched.run(&event_rx, stop);
        // Dropping the job sender ends the workers once their jobs are done.
        drop(sched);
        result
    })
}

struct Scheduler<'a> {
    ctx: &'a Context,
    opts: &'a AgentOptions,
    jobs: Sender<reconcile::Job>,
    shared: &'a Shared,
    events: &'a dyn AgentEvents,
    /// The Applications of the last successful read, and their file.
    apps: Vec<Application>,
    file: PathBuf,
    /// The checkout of the app-of-apps root (kept so its snapshot stays).
    root: Option<Checkout>,
    memory: HashMap<String, Memory>,
    busy: HashSet<String>,
    again: HashSet<String>,
    /// Per repository: the fetch generation wanted.
    wanted: HashMap<String, u64>,
    recheck: HashMap<String, Instant>,
    /// Apps of the first poll not reconciled yet.
    first_round: Option<HashSet<String>>,
    /// Whether this replica led at the last look (with leader election).
    leading: bool,
}

impl<'a> Scheduler<'a> {
    fn new(
        ctx: &'a Context,
        opts: &'a AgentOptions,
        jobs: Sender<reconcile::Job>,
        shared: &'a Shared,
        events: &'a dyn AgentEvents,
    ) -> Self {
        Scheduler {
            ctx,
            opts,
            jobs,
            shared,
            events,
            apps: Vec::new(),
            file: PathBuf::new(),
            root: None,
            memory: HashMap::new(),
            busy: HashSet::new(),
            again: HashSet::new(),
            wanted: HashMap::new(),
            recheck: HashMap::new(),
            first_round: None,
            leading: false,
        }
    }

    fn run(&mut self, rx: &Receiver<Event>, stop: &AtomicBool) -> Result<Vec<AppReport>> {
        let now = Instant::now();
        let (mut next_poll, mut next_drift) = (now, now + self.opts.drift_interval);
        let mut stopping = false;
        loop {
            let now = Instant::now();
            if stop.load(Ordering::SeqCst) && !stopping {
                stopping = true;
                self.again.clear();
                self.events.note(&format!("stopping: waiting for {} reconciles in progress", self.busy.len()));
            }
            // A replica that has just become the leader does what it only watched so far.
            if self.ctx.leader.is_some() && !stopping {
                let leading = self.ctx.may_write();
                if leading && !self.leading && self.first_round.is_some() {
                    self.events.note("now the leader: reconciling every app");
                    for name in self.app_names() {
                        self.enqueue(&name);
                    }
                }
                self.leading = leading;
            }
            if stopping {
                if self.busy.is_empty() {
                    return Ok(self.reports());
                }
            } else if now >= next_poll {
                self.poll()?;
                next_poll = now + jittered(self.opts.interval);
                next_drift = now + self.opts.drift_interval;
            } else if now >= next_drift {
                self.events.note("drift check: comparing every app");
                for name in self.app_names() {
                    self.enqueue(&name);
                }
                next_drift = now + self.opts.drift_interval;
            }
            // Apps whose watched objects changed: compared now (a heal honours its backoff).
            for name in self.ctx.take_changed() {
                if !stopping && !self.opts.once {
                    self.enqueue(&name);
                }
            }
            let due: Vec<String> = self.recheck.iter().filter(|(_, t)| **t <= now).map(|(a, _)| a.clone()).collect();
            for name in due.into_iter().filter(|_| !stopping) {
                self.recheck.remove(&name);
                self.enqueue(&name);
            }
            if self.opts.once && self.busy.is_empty() {
                return Ok(self.reports());
            }
            let wake = self.recheck.values().copied().chain([next_poll, next_drift]).min().expect("two deadlines");
            // The stop flag is looked at every STOP_POLL at least.
            let wait = wake.saturating_duration_since(Instant::now()).min(STOP_POLL);
            match rx.recv_timeout(wait) {
                Ok(Event::Done(done)) => self.finished(*done),
                Ok(Event::Push(_)) if stopping => {}
                Ok(Event::Push(push)) => {
                    if self.pushed(&push) {
                        next_poll = Instant::now();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Usage("the agent's workers stopped".into()));
                }
            }
        }
    }

    fn reports(&self) -> Vec<AppReport> {
        self.shared.reports.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    fn app_names(&self) -> Vec<String> {
        self.apps.iter().map(|a| a.name.clone()).collect()
    }

    /// Read the Applications again, bump every repository's generation and queue every app.
    fn poll(&mut self) -> Result<()> {
        match self.read_apps() {
            Ok(()) => {}
            // Before any successful read there is nothing to run: a bad first read is the run's error.
            Err(e) if self.first_round.is_none() => return Err(e),
            Err(e) => self.events.note(&format!("reading the Applications failed; keeping the last ones: {e}")),
        }
        let mut repos = HashSet::new();
        for app in &self.apps {
            repos.extend(crate::fleet::repositories(app, &self.file));
        }
        for repo in repos {
            *self.wanted.entry(repo).or_default() += 1;
        }
        let names = self.app_names();
        self.events.note(&format!("poll: {} apps", names.len()));
        if self.first_round.is_none() {
            self.first_round = Some(names.iter().cloned().collect());
            if names.is_empty() {
                self.shared.ready.store(true, Ordering::SeqCst);
            }
        }
        for name in names {
            self.enqueue(&name);
        }
        Ok(())
    }

    fn read_apps(&mut self) -> Result<()> {
        let file = match &self.opts.apps {
            AppsSource::Path(p) => p.clone(),
            AppsSource::Git(spec) => {
                let co = crate::source::git::checkout(spec, &self.ctx.cache)?;
                let path = co.source.path().to_path_buf();
                self.root = Some(co);
                path
            }
        };
        let mut apps = crate::source::app::load(&file)?;
        if let Some(shard) = self.opts.shard {
            apps.retain(|a| shard.takes(&a.name));
        }
        let names: HashSet<&str> = apps.iter().map(|a| a.name.as_str()).collect();
        // Apps no longer there are forgotten.
        self.memory.retain(|n, _| names.contains(n.as_str()));
        self.recheck.retain(|n, _| names.contains(n.as_str()));
        self.ctx.retain_watches(|n| names.contains(n));
        if let Some(first) = &mut self.first_round {
            first.retain(|n| names.contains(n.as_str()));
            if first.is_empty() {
                self.shared.ready.store(true, Ordering::SeqCst);
            }
        }
        self.shared.reports.lock().unwrap_or_else(|e| e.into_inner()).retain(|n, _| names.contains(n.as_str()));
        self.shared.metrics.lock().unwrap_or_else(|e| e.into_inner()).retain(|n| names.contains(n));
        self.apps = apps;
        self.file = file;
        Ok(())
    }

    /// A webhook: fetch its repository again and queue its apps. True when
    /// it names the app-of-apps root (then a whole poll is due).
    fn pushed(&mut self, push: &webhook::Push) -> bool {
        let keys: HashSet<String> = push.urls.iter().map(|u| webhook::repo_key(u)).collect();
        let root = matches!(&self.opts.apps, AppsSource::Git(spec) if keys.contains(&webhook::repo_key(&spec.repo)));
        let mut queued = Vec::new();
        let mut bumped = HashSet::new();
        for app in &self.apps {
            let repos = crate::fleet::repositories(app, &self.file);
            let hit: Vec<&String> = repos.iter().filter(|r| keys.contains(&webhook::repo_key(r))).collect();
            if hit.is_empty() {
                continue;
            }
            for r in hit {
                if bumped.insert(r.clone()) {
                    *self.wanted.entry(r.clone()).or_default() += 1;
                }
            }
            queued.push(app.name.clone());
        }
        self.events.note(&format!(
            "webhook for {}: {} apps queued{}",
            push.urls.first().map_or_else(|| "?".into(), |u| crate::source::git::redact_url(u)),
            queued.len(),
            if root { "; the Applications' repository: polling now" } else { "" }
        ));
        for name in queued {
            self.enqueue(&name);
        }
        root
    }

    fn enqueue(&mut self, name: &str) {
        if self.busy.contains(name) {
            self.again.insert(name.to_string());
            return;
        }
        let Some(app) = self.apps.iter().find(|a| a.name == name) else { return };
        let repos = crate::fleet::repositories(app, &self.file)
            .into_iter()
            .map(|r| {
                let g = self.wanted.get(&r).copied().unwrap_or(0);
                (r, g)
            })
            .collect();
        let job = reconcile::Job {
            app: app.clone(),
            file: self.file.clone(),
            repos,
            memory: self.memory.get(name).cloned().unwrap_or_default(),
        };
        if self.jobs.send(job).is_ok() {
            self.busy.insert(name.to_string());
        }
    }

    fn finished(&mut self, done: reconcile::Done) {
        let name = done.report.app.clone();
        self.busy.remove(&name);
        self.events.reconciled(&done.report);
        self.shared.metrics.lock().unwrap_or_else(|e| e.into_inner()).observe(&done.report, done.took);
        self.memory.insert(name.clone(), done.memory);
        if let Some(at) = done.recheck.filter(|_| !self.opts.once) {
            self.recheck.insert(name.clone(), at);
        }
        self.shared.reports.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), done.report);
        if let Some(first) = &mut self.first_round {
            first.remove(&name);
            if first.is_empty() {
                self.shared.ready.store(true, Ordering::SeqCst);
            }
        }
        if self.again.remove(&name) && !self.opts.once {
            self.enqueue(&name);
        }
    }
}
