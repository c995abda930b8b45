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

mod report;
pub mod select;
mod ui;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{ClusterArgs, DiffArgs, SourceArgs, StatusArgs, SyncArgs};
use crate::cluster::{Cluster, ConnectOptions, compare};
use crate::diff::{Action, ObjectDiff, diff_object};
use crate::error::{Error, Result};
use crate::model::Object;
use crate::source::app::Application;
use crate::source::{Resolved, merge_source_objects, resolve};
use ui::{Console, FleetUi};

pub use select::Verdict;

/// How long the reachability probe waits for a TCP connection.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Move APP words into `apps` and say whether this is a many-app run (APP
/// names or `--all`). With an Application source (`-f/--app`), the
/// positional SOURCE word is the first APP name; without one, APP names
/// and `--all` are errors.
pub fn take_app_names(source: &mut SourceArgs, apps: &mut Vec<String>, all: bool) -> Result<bool> {
    if source.remote.app.is_none() {
        if all || !apps.is_empty() {
            return Err(Error::Usage(
                "APP names and --all need -f/--app FILE_OR_DIR: the Argo CD Applications to choose from".into(),
            ));
        }
        return Ok(false);
    }
    if source.source != Path::new(".") {
        apps.insert(0, source.source.display().to_string());
        source.source = PathBuf::from(".");
    }
    if all && !apps.is_empty() {
        return Err(Error::Usage(format!("give APP names ({}) or --all, not both", apps.join(", "))));
    }
    let many = all || !apps.is_empty();
    if many && let Some(name) = &source.remote.app_name {
        return Err(Error::Usage(format!(
            "--app-name {name} chooses one Application; with APP names or --all leave it out"
        )));
    }
    Ok(many)
}

/// One selected app: its Application, where it goes, what it renders to.
pub struct Member {
    pub app: Application,
    /// The kubeconfig context (`None`: the in-cluster config).
    pub context: Option<String>,
    pub server: select::Server,
    /// The source flags that render this app (the Application, by name).
    pub args: SourceArgs,
    /// Rendered, not normalized.
    pub objects: Vec<Object>,
    pub resolved: Resolved,
}

impl Member {
    pub fn context_label(&self) -> &str {
        select::context_label(self.context.as_deref())
    }

    /// The commit the source resolves to (its first part), when it is a git source.
    pub fn source_commit(&self) -> Option<&str> {
        self.resolved.parts.first()?.checkout.as_ref().map(|c| c.commit.as_str())
    }

    fn destination_namespace(&self) -> Option<String> {
        self.app.destination.namespace.clone().filter(|n| !n.is_empty())
    }

    /// Prune on `--prune`, or when the Application's automated sync prunes.
    fn prunes(&self, flag: bool) -> bool {
        flag || self.app.sync_policy.as_ref().and_then(|p| p.automated.as_ref()).is_some_and(|a| a.enabled && a.prune)
    }
}

/// The [`Common`] flags of a `status`, `diff` or `sync` command line.
macro_rules! common {
    ($command:literal, $args:expr) => {
        Common {
            command: $command,
            source: &$args.source,
            cluster: &$args.cluster,
            apps: &$args.apps,
            all: $args.all,
            name: $args.name.as_deref(),
        }
    };
}

/// The flags every many-app command shares.
struct Common<'a> {
    command: &'static str,
    source: &'a SourceArgs,
    cluster: &'a ClusterArgs,
    apps: &'a [String],
    all: bool,
    name: Option<&'a str>,
}

fn read_kubeconfig(path: Option<&Path>) -> Result<Option<kube::config::Kubeconfig>> {
    match path {
        Some(p) => kube::config::Kubeconfig::read_from(p)
            .map(Some)
            .map_err(|e| Error::ClusterConfig(format!("{}: {e}", p.display()))),
        None => Ok(kube::config::Kubeconfig::read().ok()),
    }
}

