//! One short function per subcommand: settings -> pipeline -> output.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{Cli, Command, JsonnetArgs, RenderArgs, SourceArgs};
use crate::error::{Error, Result};
use crate::normalize::{NormalizeOptions, ObjectSet, normalize};
use crate::output::write_objects;
use crate::render::{JsonnetOptions, JsonnetVar, RenderOptions, render};
use crate::source::{DirectoryOptions, LocalSource};

/// Run a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Render(args) => render_cmd(args),
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
