//! One short function per subcommand: parse -> options -> one library
//! call -> print. The flags become library settings in [`super::convert`];
//! the use cases are [`crate::usecase`]'s.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::convert;
use super::progress::TerminalUi;
use crate::cli::{
    AppsArgs, Cli, ClusterArgs, Command, DiffArgs, DiffFormat, HistoryArgs, HistoryFormat, ListArgs, ListFormat,
    RenderArgs, RollbackArgs, SourceArgs, StatusArgs, StatusFormat, SyncArgs, SyncFormat,
};
use crate::cluster::{Cluster, ConnectOptions};
use crate::diff::Action;
use crate::error::{Error, Result};
use crate::output::write_objects;
use crate::source::{Resolved, app_rows};
use crate::usecase::{self, DiffRequest, Rendered, SharedObject, SourceSpec};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    let color = Colors {
        stdout: cli.color.enabled(io::IsTerminal::is_terminal(&io::stdout())),
        stderr: cli.color.enabled(io::IsTerminal::is_terminal(&io::stderr())),
    };
    match cli.command {
        Command::Render(mut args) => {
            split_file_flags(&mut args.source)?;
            render_cmd(args)
        }
        Command::Diff(mut args) => {
            split_file_flags(&mut args.source)?;
            if super::fleet::take_app_names(&mut args.source, &mut args.apps, args.all)? {
                return super::fleet::diff(args, color.stdout);
            }
            by_name(&mut args.source, &mut args.name, args.recorded, &mut args.cluster, &mut args.applyset_parent)?;
            diff_cmd(args, color.stdout)
        }
        Command::Apps(args) => apps_cmd(args),
        Command::ImageUpdate(args) => super::image_update::run(args),
        Command::Sync(mut args) => {
            split_file_flags(&mut args.source)?;
            if super::fleet::take_app_names(&mut args.source, &mut args.apps, args.all)? {
                return super::fleet::sync(args);
            }
            by_name(&mut args.source, &mut args.name, args.recorded, &mut args.cluster, &mut args.applyset_parent)?;
            sync_cmd(args, color.stderr)
        }
        Command::History(args) => history_cmd(args),
        Command::List(args) => list_cmd(args),
        Command::Rollback(args) => rollback_cmd(args, color.stderr),
        Command::Status(mut args) => {
            split_file_flags(&mut args.source)?;
            if super::fleet::take_app_names(&mut args.source, &mut args.apps, args.all)? {
                return super::fleet::status(args);
            }
            by_name(&mut args.source, &mut args.name, args.recorded, &mut args.cluster, &mut args.applyset_parent)?;
            status_cmd(args)
        }
        Command::Agent(args) => super::agent::run(args),
        Command::Version => {
            println!("kubectl-gitops {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "kubectl-gitops", &mut io::stdout());
            Ok(0)
        }
    }
}

/// Whether to colour each output stream (`--color`, `NO_COLOR`, terminals).
#[derive(Debug, Clone, Copy)]
struct Colors {
    stdout: bool,
    stderr: bool,
}

/// An app named with no source (`status web`): its source from its record
/// (see [`super::by_name`]).
fn by_name(
    source: &mut SourceArgs,
    name: &mut Option<String>,
    recorded: bool,
    cluster: &mut ClusterArgs,
    kind: &mut crate::sync::parent::ParentKind,
) -> Result<()> {
    if let Some(app) = super::by_name::recorded_name(source, name.as_deref(), recorded)? {
        super::by_name::use_record(source, name, cluster, kind, &app)?;
    }
    Ok(())
}

/// `-f` means two things, as in the two tools it stands for: an Argo CD
/// Application file or directory (`kubectl gitops render -f app.yaml`) and a
/// chart values file (`helm template -f values.yaml`). A directory, or a file
/// holding an `argoproj.io` `Application` document, is taken as `--app`;
/// every other file stays a values file. The two cannot be mixed.
pub fn split_file_flags(args: &mut SourceArgs) -> Result<()> {
    spill_pipes(args)?;
    let (apps, values): (Vec<PathBuf>, Vec<PathBuf>) =
        std::mem::take(&mut args.chart.values).into_iter().partition(|p| is_application_file(p));
    args.chart.values = values;
    match apps.as_slice() {
        [] => Ok(()),
        [_, _, ..] => Err(Error::Usage("-f: give one Application file or directory".into())),
        [app] if args.remote.app.is_some() => {
            Err(Error::Usage(format!("-f {}: an Application is already given with --app", app.display())))
        }
        [app] if !args.chart.values.is_empty() => Err(Error::Usage(format!(
            "-f {}: an Application cannot be combined with -f values files (use its helm.valueFiles)",
            app.display()
        ))),
        [app] => {
            args.remote.app = Some(app.clone());
            Ok(())
        }
    }
}

