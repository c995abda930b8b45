//! `kubectl gitops agent`: the flags become [`crate::agent`] settings, the
//! agent runs, and each reconcile is one line on stderr.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::convert;
use crate::agent::{self, AgentEvents, AppReport, Context};
use crate::cli::{AgentArgs, AgentLogFormat};
use crate::cluster::{Cluster, ConnectOptions};
use crate::error::Result;
use crate::source::SourceRequest;
use crate::source::git::Cache;

/// One line per reconcile and per notable event, on stderr.
struct Stderr {
    json: bool,
}

impl AgentEvents for Stderr {
    fn reconciled(&self, report: &AppReport) {
        if self.json {
            let mut v = serde_json::to_value(report).unwrap_or_default();
            v["time"] = serde_json::Value::String(k8s_openapi::jiff::Timestamp::now().to_string());
            eprintln!("{v}");
        } else {
            eprintln!("{}", report.line());
        }
    }

    fn note(&self, line: &str) {
        if self.json {
            let time = k8s_openapi::jiff::Timestamp::now().to_string();
            eprintln!("{}", serde_json::json!({"time": time, "event": line}));
        } else {
            eprintln!("agent: {line}");
        }
    }
}

/// A flag SIGTERM and SIGINT set: the agent then lets the reconciles in
/// progress finish, starts no new one, releases its Lease and exits 0.
fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let flag = stop.clone();
        // SAFETY: the action only stores into an atomic, which is async-signal-safe.
        unsafe { signal_hook_registry::register(signal, move || flag.store(true, Ordering::SeqCst)) }
            .map_err(|e| crate::error::Error::io("<signal handler>", e))?;
    }
    Ok(stop)
}

pub fn run(mut args: AgentArgs) -> Result<i32> {
    super::run::split_file_flags(&mut args.source)?;
    let spec = convert::source_spec(&args.source, None)?;
    let opts = convert::agent_options(&args, &spec.request)?;
    let git = convert::git_settings(&spec.request);
    // Every app renders from its Application, fetched once per round: offline here.
    let mut source = spec;
    source.request =
        SourceRequest::App { file: PathBuf::new(), name: None, revision: None, offline: true, git: git.clone() };
    let events = Stderr { json: args.log_format == AgentLogFormat::Json };
    let leader = if args.leader_elect {
        let cluster = Cluster::connect(&ConnectOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.lease_context.clone(),
            namespace: args.lease_namespace.clone(),
            concurrency: 1,
        })?;
        let namespace = cluster.default_namespace().to_string();
        let name = match args.shard {
            Some(s) => format!("{}-shard-{}-of-{}", args.lease_name, s.index, s.count),
            None => args.lease_name.clone(),
        };
        let identity = crate::cluster::lease::holder_identity();
        events.note(&format!("leader election through Lease {namespace}/{name} as {identity}"));
        let leadership = agent::leader::start(cluster, &namespace, &name, &identity, args.lease_duration)?;
        // The first round knows whether it leads.
        leadership.wait_first_look(std::time::Duration::from_secs(10));
        Some(leadership)
    } else {
        None
    };
    let mut ctx = Context::new(
        source,
        git,
        Cache::from_env()?,
        args.kubeconfig.clone(),
        args.concurrency,
        convert::agent_sync_request(&args),
        leader,
    )?;
    // Watches serve a running agent; one round needs none.
    ctx.watch = args.watch && !args.once;
    let stop = stop_on_signals()?;
    let result = agent::run(&ctx, &opts, &events, &stop);
    ctx.stop();
    let reports = result?;
    Ok(if reports.iter().any(|r| r.error.is_some()) { crate::error::EXIT_ERROR } else { 0 })
}