/// Select, place and render every app; nothing touches a cluster.
fn prepare(c: &Common<'_>) -> Result<Vec<Member>> {
    let refuse = |flag: &str| {
        Error::Usage(format!(
            "{} with APP names or --all: {flag} cannot be given (each app is named by its Application and goes to its destination's context and namespace)",
            c.command
        ))
    };
    if c.name.is_some() {
        return Err(refuse("--name"));
    }
    if c.cluster.context.is_some() {
        return Err(refuse("--context"));
    }
    if c.cluster.namespace.is_some() {
        return Err(refuse("-n/--namespace"));
    }
    let file = c.source.remote.app.clone().expect("take_app_names checked the Application source");
    let apps = select::select(crate::source::app::load(&file)?, c.apps, c.all, &file)?;
    let kubeconfig = read_kubeconfig(c.cluster.kubeconfig.as_deref())?;
    let mut members = Vec::new();
    let mut fetched: Vec<String> = Vec::new();
    for app in apps {
        let in_app = |e: Error| Error::FleetApp { app: app.name.clone(), file: app.file.clone(), source: Box::new(e) };
        let context =
            crate::source::app::resolve_destination(&app.destination, kubeconfig.as_ref()).map_err(in_app)?.context;
        let server = select::server_of(kubeconfig.as_ref(), context.as_deref());
        let mut args = c.source.clone();
        args.remote.app_name = Some(app.name.clone());
        // A repository fetched for an earlier app is not fetched again.
        let repos = repositories(&app, &file);
        args.remote.offline |= !repos.is_empty() && repos.iter().all(|r| fetched.contains(r));
        let (objects, resolved) = render(&args, &app.name).map_err(in_app)?;
        fetched.extend(repos);
        members.push(Member { app, context, server, args, objects, resolved });
    }
    Ok(members)
}

/// The repositories an Application's sources fetch (as the git cache names them).
fn repositories(app: &Application, file: &Path) -> Vec<String> {
    app.source
        .iter()
        .chain(app.sources.iter())
        .filter_map(|s| {
            crate::source::git_spec(app, s, file, None, false, &Default::default()).ok().map(|spec| spec.repo)
        })
        .collect()
}

/// Resolve and render one app (as `app::render_parts` does, progress prefixed).
fn render(args: &SourceArgs, name: &str) -> Result<(Vec<Object>, Resolved)> {
    let resolved = resolve(&crate::app::source_request(args)?, crate::app::render_options(args, None), None)?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        merge_source_objects(&mut objects, crate::render::render(&part.source, &part.options)?);
    }
    for co in resolved.parts.iter().filter_map(|p| p.checkout.as_ref()) {
        eprintln!("{name}: source: {} at {} is commit {}", co.repo, co.revision, co.commit);
    }
    Ok((objects, resolved))
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
fn run_clusters<T: Send>(
    members: &[Member],
    cluster_args: &ClusterArgs,
    verb: &str,
    work: impl Fn(&Member, &Cluster) -> Result<T> + Sync,
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
                scope.spawn(move || run_one_cluster(members, indexes, cluster_args, verb, work, failed))
            })
            .collect();
        for h in handles {
            let (outcomes, down) = h.join().expect("a cluster thread panicked");
            for (i, o) in outcomes {
                slots[i] = Some(o);
            }
            unreachable.extend(down);
        }
    });
    (slots.into_iter().map(|o| o.expect("every member ran")).collect(), unreachable)
}

