//! Log setup: `tracing` to stderr, level from `-v` or `RUST_LOG`.

use tracing_subscriber::EnvFilter;

/// Install the stderr logger. `verbosity` is the count of `-v` flags.
pub fn init(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // git2 logs credential helper command lines and output, which can hold secrets.
    let filter = filter.add_directive("git2=off".parse().expect("a valid directive"));
    // No colour codes when stderr is a file or a pipe (warnings are read there too).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    // Debug output carries the time since start (where a run spends its time).
    let _ = if verbosity >= 2 {
        builder.with_timer(tracing_subscriber::fmt::time::uptime()).try_init()
    } else {
        builder.without_time().try_init()
    };
}
