//! Many apps, many clusters: `status`, `diff` and `sync` with `-f DIR` and
//! APP names or `--all`. Each app is an Argo CD Application rendered from
//! its own source and run against the kubeconfig context its destination
//! resolves to.
//!
//! A run has two halves:
//! 1. [`prepare`] (no cluster I/O): select the Applications
//!    ([`select::select`]), resolve every destination to a context, render
//!    every app. Any failure here stops the run before a cluster is touched,
//!    naming the app and its file.
//! 2. [`run_clusters`]: one thread per distinct context
//!    ([`select::group_by_context`]), that context's apps one after the
//!    other, each with its own [`Cluster`] (its namespace is the app's). A
//!    context whose server does not accept a TCP connection
//!    ([`select::probe`], a few seconds at most) is *unreachable*: its apps are
//!    reported so and the other clusters carry on; an app that fails while
//!    its server stops answering makes the rest of that cluster unreachable.
//!
//! Results are printed in selection order once every cluster is done
//! ([`report`]); progress lines on stderr carry the app's name.

pub mod select;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cluster::{Cluster, ConnectOptions};
use crate::error::{Error, Result};
use crate::source::app::Application;
use crate::status::AppStatus;
use crate::sync::parent::ParentKind;
use crate::sync::{SyncReport, SyncUi};
use crate::usecase::{self, DiffReport, DiffRequest, Rendered, SourceSpec, SyncRequest};

pub use select::Verdict;

/// How long the reachability probe waits for a TCP connection.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// A many-app run: which Applications of which file, rendered how, and
/// how the clusters are reached.
#[derive(Debug, Clone)]
pub struct FleetRequest {
    /// The Application file or directory to choose from.
    pub file: PathBuf,
    /// The Applications by name (empty with `all`).
    pub apps: Vec<String>,
    pub all: bool,
    /// The render settings every app shares; each app's own source comes
    /// from its Application (see [`SourceSpec::for_application`]).
    pub source: SourceSpec,
    /// One kubeconfig file instead of `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// Requests in flight at once, per cluster.
    pub concurrency: usize,
}

/// Progress of a many-app run, one line at a time about one app (the CLI
/// writes them on stderr prefixed with the app's name). Called from the
/// cluster threads.
pub trait FleetEvents: Sync {
    fn note(&self, app: &str, line: &str);
}

/// Events nobody listens to.
pub struct Quiet;

impl FleetEvents for Quiet {
    fn note(&self, _: &str, _: &str) {}
}

/// One selected app: its Application, where it goes, what it renders to.
pub struct Member {
    pub app: Application,
    /// The kubeconfig context (`None`: the in-cluster config).
    pub context: Option<String>,
    pub server: select::Server,
    /// The source that renders this app (the Application, by name).
    pub spec: SourceSpec,
    pub rendered: Rendered,
}

impl Member {
    pub fn context_label(&self) -> &str {
        select::context_label(self.context.as_deref())
    }

    /// The commit the source resolves to (its first part), when it is a git source.
    pub fn source_commit(&self) -> Option<&str> {
        self.rendered.resolved.parts.first()?.checkout.as_ref().map(|c| c.commit.as_str())
    }

    /// The Application's destination namespace, when it names one.
    pub fn destination_namespace(&self) -> Option<String> {
        self.app.destination.namespace.clone().filter(|n| !n.is_empty())
    }

    /// Prune when asked, or when the Application's automated sync prunes.
    fn prunes(&self, asked: bool) -> bool {
        asked || self.app.sync_policy.as_ref().and_then(|p| p.automated.as_ref()).is_some_and(|a| a.enabled && a.prune)
    }
}

/// The kubeconfig `path` names, else the default one (`KUBECONFIG`,
/// `~/.kube/config`), else none (in a pod).
pub fn read_kubeconfig(path: Option<&Path>) -> Result<Option<kube::config::Kubeconfig>> {
    match path {
        Some(p) => kube::config::Kubeconfig::read_from(p)
            .map(Some)
            .map_err(|e| Error::ClusterConfig(format!("{}: {e}", p.display()))),
        None => Ok(kube::config::Kubeconfig::read().ok()),
    }
}