fn run_one_cluster<T>(
    members: &[Member],
    indexes: &[usize],
    cluster_args: &ClusterArgs,
    verb: &str,
    work: &impl Fn(&Member, &Cluster) -> Result<T>,
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
            eprintln!("{}: skipped: context {} is unreachable", m.app.name, m.context_label());
            out.push((i, Outcome::Unreachable));
            continue;
        }
        eprintln!("{}: {verb} on context {}", m.app.name, m.context_label());
        let result = Cluster::connect(&ConnectOptions {
            kubeconfig: cluster_args.kubeconfig.clone(),
            context: m.context.clone(),
            namespace: m.destination_namespace(),
            concurrency: cluster_args.concurrency,
        })
        .and_then(|cluster| work(m, &cluster));
        let outcome = match result {
            Ok(t) => {
                if failed(&t) {
                    down = select::probe(&m.server, PROBE_TIMEOUT).err().map(down_as);
                }
                Outcome::Done(t)
            }
            Err(e) => match select::probe(&m.server, PROBE_TIMEOUT) {
                Err(reason) => {
                    eprintln!("{}: {e}", m.app.name);
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

/// `status APP... -f DIR` / `status --all -f DIR`.
pub fn status(args: StatusArgs) -> Result<i32> {
    let members = prepare(&common!("status", args))?;
    let kind = args.applyset_parent;
    let (outcomes, down) = run_clusters(
        &members,
        &args.cluster,
        "status",
        |m, cluster| {
            let namespace = cluster.default_namespace().to_string();
            let revision = crate::app::history_source(&m.args, &m.resolved, &namespace, &m.objects)?.revision;
            let opts = crate::app::diff_options(&m.resolved);
            crate::status::status(cluster, m.objects.clone(), &m.app.name, kind, revision, &opts)
        },
        |_| false,
    );
    report::status(&members, &outcomes, &down, args.output)?;
    Ok(select::exit_code(outcomes.iter().map(|o| verdict(o, |_| Verdict::Clean))))
}

/// One app's diff.
pub struct AppDiff {
    pub namespace: String,
    pub diffs: Vec<ObjectDiff>,
}

impl AppDiff {
    pub fn changed(&self) -> usize {
        self.diffs.iter().filter(|d| d.action != Action::None).count()
    }
}

/// `diff APP... -f DIR` / `diff --all -f DIR`.
pub fn diff(args: DiffArgs, color: bool) -> Result<i32> {
    let members = prepare(&common!("diff", args))?;
    let kind = args.applyset_parent;
    let (outcomes, down) = run_clusters(
        &members,
        &args.cluster,
        "diff",
        |m, cluster| {
            let reference = kind.reference(cluster.default_namespace(), &m.app.name);
            let mut objects = m.objects.clone();
            crate::sync::label_members(&mut objects, &reference.id())?;
            let opts = crate::app::diff_options(&m.resolved);
            let resolved = compare::prepare_with(cluster, objects, opts.write)?;
            let mut diffs: Vec<ObjectDiff> = compare::compare(cluster, &resolved)?
                .iter()
                .map(|c| diff_object(c.live.as_ref(), Some(&c.predicted), &opts))
                .collect();
            if m.prunes(args.prune) {
                diffs.extend(crate::app::prune_diffs(cluster, &resolved, reference)?);
            }
            Ok(AppDiff { namespace: cluster.default_namespace().to_string(), diffs })
        },
        |_| false,
    );
    let external = report::diff(&members, &outcomes, &down, args.output, color)?;
    let verdicts = outcomes.iter().zip(&external).map(|(o, ext_failed)| {
        if *ext_failed {
            return Verdict::Failed;
        }
        verdict(o, |d| if d.changed() > 0 { Verdict::Differs } else { Verdict::Clean })
    });
    Ok(select::exit_code(verdicts.collect::<Vec<_>>()))
}

/// `sync APP... -f DIR` / `sync --all -f DIR`.
pub fn sync(args: SyncArgs) -> Result<i32> {
    let members = prepare(&common!("sync", args))?;
    let console = Console::new(std::io::stdin().is_terminal() && std::io::stderr().is_terminal());
    let (outcomes, down) = run_clusters(
        &members,
        &args.cluster,
        "sync",
        |m, cluster| {
            let mut opts = crate::app::sync_options(&args, &m.args, &m.app.name, &m.resolved, cluster, &m.objects)?;
            let policy = m.app.sync_policy.as_ref();
            opts.prune = m.prunes(args.prune);
            opts.allow_empty |= policy.and_then(|p| p.automated.as_ref()).is_some_and(|a| a.enabled && a.allow_empty);
            let mut ui = FleetUi { app: &m.app.name, context: m.context_label(), yes: args.yes, console: &console };
            crate::sync::retry::sync_with_retry(cluster, m.objects.clone(), &opts, &mut ui)
        },
        |r| r.error.is_some(),
    );
    report::sync(&members, &outcomes, &down, args.output)?;
    Ok(select::exit_code(
        outcomes.iter().map(|o| verdict(o, |r| if r.error.is_some() { Verdict::Failed } else { Verdict::Clean })),
    ))
}

fn verdict<T>(o: &Outcome<T>, done: impl Fn(&T) -> Verdict) -> Verdict {
    match o {
        Outcome::Done(t) => done(t),
        Outcome::Failed(_) => Verdict::Failed,
        Outcome::Unreachable => Verdict::Unreachable,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use clap::Parser;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A member with no objects, for the report and run tests.
    pub(crate) fn member(name: &str, context: Option<&str>, server: &str) -> Member {
        let args = match crate::cli::Cli::try_parse_from(["kubectl-gitops", "render"]).unwrap().command {
            crate::cli::Command::Render(r) => r.source,
            _ => unreachable!(),
        };
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
            file: format!("apps/{name}.yaml:1"),
            warnings: Vec::new(),
        };
        Member {
            app,
            context: context.map(String::from),
            server: select::Server { url: Some(server.into()), proxied: false },
            args,
            objects: Vec::new(),
            resolved: Resolved { parts: Vec::new(), default_namespace: None, app: None },
        }
    }

    /// Two apps on one context whose server accepts TCP connections; `work`
    /// fails each time, and closes the server when `close` is set.
    fn run_failing(close: bool) -> (Vec<Outcome<()>>, Vec<Unreachable>, usize) {
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
        let args = ClusterArgs { kubeconfig: Some(kubeconfig), context: None, namespace: None, concurrency: 1 };
        let listener = Mutex::new(Some(listener));
        let calls = AtomicUsize::new(0);
        let (outcomes, down) = run_clusters(
            &members,
            &args,
            "test",
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

    fn parse(argv: &[&str]) -> crate::cli::StatusArgs {
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Status(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn app_words_and_all() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let mut a = parse(&["kubectl-gitops", "status", "web", "api", "--app", d]);
        assert!(take_app_names(&mut a.source, &mut a.apps, a.all).unwrap());
        assert_eq!(a.apps, ["web", "api"]);
        assert_eq!(a.source.source, Path::new("."));

        let mut a = parse(&["kubectl-gitops", "status", "--all", "--app", d]);
        assert!(take_app_names(&mut a.source, &mut a.apps, a.all).unwrap());

        // One Application, no names: the single-app command.
        let mut a = parse(&["kubectl-gitops", "status", "--app", d]);
        assert!(!take_app_names(&mut a.source, &mut a.apps, a.all).unwrap());

        let mut a = parse(&["kubectl-gitops", "status", "web", "--all", "--app", d]);
        let err = take_app_names(&mut a.source, &mut a.apps, a.all).unwrap_err().to_string();
        assert!(err.contains("or --all, not both"), "{err}");

        let mut a = parse(&["kubectl-gitops", "status", "--all"]);
        let err = take_app_names(&mut a.source, &mut a.apps, a.all).unwrap_err().to_string();
        assert!(err.contains("need -f/--app"), "{err}");

        let mut a = parse(&["kubectl-gitops", "status", "web", "--app", d, "--app-name", "api"]);
        assert!(take_app_names(&mut a.source, &mut a.apps, a.all).is_err());
    }

    #[test]
    fn with_an_application_source_the_positional_word_names_the_application() {
        let render = |argv: &[&str]| match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Render(r) => r.source,
            _ => unreachable!(),
        };
        let req = crate::app::source_request(&render(&["kubectl-gitops", "render", "web", "--app", "apps"])).unwrap();
        let crate::source::SourceRequest::App { name, file, .. } = req else { panic!("{req:?}") };
        assert_eq!((name.as_deref(), file.as_path()), (Some("web"), Path::new("apps")));
        let both = render(&["kubectl-gitops", "render", "web", "--app", "apps", "--app-name", "api"]);
        assert!(crate::app::source_request(&both).unwrap_err().to_string().contains("name the Application once"));
        // Without an Application source the word stays the source directory.
        let req = crate::app::source_request(&render(&["kubectl-gitops", "render", "web"])).unwrap();
        assert_eq!(req, crate::source::SourceRequest::Local { path: "web".into(), root: None });
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
