//! One short function per subcommand: settings -> pipeline -> output.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::applyset::ParentRef;
use crate::cli::{
    AppsArgs, Cli, ClusterArgs, Command, DiffArgs, DiffFormat, HistoryArgs, HistoryFormat, JsonnetArgs, ListArgs,
    ListFormat, RenderArgs, RollbackArgs, SourceArgs, StatusArgs, StatusFormat, SyncArgs, SyncFormat,
};
use crate::cluster::{Cluster, ConnectOptions, compare};
use crate::diff::{Action, DiffOptions, diff_object};
use crate::error::{Error, Result};
use crate::model::Object;
use crate::normalize::{NormalizeOptions, ObjectSet, normalize};
use crate::output::write_objects;
use crate::progress::TerminalUi;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions, render};
use crate::source::git::{DEFAULT_REVISION, GitOptions, GitSpec, RepoUrl, SnapshotLimits, normalize_hosts};
use crate::source::{DirectoryOptions, Resolved, SourceRequest, app_rows, merge_source_objects, resolve};
use crate::sync::SyncOptions;

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
            if crate::fleet::take_app_names(&mut args.source, &mut args.apps, args.all)? {
                return crate::fleet::diff(args, color.stdout);
            }
            by_name(&mut args.source, &mut args.name, args.recorded, &mut args.cluster, &mut args.applyset_parent)?;
            diff_cmd(args, color.stdout)
        }
        Command::Apps(args) => apps_cmd(args),
        Command::Sync(mut args) => {
            split_file_flags(&mut args.source)?;
            if crate::fleet::take_app_names(&mut args.source, &mut args.apps, args.all)? {
                return crate::fleet::sync(args);
            }
            by_name(&mut args.source, &mut args.name, args.recorded, &mut args.cluster, &mut args.applyset_parent)?;
            sync_cmd(args, color.stderr)
        }
        Command::History(args) => history_cmd(args),
        Command::List(args) => list_cmd(args),
        Command::Rollback(args) => rollback_cmd(args, color.stderr),
        Command::Status(mut args) => {
            split_file_flags(&mut args.source)?;
            if crate::fleet::take_app_names(&mut args.source, &mut args.apps, args.all)? {
                return crate::fleet::status(args);
            }
            by_name(&mut args.source, &mut args.name, args.recorded, &mut args.cluster, &mut args.applyset_parent)?;
            status_cmd(args)
        }
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
/// (see [`crate::by_name`]).
fn by_name(
    source: &mut SourceArgs,
    name: &mut Option<String>,
    recorded: bool,
    cluster: &mut ClusterArgs,
    kind: &mut crate::sync::parent::ParentKind,
) -> Result<()> {
    if let Some(app) = crate::by_name::recorded_name(source, name.as_deref(), recorded)? {
        crate::by_name::use_record(source, name, cluster, kind, &app)?;
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

pub(crate) fn render_options(args: &SourceArgs, namespace: Option<&str>) -> RenderOptions {
    RenderOptions {
        chart: crate::render::chart::ChartOptions::from_args(&args.chart, namespace),
        plugins: crate::render::plugin::PluginOptions::from_args(&args.chart),
        directory: DirectoryOptions {
            recursive: args.recursive,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
        },
        cwd: None,
        jsonnet: jsonnet_options(&args.jsonnet),
        tool: None,
        build: Default::default(),
        limits: crate::render::limits::Limits {
            timeout: args.render_timeout,
            max_output: args.max_render_bytes,
            max_depth: args.max_nesting,
        },
    }
}

fn jsonnet_options(a: &JsonnetArgs) -> JsonnetOptions {
    let vars = |groups: [(&[crate::cli::NameValue], bool, bool); 4]| {
        groups
            .into_iter()
            .flat_map(|(list, code, file)| list.iter().map(move |nv| JsonnetVar::new(&nv.name, &nv.value, code, file)))
            .collect()
    };
    JsonnetOptions {
        main: a.jsonnet_main.clone(),
        jpath: a.jpath.clone(),
        ext_vars: vars([
            (&a.ext_str, false, false),
            (&a.ext_code, true, false),
            (&a.ext_str_file, false, true),
            (&a.ext_code_file, true, true),
        ]),
        tlas: vars([
            (&a.tla_str, false, false),
            (&a.tla_code, true, false),
            (&a.tla_str_file, false, true),
            (&a.tla_code_file, true, true),
        ]),
    }
}

/// Where the source flags point: a local path, a git repository or an Application.
pub fn source_request(args: &SourceArgs) -> Result<SourceRequest> {
    let r = &args.remote;
    let git = git_options(r);
    if args.root.is_some() && (r.app.is_some() || r.repo.is_some()) {
        return Err(Error::Usage(
            "--root applies to a local source; a git or Application source is rooted at its repository".into(),
        ));
    }
    if let Some(file) = &r.app {
        // With an Application source, the positional word names the Application.
        let positional = (args.source != Path::new(".")).then(|| args.source.display().to_string());
        if let (Some(word), Some(name)) = (&positional, &r.app_name) {
            return Err(Error::Usage(format!("{word:?} and --app-name {name}: name the Application once")));
        }
        return Ok(SourceRequest::App {
            file: file.clone(),
            name: r.app_name.clone().or(positional),
            revision: r.revision.clone(),
            offline: r.offline,
            git,
        });
    }
    if let Some(repo) = &r.repo {
        return Ok(SourceRequest::Git(GitSpec {
            repo: repo.clone(),
            revision: r.revision.clone().unwrap_or_else(|| DEFAULT_REVISION.into()),
            path: r.path.clone().unwrap_or_default(),
            offline: r.offline,
            options: git,
        }));
    }
    if r.revision.is_some() || r.offline {
        return Err(Error::Usage("--revision and --offline need --repo or --app".into()));
    }
    Ok(SourceRequest::Local { path: args.source.clone(), root: args.root.clone() })
}

/// Git settings from the flags (their environment variables included). The
/// token goes to `--git-token-hosts`, else to the host of `--repo` only: an
/// Application file's `repoURL` alone never earns it.
fn git_options(r: &crate::cli::RemoteSourceArgs) -> GitOptions {
    let d = SnapshotLimits::default();
    let limits = SnapshotLimits {
        max_bytes: r.git_max_bytes.unwrap_or(d.max_bytes),
        max_files: r.git_max_files.unwrap_or(d.max_files),
        max_depth: r.git_max_depth.unwrap_or(d.max_depth),
    };
    let mut token_hosts = normalize_hosts(&r.git_token_hosts);
    if token_hosts.is_empty()
        && let Some(url) = r.repo.as_deref().and_then(|u| RepoUrl::parse(u).ok())
    {
        token_hosts = normalize_hosts(&[url.host]);
    }
    GitOptions { limits, token_hosts }
}

/// Resolve and render a source (not normalized): every part of it, in order.
pub fn render_parts(args: &SourceArgs, namespace: Option<&str>) -> Result<(Vec<Object>, Resolved)> {
    let (objects, resolved) = render_parts_quiet(args, namespace)?;
    for co in resolved.parts.iter().filter_map(|p| p.checkout.as_ref()) {
        eprintln!("source: {} at {} is commit {}", co.repo, co.revision, co.commit);
    }
    Ok((objects, resolved))
}

/// [`render_parts`] without the line naming each git source's commit.
pub fn render_parts_quiet(args: &SourceArgs, namespace: Option<&str>) -> Result<(Vec<Object>, Resolved)> {
    let resolved = resolve(&source_request(args)?, render_options(args, namespace), None)?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        merge_source_objects(&mut objects, render(&part.source, &part.options)?);
    }
    Ok((objects, resolved))
}

/// Render and normalize a source: the pipeline's offline half.
pub fn render_source(args: &SourceArgs, namespace: Option<&str>) -> Result<ObjectSet> {
    render_resolved(args, namespace).map(|(set, _)| set)
}

/// [`render_source`], also returning the resolved source (commit, Application).
/// `namespace` wins over an Application's destination namespace.
pub fn render_resolved(args: &SourceArgs, namespace: Option<&str>) -> Result<(ObjectSet, Resolved)> {
    let (objects, resolved) = render_parts(args, namespace)?;
    let default_namespace = namespace.map(String::from).or_else(|| resolved.default_namespace.clone());
    let start = std::time::Instant::now();
    let set = normalize(objects, &NormalizeOptions { default_namespace })?;
    tracing::debug!("{} objects normalized in {:?}", set.len(), start.elapsed());
    Ok((set, resolved))
}

fn render_cmd(args: RenderArgs) -> Result<i32> {
    let (set, _) = render_resolved(&args.source, args.namespace.as_deref())?;
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
pub(crate) fn named_release<'a>(source: &'a SourceArgs, name: Option<&str>) -> std::borrow::Cow<'a, SourceArgs> {
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
    let source_args = named_release(&args.source, args.name.as_deref());
    let (mut objects, source) = render_parts(&source_args, args.cluster.namespace.as_deref())?;
    let cluster = connect(&args.cluster, &source)?;
    let name = app_name(args.name.as_deref(), &source);
    if args.prune && name.is_none() {
        return Err(Error::Usage("diff --prune needs the app's name: --name, or an Application source".into()));
    }
    let parent = name.as_ref().map(|app| args.applyset_parent.reference(cluster.default_namespace(), app));
    if let Some(p) = &parent {
        crate::sync::label_members(&mut objects, &p.id())?;
    }
    let unlabelled = parent.is_none().then(|| objects.clone());
    let write = diff_options(&source).write;
    let mut resolved = compare::prepare_with(&cluster, objects, write)?;
    let mut comparisons = compare::compare(&cluster, &resolved)?;
    // Without --name: objects a sync applied carry its part-of label; compare as that sync would.
    if let (Some(mut objects), Some(id)) = (unlabelled, crate::sync::synced_id(&comparisons)) {
        crate::sync::label_members(&mut objects, &id)?;
        resolved = compare::prepare_with(&cluster, objects, write)?;
        comparisons = compare::compare(&cluster, &resolved)?;
    }
    if let Some(p) = &parent {
        let app = name.as_deref().unwrap_or_default();
        for (key, other, origin) in crate::sync::shared_objects(&comparisons, &p.id(), app) {
            tracing::warn!(
                "{key} ({origin}) belongs to another app ({other}): a sync leaves it to its owner \
                 (--adopt takes it over, --fail-on-shared-resource refuses)"
            );
        }
    }
    let opts = diff_options(&source);
    let mut diffs: Vec<_> =
        comparisons.iter().map(|c| diff_object(c.live.as_ref(), Some(&c.predicted), &opts)).collect();
    if let (true, Some(p)) = (args.prune, parent) {
        diffs.extend(prune_diffs(&cluster, &resolved, p)?);
    }
    let changed = diffs.iter().any(|d| d.action != Action::None);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.output {
        DiffFormat::Json => crate::output::write_json(&mut out, &serde_json::json!({"items": diffs}))
            .map_err(|e| Error::io("<stdout>", e))?,
        DiffFormat::Text => {
            if let Some(program) = std::env::var("KUBECTL_EXTERNAL_DIFF").ok().filter(|p| !p.trim().is_empty()) {
                out.flush().map_err(|e| Error::io("<stdout>", e))?;
                return crate::external_diff::run(&program, &diffs);
            }
            for d in diffs.iter().filter(|d| d.action != Action::None) {
                let text = if color { crate::diff::colorize(&d.diff) } else { d.diff.clone() };
                out.write_all(text.as_bytes()).map_err(|e| Error::io("<stdout>", e))?;
            }
        }
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    Ok(i32::from(changed))
}

/// `--name`, else the name of the Application the source is.
fn app_name(flag: Option<&str>, source: &Resolved) -> Option<String> {
    flag.map(String::from).or_else(|| source.app.as_ref().map(|a| a.name.clone()))
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

/// The Application's `ignoreDifferences` as diff rules.
pub(crate) fn diff_options(source: &Resolved) -> DiffOptions {
    let Some(app) = &source.app else { return DiffOptions::default() };
    let ignore = app
        .ignore_differences
        .iter()
        .map(|d| crate::diff::IgnoreRule {
            group: d.group.clone(),
            kind: d.kind.clone(),
            name: d.name.clone(),
            namespace: d.namespace.clone(),
            json_pointers: d.json_pointers.clone(),
            managed_fields_managers: d.managed_fields_managers.clone(),
            jq_path_expressions: d.jq_path_expressions.clone(),
        })
        .collect();
    let write = app.sync_policy.as_ref().map(|p| crate::plan::WriteDefaults::from_sync_options(&p.sync_options));
    DiffOptions { ignore, write: write.unwrap_or_default() }
}

fn apps_cmd(args: AppsArgs) -> Result<i32> {
    let apps = crate::source::app::load(&args.app)?;
    let rows = app_rows(apps, &args.app, args.offline, None);
    let mut out = io::stdout().lock();
    crate::source::app::write_apps(&mut out, &rows, args.output).map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

/// `diff --prune`: deletion diffs of the prune candidates, then of what
/// garbage collection would remove with them (marked cascading).
pub(crate) fn prune_diffs(
    cluster: &Cluster,
    resolved: &compare::Resolved,
    reference: ParentRef,
) -> Result<Vec<crate::diff::ObjectDiff>> {
    let ns = reference.namespace.clone();
    let parent = crate::sync::parent::read(cluster, reference, true)?;
    let set = resolved.set.objects();
    let mut inv = parent.recorded.clone();
    inv.namespaces.insert(ns.clone());
    for o in set {
        inv.group_kinds.insert(crate::sync::prune::group_kind(o.group(), o.kind()));
        inv.namespaces.extend(o.namespace().map(String::from));
    }
    let keys = set.iter().map(|o| o.key()).collect();
    let plan = crate::sync::prune::plan_prune(cluster, &parent.id, &inv, &keys, &ns)?;
    let opts = DiffOptions::default();
    let mut out: Vec<_> = plan.delete.iter().map(|d| diff_object(Some(&d.live), None, &opts)).collect();
    let deps = crate::sync::prune::cascading(cluster, &plan.delete)?;
    let shown: std::collections::HashSet<&str> = deps.iter().map(|d| d.uid.as_str()).collect();
    for dep in &deps {
        let mut d = diff_object(Some(&dep.live), None, &opts);
        d.diff = format!("# cascading: garbage-collected with a pruned object\n{}", d.diff);
        out.push(d);
    }
    for c in &plan.crd_objects {
        let mut header = format!(
            "# cascading: deleted with CustomResourceDefinition {} ({} of kind {}, in every namespace)",
            c.crd,
            c.count_text(),
            c.kind
        );
        if c.count > c.listed.len() as u64 {
            header.push_str(&format!("; the first {} shown", c.listed.len()));
        }
        for item in c.listed.iter().filter(|i| !shown.contains(i.uid.as_str())) {
            let mut d = diff_object(Some(&item.live), None, &opts);
            d.diff = format!("{header}\n{}", d.diff);
            out.push(d);
        }
    }
    Ok(out)
}

/// The render flags given, by flag name (recorded in the history).
fn render_parameters(args: &SourceArgs, namespace: Option<&str>) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut p = std::collections::BTreeMap::new();
    let mut put = |k: &str, v: Vec<String>| {
        if !v.is_empty() {
            p.insert(k.to_string(), v);
        }
    };
    // Local files by absolute path, so that a rollback run elsewhere finds them.
    let abs = |x: &Path| std::fs::canonicalize(x).unwrap_or_else(|_| x.to_path_buf()).display().to_string();
    let paths = |v: &[PathBuf]| v.iter().map(|x| abs(x)).collect::<Vec<_>>();
    // Values given on the command line may be secrets: the record keeps
    // that they were given, and a digest, never the value.
    let secrets = |v: &[String]| v.iter().map(|x| crate::history::secret_digest(x)).collect::<Vec<_>>();
    let nvs = |v: &[crate::cli::NameValue]| {
        v.iter().map(|x| format!("{}={}", x.name, crate::history::secret_digest(&x.value))).collect::<Vec<_>>()
    };
    // Files by absolute path and content digest, so that a rollback can
    // tell that they still hold what was deployed. Values read from a pipe
    // cannot be read again: recorded like a value given inline.
    let spilled = |x: &Path| args.spilled.iter().any(|d| x.starts_with(d.path()));
    let file = |x: &Path| match std::fs::read(x) {
        Ok(bytes) if spilled(x) => crate::history::secret_digest(&String::from_utf8_lossy(&bytes)),
        _ => crate::history::file_record(x),
    };
    let files = |v: &[PathBuf]| v.iter().map(|x| file(x)).collect::<Vec<_>>();
    let nv_files = |v: &[crate::cli::NameValue]| {
        v.iter().map(|x| format!("{}={}", x.name, file(Path::new(&x.value)))).collect::<Vec<_>>()
    };
    let set_files = |v: &[String]| {
        v.iter()
            .map(|x| match x.split_once('=') {
                Some((k, p)) => format!("{k}={}", file(Path::new(p))),
                None => x.clone(),
            })
            .collect::<Vec<_>>()
    };
    let (c, j, r) = (&args.chart, &args.jsonnet, &args.remote);
    put("app", r.app.as_deref().map(abs).into_iter().collect());
    put("app-name", r.app_name.clone().into_iter().collect());
    // What the Application alone does not say: its revision when given, the root of a local source.
    put("revision", if r.app.is_some() { r.revision.clone().into_iter().collect() } else { vec![] });
    put("root", args.root.as_deref().map(abs).into_iter().collect());
    put("namespace", namespace.map(String::from).into_iter().collect());
    put("recursive", if args.recursive { vec!["true".into()] } else { vec![] });
    put("include", args.include.clone());
    put("exclude", args.exclude.clone());
    put("release-name", c.release_name.clone().into_iter().collect());
    put("values", files(&c.values));
    put("set", secrets(&c.set));
    put("set-string", secrets(&c.set_string));
    put("set-file", set_files(&c.set_file));
    put("set-json", secrets(&c.set_json));
    put("set-literal", secrets(&c.set_literal));
    put("kube-version", c.kube_version.clone().into_iter().collect());
    put("api-versions", c.api_versions.clone());
    put("plugin", c.plugin.clone().into_iter().collect());
    put("plugin-dir", paths(&c.plugin_dir));
    put("skip-crds", if c.skip_crds { vec!["true".into()] } else { vec![] });
    put("allow-repo-plugins", if c.allow_repo_plugins { vec!["true".into()] } else { vec![] });
    put("plugin-env", secrets(&c.plugin_env));
    put("jsonnet-main", j.jsonnet_main.as_deref().map(|x| x.display().to_string()).into_iter().collect());
    put("jpath", paths(&j.jpath));
    put("ext-str", nvs(&j.ext_str));
    put("ext-code", nvs(&j.ext_code));
    put("ext-str-file", nv_files(&j.ext_str_file));
    put("ext-code-file", nv_files(&j.ext_code_file));
    put("tla-str", nvs(&j.tla_str));
    put("tla-code", nvs(&j.tla_code));
    put("tla-str-file", nv_files(&j.tla_str_file));
    put("tla-code-file", nv_files(&j.tla_code_file));
    p
}

/// What the history records about a resolved source: the first part's
/// repository, path and commit (a local directory: its path, and `local:`
/// with the hash of the normalized set); the render flags as parameters,
/// and any further source of a multi-source Application as `sources`.
pub(crate) fn history_source(
    args: &SourceArgs,
    source: &Resolved,
    namespace: &str,
    objects: &[crate::model::Object],
) -> Result<crate::history::HistorySource> {
    let mut parts = source.parts.iter().map(|p| p.history_source());
    let mut h = parts.next().unwrap_or_default();
    if h.revision.is_empty() {
        let set = normalize(objects.to_vec(), &NormalizeOptions { default_namespace: Some(namespace.to_string()) })?;
        h.revision = crate::status::local_revision(&set);
    }
    h.parameters = render_parameters(args, Some(namespace));
    let rest: Vec<String> = parts.map(|p| format!("{} {} {}", p.repo_url, p.revision, p.path)).collect();
    if !rest.is_empty() {
        h.parameters.insert("sources".into(), rest);
    }
    Ok(h)
}

fn history_template(
    args: &SourceArgs,
    source: &Resolved,
    cluster: &Cluster,
    objects: &[crate::model::Object],
) -> Result<crate::history::HistoryEntry> {
    Ok(crate::history::HistoryEntry {
        id: 0,
        deployed_at: String::new(),
        user: cluster.user().to_string(),
        source: history_source(args, source, cluster.default_namespace(), objects)?,
        result: String::new(),
    })
}

fn sync_cmd(args: SyncArgs, color: bool) -> Result<i32> {
    require_name(args.name.as_deref(), &args.source, "sync")?;
    let source_args = named_release(&args.source, args.name.as_deref());
    let (objects, source) = render_parts(&source_args, args.cluster.namespace.as_deref())?;
    let cluster = connect(&args.cluster, &source)?;
    let name = app_name(args.name.as_deref(), &source).expect("checked by require_name");
    let opts = sync_options(&args, &args.source, &name, &source, &cluster, &objects)?;
    tracing::debug!("sync: rendered, connected");
    let mut ui = TerminalUi::new(args.yes, color);
    let report = crate::sync::retry::sync_with_retry(&cluster, objects, &opts, &mut ui)?;
    tracing::debug!("sync: returned");
    ui.finish();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.output {
        SyncFormat::Json => crate::output::write_json(&mut out, &report).map_err(|e| Error::io("<stdout>", e))?,
        SyncFormat::Text => writeln!(out, "{}", report.summary_line()).map_err(|e| Error::io("<stdout>", e))?,
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    match report.error {
        Some(e) => Err(Error::SyncFailed(e)),
        None => Ok(0),
    }
}

/// The sync settings of app `name` from the flags (and the Application's revisionHistoryLimit).
pub(crate) fn sync_options(
    args: &SyncArgs,
    source_args: &SourceArgs,
    name: &str,
    source: &Resolved,
    cluster: &Cluster,
    objects: &[Object],
) -> Result<SyncOptions> {
    let policy = source.app.as_ref().and_then(|a| a.sync_policy.as_ref());
    // What an Application asks that this tool does not do is said once.
    if let Some(p) = policy {
        for o in &p.sync_options {
            if let Some(instead) = crate::logging::unsupported_sync_option(&o.to_string()) {
                crate::logging::warn_once(
                    &format!("{name}/{o}"),
                    format!("{name}: sync option {o} is not supported: {instead}"),
                );
            }
        }
    }
    let app_cascade = policy.and_then(|p| {
        p.sync_options.iter().find_map(|o| match o {
            crate::source::app::SyncOption::PrunePropagationPolicy(pp) => Some(match pp {
                crate::source::app::PropagationPolicy::Foreground => crate::cluster::write::Cascade::Foreground,
                crate::source::app::PropagationPolicy::Background => crate::cluster::write::Cascade::Background,
                crate::source::app::PropagationPolicy::Orphan => crate::cluster::write::Cascade::Orphan,
            }),
            _ => None,
        })
    });
    Ok(SyncOptions {
        app: name.to_string(),
        prune: args.prune,
        dry_run: args.dry_run,
        force_conflicts: args.force_conflicts,
        adopt: args.adopt,
        fail_on_shared: args.fail_on_shared_resource
            || source
                .app
                .as_ref()
                .and_then(|a| a.sync_policy.as_ref())
                .is_some_and(|p| p.sync_options.contains(&crate::source::app::SyncOption::FailOnSharedResource(true))),
        respect_ignore: if policy
            .is_some_and(|p| p.sync_options.contains(&crate::source::app::SyncOption::RespectIgnoreDifferences(true)))
        {
            diff_options(source).ignore
        } else {
            Vec::new()
        },
        prune_last: policy.is_some_and(|p| p.sync_options.contains(&crate::source::app::SyncOption::PruneLast(true))),
        allow_empty: args.allow_empty,
        confirm_mass_prune: args.confirm_mass_prune,
        prune_crds_with_objects: args.prune_crds_with_objects,
        // An Application's PrunePropagationPolicy, unless --cascade says otherwise.
        cascade: match (app_cascade, args.cascade) {
            (Some(c), crate::cluster::write::Cascade::Background) => c,
            (_, c) => c,
        },
        wait: args.wait,
        timeout: args.timeout,
        // An Application's CreateNamespace=true and managedNamespaceMetadata
        // hold under every command form.
        create_namespace: args.create_namespace
            || policy.is_some_and(|p| p.sync_options.contains(&crate::source::app::SyncOption::CreateNamespace(true))),
        namespace_metadata: policy
            .and_then(|p| p.managed_namespace_metadata.as_ref())
            .map(|m| (m.labels.clone(), m.annotations.clone())),
        lock_duration: args.lock_duration,
        parent_kind: args.applyset_parent,
        history: Some(history_template(source_args, source, cluster, objects)?),
        history_limit: args
            .revision_history_limit
            .or_else(|| source.app.as_ref()?.revision_history_limit.and_then(|n| usize::try_from(n).ok()))
            .unwrap_or(crate::history::DEFAULT_LIMIT),
        write: policy.map(|p| crate::plan::WriteDefaults::from_sync_options(&p.sync_options)).unwrap_or_default(),
        retry: retry_policy(args, policy, name)?,
    })
}

/// The Application's `syncPolicy.retry`, with the `--retry-*` flags over it.
fn retry_policy(
    args: &SyncArgs,
    policy: Option<&crate::source::app::SyncPolicy>,
    name: &str,
) -> Result<Option<crate::sync::retry::RetryPolicy>> {
    use crate::sync::retry::RetryPolicy;
    let from_app = match policy.and_then(|p| p.retry.as_ref()) {
        Some(v) => Some(RetryPolicy::from_value(v).map_err(|e| Error::Usage(format!("Application {name}: {e}")))?),
        None => None,
    };
    let flags = args.retry_limit.is_some()
        || args.retry_backoff_duration.is_some()
        || args.retry_backoff_max_duration.is_some()
        || args.retry_backoff_factor.is_some();
    if !flags {
        return Ok(from_app);
    }
    let mut p = from_app.unwrap_or_default();
    if let Some(l) = args.retry_limit {
        p.limit = l;
    }
    if let Some(d) = args.retry_backoff_duration {
        p.duration = d;
    }
    if let Some(d) = args.retry_backoff_max_duration {
        p.max_duration = d;
    }
    if let Some(f) = args.retry_backoff_factor {
        if !(f >= 1.0 && f.is_finite()) {
            return Err(Error::Usage(format!("--retry-backoff-factor must be a number >= 1, not {f}")));
        }
        p.factor = f;
    }
    Ok(Some(p))
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
    let source_args = named_release(&args.source, args.name.as_deref());
    let (objects, source) = render_parts(&source_args, args.cluster.namespace.as_deref())?;
    let cluster = connect(&args.cluster, &source)?;
    let name = app_name(args.name.as_deref(), &source).expect("checked by require_name");
    let revision = history_source(&args.source, &source, cluster.default_namespace(), &objects)?.revision;
    let status =
        crate::status::status(&cluster, objects, &name, args.applyset_parent, revision, &diff_options(&source))?;
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
        crate::by_name::refresh(&args, &apps, &mut rows);
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
    let ns = cluster.default_namespace().to_string();
    let reference = args.applyset_parent.reference(&ns, &args.app);
    let parent = crate::sync::parent::read(&cluster, reference, false)?;
    drop(cluster);
    let Some(entry) = crate::history::find(&parent.history, args.id) else {
        let ids: Vec<String> = parent.history.iter().map(|e| e.id.to_string()).collect();
        return Err(Error::Usage(format!(
            "app {:?} has no history entry {} (entries: {})",
            args.app,
            args.id,
            if ids.is_empty() { "none".to_string() } else { ids.join(", ") }
        )));
    };
    let source = crate::rollback::source_flags(entry)?;
    if let Some(file) = entry.source.parameters.get("app").and_then(|v| v.first()) {
        let name = entry.source.parameters.get("app-name").and_then(|v| v.first());
        let apps = crate::source::app::load(Path::new(file))?;
        let auto = apps
            .iter()
            .filter(|a| name.is_none_or(|n| &a.name == n))
            .any(|a| a.sync_policy.as_ref().and_then(|p| p.automated.as_ref()).is_some_and(|a| a.enabled));
        if auto && !args.force {
            return Err(Error::Refused(format!(
                "{file}: the Application has automated sync, which would undo a rollback (Argo CD refuses it too); \
                 turn automated sync off, or pass --force"
            )));
        }
    }
    let mut argv: Vec<String> = ["kubectl-gitops", "sync", "--name", &args.app, "-n", &ns].map(String::from).to_vec();
    argv.extend(source);
    let c = &args.cluster;
    let flag = |on: bool, f: &str| on.then(|| f.to_string());
    argv.extend(c.kubeconfig.as_ref().map(|k| format!("--kubeconfig={}", k.display())));
    argv.extend(c.context.as_ref().map(|k| format!("--context={k}")));
    argv.push(format!("--concurrency={}", c.concurrency));
    argv.extend(
        [
            flag(args.prune, "--prune"),
            flag(args.yes, "--yes"),
            flag(args.dry_run, "--dry-run"),
            flag(args.force_conflicts, "--force-conflicts"),
            flag(args.wait, "--wait"),
            flag(args.output == SyncFormat::Json, "--output=json"),
        ]
        .into_iter()
        .flatten(),
    );
    if args.applyset_parent == crate::sync::parent::ParentKind::ConfigMap {
        argv.push("--applyset-parent=configmap".into());
    }
    eprintln!("rollback {} to history entry {}: {}", args.app, entry.id, argv[2..].join(" "));
    let cli = <Cli as clap::Parser>::try_parse_from(&argv)
        .map_err(|e| Error::Usage(format!("history entry {}: its recorded flags do not parse: {e}", entry.id)))?;
    match cli.command {
        Command::Sync(mut sync) => {
            split_file_flags(&mut sync.source)?;
            sync_cmd(sync, color)
        }
        _ => unreachable!("the command line starts with sync"),
    }
}