/// Select, place and render every app; nothing touches a cluster. Any
/// failure stops the run, naming the app and its file.
pub fn prepare(req: &FleetRequest, events: &dyn FleetEvents) -> Result<Vec<Member>> {
    let apps = select::select(crate::source::app::load(&req.file)?, &req.apps, req.all, &req.file)?;
    let kubeconfig = read_kubeconfig(req.kubeconfig.as_deref())?;
    let mut members = Vec::new();
    let mut fetched: Vec<String> = Vec::new();
    for app in apps {
        let in_app = |e: Error| Error::FleetApp { app: app.name.clone(), file: app.file.clone(), source: Box::new(e) };
        let context =
            crate::source::app::resolve_destination(&app.destination, kubeconfig.as_ref()).map_err(in_app)?.context;
        let server = select::server_of(kubeconfig.as_ref(), context.as_deref());
        // A repository fetched for an earlier app is not fetched again.
        let repos = repositories(&app, &req.file);
        let offline = !repos.is_empty() && repos.iter().all(|r| fetched.contains(r));
        let spec = req.source.for_application(&app.name, offline);
        let rendered = usecase::render(&spec).map_err(in_app)?;
        for (repo, revision, commit) in rendered.checkouts() {
            events.note(&app.name, &format!("source: {repo} at {revision} is commit {commit}"));
        }
        fetched.extend(repos);
        members.push(Member { app, context, server, spec, rendered });
    }
    Ok(members)
}

/// The repositories an Application's sources fetch (as the git cache names them).
pub fn repositories(app: &Application, file: &Path) -> Vec<String> {
    app.source
        .iter()
        .chain(app.sources.iter())
        .filter_map(|s| {
            crate::source::git_spec(app, s, file, None, false, &Default::default()).ok().map(|spec| spec.repo)
        })
        .collect()
}

/// What happened to one app.
pub enum Outcome<T> {
    Done(T),
    /// The app failed; its cluster answered.
    Failed(String),
    /// Its cluster did not answer.
    Unreachable,
}

/// A context that did not answer.
#[derive(Debug, Clone)]
pub struct Unreachable {
    pub context: String,
    pub server: Option<String>,
    pub reason: String,
}

impl Unreachable {
    /// `unreachable: context west (server https://...): connect to ...: Connection refused`.
    pub fn line(&self) -> String {
        let server = self.server.as_deref().map(|s| format!(" (server {s})")).unwrap_or_default();
        format!("unreachable: context {}{server}: {}", self.context, self.reason)
    }
}

/// Run `work` for every member: a thread per context, its apps in turn.
/// Outcomes come back in member order, with the contexts that did not answer.
/// A panic in one app's work is that app's failure; the other apps go on.
fn run_clusters<'m, T: Send>(
    members: &'m [Member],
    req: &FleetRequest,
    verb: &str,
    events: &dyn FleetEvents,
    work: impl Fn(&'m Member, &Cluster) -> Result<T> + Sync,
    failed: impl Fn(&T) -> bool + Sync,
) -> (Vec<Outcome<T>>, Vec<Unreachable>) {
    let contexts: Vec<Option<String>> = members.iter().map(|m| m.context.clone()).collect();
    let groups = select::group_by_context(&contexts);
    let mut slots: Vec<Option<Outcome<T>>> = members.iter().map(|_| None).collect();
    let mut unreachable = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .map(|(_, indexes)| {
                let (work, failed) = (&work, &failed);
                scope.spawn(move || run_one_cluster(members, indexes, req, verb, events, work, failed))
            })
            .collect();
        for h in handles {
            let (outcomes, down) = h.join().expect("a cluster thread catches its apps' panics");
            for (i, o) in outcomes {
                slots[i] = Some(o);
            }
            unreachable.extend(down);
        }
    });
    (slots.into_iter().map(|o| o.expect("every member ran")).collect(), unreachable)
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    Error::from_panic(payload).to_string()
}

