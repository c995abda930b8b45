//! One short function per subcommand: settings -> pipeline -> output.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{AppsArgs, Cli, Command, JsonnetArgs, RenderArgs, SourceArgs};
use crate::error::{Error, Result};
use crate::normalize::{NormalizeOptions, ObjectSet, normalize};
use crate::output::write_objects;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions, render};
use crate::source::git::{DEFAULT_REVISION, GitSpec};
use crate::source::{DirectoryOptions, Resolved, SourceRequest, app_rows, merge_source_objects, resolve};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Render(args) => render_cmd(args),
        Command::Apps(args) => apps_cmd(args),
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

fn render_options(args: &SourceArgs) -> RenderOptions {
    RenderOptions {
        directory: DirectoryOptions {
            recursive: args.recursive,
            include: args.include.clone(),
            exclude: args.exclude.clone(),
        },
        jsonnet: jsonnet_options(&args.jsonnet),
        ..Default::default()
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
    if let Some(file) = &r.app {
        return Ok(SourceRequest::App {
            file: file.clone(),
            name: r.app_name.clone(),
            revision: r.revision.clone(),
            offline: r.offline,
        });
    }
    if let Some(repo) = &r.repo {
        return Ok(SourceRequest::Git(GitSpec {
            repo: repo.clone(),
            revision: r.revision.clone().unwrap_or_else(|| DEFAULT_REVISION.into()),
            path: r.path.clone().unwrap_or_default(),
            offline: r.offline,
        }));
    }
    if r.revision.is_some() || r.offline {
        return Err(Error::Usage("--revision and --offline need --repo or --app".into()));
    }
    Ok(SourceRequest::Local(args.source.clone()))
}

/// Render and normalize a source: the pipeline's offline half.
pub fn render_source(args: &SourceArgs, namespace: Option<&str>) -> Result<ObjectSet> {
    render_resolved(args, namespace).map(|(set, _)| set)
}

/// [`render_source`], also returning the resolved source (commit, Application).
/// `namespace` wins over an Application's destination namespace.
pub fn render_resolved(args: &SourceArgs, namespace: Option<&str>) -> Result<(ObjectSet, Resolved)> {
    let resolved = resolve(&source_request(args)?, render_options(args), None)?;
    let mut objects = Vec::new();
    for part in &resolved.parts {
        merge_source_objects(&mut objects, render(&part.source, &part.options)?);
    }
    let default_namespace = namespace.map(String::from).or_else(|| resolved.default_namespace.clone());
    Ok((normalize(objects, &NormalizeOptions { default_namespace })?, resolved))
}

fn render_cmd(args: RenderArgs) -> Result<i32> {
    let (set, resolved) = render_resolved(&args.source, args.namespace.as_deref())?;
    for co in resolved.parts.iter().filter_map(|p| p.checkout.as_ref()) {
        eprintln!("source: {} at {} is commit {}", co.repo, co.revision, co.commit);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    write_objects(&mut out, &set, args.output).and_then(|_| out.flush()).map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

fn apps_cmd(args: AppsArgs) -> Result<i32> {
    let apps = crate::source::app::load(&args.app)?;
    let rows = app_rows(apps, &args.app, args.offline, None);
    let mut out = io::stdout().lock();
    crate::source::app::write_apps(&mut out, &rows, args.output).map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}
