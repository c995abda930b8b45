//! `kubectl-gitops`: parse, run, print the error once, exit.

use clap::Parser;

use kubectl_gitops::cli::{Cli, run};

/// See Cargo.toml: allocation-heavy stages (JSON trees) run faster on mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    kubectl_gitops::logging::init(cli.verbose, cli.color.enabled(std::io::IsTerminal::is_terminal(&std::io::stderr())));
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