fn run_one_cluster<'m, T>(
    members: &'m [Member],
    indexes: &[usize],
    req: &FleetRequest,
    verb: &str,
    events: &dyn FleetEvents,
    work: &impl Fn(&'m Member, &Cluster) -> Result<T>,
    failed: &impl Fn(&T) -> bool,
) -> (Vec<(usize, Outcome<T>)>, Option<Unreachable>) {
    let first = &members[indexes[0]];
    let down_as = |reason: String| Unreachable {
        context: first.context_label().to_string(),
        server: first.server.url.clone(),
        reason,
    };
    let mut down = select::probe(&first.server, PROBE_TIMEOUT).err().map(down_as);
    let mut out = Vec::new();
    for &i in indexes {
        let m = &members[i];
        if down.is_some() {
            events.note(&m.app.name, &format!("skipped: context {} is unreachable", m.context_label()));
            out.push((i, Outcome::Unreachable));
            continue;
        }
        events.note(&m.app.name, &format!("{verb} on context {}", m.context_label()));
        let run = || {
            Cluster::connect(&ConnectOptions {
                kubeconfig: req.kubeconfig.clone(),
                context: m.context.clone(),
                namespace: m.destination_namespace(),
                concurrency: req.concurrency,
            })
            .and_then(|cluster| work(m, &cluster))
        };
        let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
            Ok(r) => r,
            Err(payload) => {
                out.push((i, Outcome::Failed(panic_message(&*payload))));
                continue;
            }
        };
        let outcome = match result {
            Ok(t) => {
                if failed(&t) {
                    down = select::probe(&m.server, PROBE_TIMEOUT).err().map(down_as);
                }
                Outcome::Done(t)
            }
            Err(e) => match select::probe(&m.server, PROBE_TIMEOUT) {
                Err(reason) => {
                    events.note(&m.app.name, &e.to_string());
                    down = Some(down_as(reason));
                    Outcome::Unreachable
                }
                Ok(()) => Outcome::Failed(e.to_string()),
            },
        };
        out.push((i, outcome));
    }
    (out, down)
}

/// Outcomes in member order, and the contexts that did not answer.
pub type Outcomes<T> = (Vec<Outcome<T>>, Vec<Unreachable>);

/// The sync status and health of every member.
pub fn status(
    req: &FleetRequest,
    members: &[Member],
    kind: ParentKind,
    events: &dyn FleetEvents,
) -> Outcomes<AppStatus> {
    run_clusters(
        members,
        req,
        "status",
        events,
        |m, cluster| usecase::status(cluster, &m.rendered, &m.app.name, kind),
        |_| false,
    )
}

/// The diff of every member (with what a prune would delete when `prune`
/// or the Application's automated sync prunes).
pub fn diff(
    req: &FleetRequest,
    members: &[Member],
    kind: ParentKind,
    prune: bool,
    events: &dyn FleetEvents,
) -> Outcomes<DiffReport> {
    run_clusters(
        members,
        req,
        "diff",
        events,
        |m, cluster| {
            let request = DiffRequest { name: Some(m.app.name.clone()), parent_kind: kind, prune: m.prunes(prune) };
            usecase::diff(cluster, &m.rendered, &request)
        },
        |_| false,
    )
}

/// Sync every member; `ui` gives each app's sync its progress and prompt.
/// An Application's automated sync adds prune and allow-empty.
pub fn sync<'m>(
    req: &FleetRequest,
    members: &'m [Member],
    request: &SyncRequest,
    ui: impl Fn(&'m Member) -> Box<dyn SyncUi + 'm> + Sync,
    events: &dyn FleetEvents,
) -> Outcomes<SyncReport> {
    run_clusters(
        members,
        req,
        "sync",
        events,
        |m, cluster| {
            let mut opts = usecase::sync_options(request, &m.app.name, &m.rendered, cluster)?;
            let policy = m.app.sync_policy.as_ref();
            opts.prune = m.prunes(request.prune);
            opts.allow_empty |= policy.and_then(|p| p.automated.as_ref()).is_some_and(|a| a.enabled && a.allow_empty);
            usecase::sync(cluster, &m.rendered, &opts, &mut *ui(m))
        },
        |r| r.error.is_some(),
    )
}