/// `-f -` (standard input) and `-f` of a pipe (`<(...)`, `/dev/stdin`) can
/// be read once only: read each now into a private temporary file (0600 in
/// a 0700 directory) that every later reader opens instead.
fn spill_pipes(args: &mut SourceArgs) -> Result<()> {
    use std::io::Read;
    for path in args.chart.values.iter_mut() {
        let stdin = path.as_os_str() == "-";
        let regular = std::fs::metadata(&*path).map(|m| m.is_file() || m.is_dir());
        if !stdin && !matches!(regular, Ok(false)) {
            continue;
        }
        let mut text = Vec::new();
        let read = if stdin {
            io::stdin().read_to_end(&mut text)
        } else {
            std::fs::File::open(&*path).and_then(|mut f| f.read_to_end(&mut text))
        };
        read.map_err(|e| Error::io(path.clone(), e))?;
        let dir =
            tempfile::Builder::new().prefix("kubectl-gitops-values-").tempdir().map_err(|e| Error::io("<temp>", e))?;
        let file = dir.path().join(format!("values-{}.yaml", args.spilled.len()));
        std::fs::write(&file, &text).map_err(|e| Error::io(file.clone(), e))?;
        *path = file;
        args.spilled.push(std::sync::Arc::new(dir));
    }
    Ok(())
}

fn is_application_file(p: &Path) -> bool {
    if p.is_dir() {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(p) else { return false };
    let Ok(docs) =
        crate::yaml::parse_stream_with(&text, crate::yaml::Dialect::Kubectl, crate::yaml::DuplicateKeys::LastWins)
    else {
        return false;
    };
    docs.iter().any(|d| {
        d.value.get("kind").and_then(|k| k.as_str()) == Some("Application")
            && d.value.get("apiVersion").and_then(|k| k.as_str()).is_some_and(|a| a.starts_with("argoproj.io/"))
    })
}

/// The source flags of app `name` as a library source: the chart release
/// name defaults to the app's name, as Argo CD names a release after its
/// Application (`--release-name` wins; an Application source names it
/// itself). The record keeps the flags as given. `namespace` is the
/// release namespace.
pub fn app_spec(args: &SourceArgs, name: Option<&str>, namespace: Option<&str>) -> Result<SourceSpec> {
    let mut spec = convert::source_spec(&named_release(args, name), namespace)?;
    spec.record = convert::render_record(args);
    Ok(spec)
}

/// Render app `name`'s source, naming each git source's commit on stderr.
fn render_app(args: &SourceArgs, name: Option<&str>, namespace: Option<&str>) -> Result<Rendered> {
    let rendered = usecase::render(&app_spec(args, name, namespace)?)?;
    for (repo, revision, commit) in rendered.checkouts() {
        eprintln!("source: {repo} at {revision} is commit {commit}");
    }
    Ok(rendered)
}

fn render_cmd(args: RenderArgs) -> Result<i32> {
    let namespace = args.namespace.as_deref();
    let rendered = render_app(&args.source, None, namespace)?;
    let start = std::time::Instant::now();
    let set = rendered.normalize(namespace)?;
    tracing::debug!("{} objects normalized in {:?}", set.len(), start.elapsed());
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let start = std::time::Instant::now();
    write_objects(&mut out, &set, args.output).and_then(|_| out.flush()).map_err(|e| Error::io("<stdout>", e))?;
    tracing::debug!("printed in {:?}", start.elapsed());
    // The process exits next: freeing thousands of objects one map node at
    // a time would only delay that.
    std::mem::forget(set);
    Ok(0)
}

/// Connect as the flags say; an Application's destination fills in the
/// context and namespace the flags leave open.
fn connect(args: &ClusterArgs, resolved: &Resolved) -> Result<Cluster> {
    let (mut context, mut namespace) = (args.context.clone(), args.namespace.clone());
    if let Some(app) = &resolved.app {
        namespace = namespace.or_else(|| app.destination.namespace.clone().filter(|n| !n.is_empty()));
        if context.is_none() {
            let kubeconfig = match &args.kubeconfig {
                Some(path) => {
                    Some(kube::config::Kubeconfig::read_from(path).map_err(|e| Error::ClusterConfig(e.to_string()))?)
                }
                None => kube::config::Kubeconfig::read().ok(),
            };
            context = crate::source::app::resolve_destination(&app.destination, kubeconfig.as_ref())?.context;
        }
    }
    Cluster::connect(&ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context,
        namespace,
        concurrency: args.concurrency,
    })
}

