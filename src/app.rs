//! One short function per subcommand: settings -> pipeline -> output.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{Cli, ClusterArgs, Command, DiffArgs, DiffFormat, JsonnetArgs, RenderArgs, SourceArgs};
use crate::cluster::{Cluster, ConnectOptions, compare};
use crate::diff::{Action, DiffOptions, diff_object};
use crate::error::{Error, Result};
use crate::normalize::{NormalizeOptions, ObjectSet, normalize};
use crate::output::write_objects;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions, render};
use crate::source::{DirectoryOptions, LocalSource};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Render(args) => render_cmd(args),
        Command::Diff(args) => diff_cmd(args),
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

fn render_options(args: &SourceArgs, namespace: Option<&str>) -> RenderOptions {
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

/// Render and normalize a local source: the pipeline's offline half.
pub fn render_source(args: &SourceArgs, namespace: Option<&str>) -> Result<ObjectSet> {
    let src = LocalSource::open(&args.source)?;
    let objects = render(&src, &render_options(args, namespace))?;
    normalize(objects, &NormalizeOptions { default_namespace: namespace.map(String::from) })
}

fn render_cmd(args: RenderArgs) -> Result<i32> {
    let set = render_source(&args.source, args.namespace.as_deref())?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    write_objects(&mut out, &set, args.output).and_then(|_| out.flush()).map_err(|e| Error::io("<stdout>", e))?;
    Ok(0)
}

fn connect(args: &ClusterArgs) -> Result<Cluster> {
    Cluster::connect(&ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
        concurrency: args.concurrency,
    })
}

fn diff_cmd(args: DiffArgs) -> Result<i32> {
    let src = LocalSource::open(&args.source.source)?;
    let objects = render(&src, &render_options(&args.source, args.cluster.namespace.as_deref()))?;
    let cluster = connect(&args.cluster)?;
    let resolved = compare::prepare(&cluster, objects)?;
    let comparisons = compare::compare(&cluster, &resolved)?;
    let opts = DiffOptions::default();
    let diffs: Vec<_> = comparisons.iter().map(|c| diff_object(c.live.as_ref(), Some(&c.predicted), &opts)).collect();
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
            let tty = io::IsTerminal::is_terminal(&io::stdout());
            for d in diffs.iter().filter(|d| d.action != Action::None) {
                let text = if tty { crate::diff::colorize(&d.diff) } else { d.diff.clone() };
                out.write_all(text.as_bytes()).map_err(|e| Error::io("<stdout>", e))?;
            }
        }
    }
    out.flush().map_err(|e| Error::io("<stdout>", e))?;
    Ok(i32::from(changed))
}