/// Each app's verdict for the exit code.
pub fn verdict<T>(o: &Outcome<T>, done: impl Fn(&T) -> Verdict) -> Verdict {
    match o {
        Outcome::Done(t) => done(t),
        Outcome::Failed(_) => Verdict::Failed,
        Outcome::Unreachable => Verdict::Unreachable,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::Resolved;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A member with no objects, for the report and run tests.
    pub(crate) fn member(name: &str, context: Option<&str>, server: &str) -> Member {
        let app = Application {
            name: name.into(),
            namespace: None,
            project: "default".into(),
            source: None,
            sources: Vec::new(),
            destination: crate::source::app::Destination {
                namespace: Some(format!("{name}-ns")),
                ..Default::default()
            },
            sync_policy: None,
            ignore_differences: Vec::new(),
            revision_history_limit: None,
            annotations: Default::default(),
            file: format!("apps/{name}.yaml:1"),
            warnings: Vec::new(),
        };
        Member {
            app,
            context: context.map(String::from),
            server: select::Server { url: Some(server.into()), proxied: false },
            spec: SourceSpec::local("."),
            rendered: Rendered {
                objects: Vec::new(),
                resolved: Resolved { parts: Vec::new(), default_namespace: None, app: None },
                record: Default::default(),
            },
        }
    }

    /// Two apps on one context whose server accepts TCP connections; `work`
    /// fails each time, and closes the server when `close` is set.
    /// A listener that accepts TCP connections, and a request whose
    /// kubeconfig puts two apps on its one context `east`.
    fn one_context() -> (std::net::TcpListener, tempfile::TempDir, FleetRequest, [Member; 2]) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{url}\", insecure-skip-tls-verify: true}}\n\
                 users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: east\n  context: {{cluster: c, user: u}}\n"
            ),
        )
        .unwrap();
        let members = [member("one", Some("east"), &url), member("two", Some("east"), &url)];
        let req = FleetRequest {
            file: "apps".into(),
            apps: Vec::new(),
            all: true,
            source: SourceSpec::local("."),
            kubeconfig: Some(kubeconfig),
            concurrency: 1,
        };
        (listener, dir, req, members)
    }

    fn run_failing(close: bool) -> (Vec<Outcome<()>>, Vec<Unreachable>, usize) {
        let (listener, _dir, req, members) = one_context();
        let listener = Mutex::new(Some(listener));
        let calls = AtomicUsize::new(0);
        let (outcomes, down) = run_clusters(
            &members,
            &req,
            "test",
            &Quiet,
            |_, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                if close {
                    listener.lock().unwrap().take();
                }
                Err::<(), _>(Error::Usage("boom".into()))
            },
            |_| false,
        );
        (outcomes, down, calls.load(Ordering::SeqCst))
    }

    #[test]
    fn a_panic_in_one_app_is_that_apps_failure() {
        let (_listener, _dir, req, members) = one_context();
        let (outcomes, down) = run_clusters(
            &members,
            &req,
            "test",
            &Quiet,
            |m, _| if m.app.name == "one" { panic!("bad state in one") } else { Ok(7) },
            |_| false,
        );
        assert!(down.is_empty());
        assert!(
            matches!(&outcomes[..], [Outcome::Failed(e), Outcome::Done(7)] if e.contains("internal error") && e.contains("bad state in one")),
            "{:?}",
            outcomes.iter().map(|o| matches!(o, Outcome::Done(_))).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_failure_while_the_server_answers_is_the_apps_own() {
        let (outcomes, down, calls) = run_failing(false);
        assert!(matches!(&outcomes[..], [Outcome::Failed(a), Outcome::Failed(b)] if a == "boom" && b == "boom"));
        assert!(down.is_empty());
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_server_that_stops_answering_makes_the_rest_of_its_cluster_unreachable() {
        let (outcomes, down, calls) = run_failing(true);
        assert!(matches!(&outcomes[..], [Outcome::Unreachable, Outcome::Unreachable]));
        assert_eq!(calls, 1, "the second app is not tried");
        assert_eq!(down.len(), 1);
        assert_eq!(down[0].context, "east");
        assert!(down[0].reason.starts_with("connect to 127.0.0.1:"), "{}", down[0].reason);
    }

    #[test]
    fn unreachable_lines() {
        let u = Unreachable {
            context: "west".into(),
            server: Some("https://127.0.0.1:1".into()),
            reason: "connect to 127.0.0.1:1: Connection refused".into(),
        };
        assert_eq!(
            u.line(),
            "unreachable: context west (server https://127.0.0.1:1): connect to 127.0.0.1:1: Connection refused"
        );
    }
}