/// The source flags with the chart release name defaulting to the app's
/// name (`--name`), as Argo CD names a release after its Application
/// (`--release-name` wins; an Application source names it itself).
fn named_release<'a>(source: &'a SourceArgs, name: Option<&str>) -> std::borrow::Cow<'a, SourceArgs> {
    match name {
        Some(n) if source.chart.release_name.is_none() && source.remote.app.is_none() => {
            let mut s = source.clone();
            s.chart.release_name = Some(n.to_string());
            std::borrow::Cow::Owned(s)
        }
        _ => std::borrow::Cow::Borrowed(source),
    }
}

fn diff_cmd(args: DiffArgs, color: bool) -> Result<i32> {
    let rendered = render_app(&args.source, args.name.as_deref(), args.cluster.namespace.as_deref())?;
    let cluster = connect(&args.cluster, &rendered.resolved)?;
    let request = DiffRequest { name: args.name.clone(), parent_kind: args.applyset_parent, prune: args.prune };
    let report = usecase::diff(&cluster, &rendered, &request)?;
    warn_shared(&report.shared);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.output {
        DiffFormat::Json => crate::output::write_json(&mut out, &serde_json::json!({"items": report.diffs}))
            .map_err(|e| Error::io("<stdout>", e))?,
        DiffFormat::Text => {
            if let Some(program) = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|p| !p.trim().is_empty()) {
                out.flush().map_err(|e| Error::io("<stdout>", e))?;
                return crate::external_diff::run(&program, &report.diffs);
            }
            for d in report.diffs.iter().filter(|d| d.action != Action::None) {
                let text = if color { crate::diff::colorize(&d.diff) } else { d.diff.clone() };
                out.write_all(text.as_bytes()).map_err(|e| Error::io("<stdout>", e))?;
            }
        }
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    Ok(i32::from(report.changed() > 0))
}

/// Objects another app owns: a warning each.
pub(super) fn warn_shared(shared: &[SharedObject]) {
    for s in shared {
        tracing::warn!(
            "{} ({}) belongs to another app ({}): a sync leaves it to its owner \
             (--adopt takes it over, --fail-on-shared-resource refuses)",
            s.key,
            s.origin,
            s.owner
        );
    }
}

/// `--name` or an Application source, checked before anything is rendered.
fn require_name(flag: Option<&str>, args: &SourceArgs, command: &str) -> Result<()> {
    if flag.is_none() && args.remote.app.is_none() {
        return Err(Error::Usage(format!(
            "{command} needs the app's name: --name NAME, an Application source (-f app.yaml) whose metadata.name names it, \
             or the name alone (`{command} NAME`, or `{command} NAME --recorded` when NAME is also a path here) to use \
             the source the app was last synced from"
        )));
    }
    Ok(())
}

fn apps_cmd(args: AppsArgs) -> Result<i32> {
    let apps = crate::source::app::load(&args.app)?;
    let rows = app_rows(apps, &args.app, args.offline, None);
    let mut out = io::stdout().lock();
    crate::source::app::write_apps(&mut out, &rows, args.output).map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

fn sync_cmd(args: SyncArgs, color: bool) -> Result<i32> {
    require_name(args.name.as_deref(), &args.source, "sync")?;
    let rendered = render_app(&args.source, args.name.as_deref(), args.cluster.namespace.as_deref())?;
    let cluster = connect(&args.cluster, &rendered.resolved)?;
    let name = rendered.app_name(args.name.as_deref()).expect("checked by require_name");
    let opts = usecase::sync_options(&convert::sync_request(&args), &name, &rendered, &cluster)?;
    tracing::debug!("sync: rendered, connected");
    let mut ui = TerminalUi::new(args.yes, color);
    let report = usecase::sync(&cluster, &rendered, &opts, &mut ui)?;
    tracing::debug!("sync: returned");
    ui.finish();
    print_sync_report(&report, args.output)
}

/// A sync's report on stdout; a failed sync is an error.
fn print_sync_report(report: &crate::sync::SyncReport, format: SyncFormat) -> Result<i32> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match format {
        SyncFormat::Json => crate::output::write_json(&mut out, report).map_err(|e| Error::io("<stdout>", e))?,
        SyncFormat::Text => writeln!(out, "{}", report.summary_line()).map_err(|e| Error::io("<stdout>", e))?,
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    match &report.error {
        Some(e) => Err(Error::SyncFailed(e.clone())),
        None => Ok(0),
    }
}

fn history_cmd(args: HistoryArgs) -> Result<i32> {
    let cluster = connect(&args.cluster, &Resolved { parts: Vec::new(), default_namespace: None, app: None })?;
    let reference = args.applyset_parent.reference(cluster.default_namespace(), &args.app);
    let place = format!("{}/{} -n {}", reference.kind.to_lowercase(), reference.name, reference.namespace);
    let parent = crate::sync::parent::read(&cluster, reference, true)?;
    if parent.live.is_none() {
        return Err(Error::Usage(format!(
            "app {:?} has no history: its ApplySet parent {place} does not exist (sync it first, or check -n)",
            args.app
        )));
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let value = serde_json::to_value(&parent.history).expect("history serializes");
    match args.output {
        HistoryFormat::Table => crate::status::write_history(&mut out, &parent.history),
        HistoryFormat::Json => crate::output::write_json(&mut out, &value),
        HistoryFormat::Yaml => out.write_all(crate::yaml::to_yaml_string(&value).as_bytes()),
    }
    .and_then(|_| out.flush())
    .map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

fn status_cmd(args: StatusArgs) -> Result<i32> {
    require_name(args.name.as_deref(), &args.source, "status")?;
    let rendered = render_app(&args.source, args.name.as_deref(), args.cluster.namespace.as_deref())?;
    let cluster = connect(&args.cluster, &rendered.resolved)?;
    let name = rendered.app_name(args.name.as_deref()).expect("checked by require_name");
    let status = usecase::status(&cluster, &rendered, &name, args.applyset_parent)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.output {
        StatusFormat::Json => crate::output::write_json(&mut out, &status),
        StatusFormat::Text => crate::status::write_status(&mut out, &status, false),
        StatusFormat::Wide => crate::status::write_status(&mut out, &status, true),
    }
    .and_then(|_| out.flush())
    .map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

fn list_cmd(args: ListArgs) -> Result<i32> {
    let cluster = connect(&args.cluster, &Resolved { parts: Vec::new(), default_namespace: None, app: None })?;
    let namespace = (!args.all_namespaces).then(|| cluster.default_namespace().to_string());
    let apps = crate::list::find_apps(&cluster, namespace.as_deref())?;
    let members = crate::list::member_summaries(&cluster, &apps)?;
    let mut rows: Vec<_> = apps.iter().zip(&members).map(|(a, m)| crate::list::row(a, m)).collect();
    if args.refresh {
        super::by_name::refresh(&args, &apps, &mut rows);
    }
    if rows.is_empty() && args.output.is_none_or(|o| o == ListFormat::Wide) {
        match &namespace {
            Some(ns) => eprintln!("No apps found in namespace {ns}."),
            None => eprintln!("No apps found."),
        }
        return Ok(0);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.output {
        None => crate::list::write_rows(&mut out, &rows, false),
        Some(ListFormat::Wide) => crate::list::write_rows(&mut out, &rows, true),
        Some(ListFormat::Json) => crate::output::write_json(&mut out, &serde_json::json!({ "items": rows })),
        Some(ListFormat::Yaml) => {
            let value = serde_json::json!({ "items": rows });
            out.write_all(crate::yaml::to_yaml_string(&value).as_bytes())
        }
        Some(ListFormat::Name) => rows.iter().try_for_each(|r| writeln!(out, "{}", r.name)),
    }
    .and_then(|_| out.flush())
    .map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

fn rollback_cmd(args: RollbackArgs, color: bool) -> Result<i32> {
    let cluster = connect(&args.cluster, &Resolved { parts: Vec::new(), default_namespace: None, app: None })?;
    let request = convert::rollback_request(&args);
    let mut ui = TerminalUi::new(args.yes, color);
    let mut announce = |entry: &crate::history::HistoryEntry| {
        let s = &entry.source;
        let place = s.render.app_file.as_deref().unwrap_or(&s.repo_url);
        let path = if s.path.is_empty() { String::new() } else { format!(" path {}", s.path) };
        eprintln!("rollback {} to history entry {}: {place}{path} at {}", args.app, entry.id, s.revision);
    };
    let report = usecase::rollback(&cluster, &request, &mut announce, &mut ui)?.sync;
    ui.finish();
    print_sync_report(&report, args.output)
}
