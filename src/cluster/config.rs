//! Where the cluster is and who we are: kubeconfig (`--kubeconfig`, else
//! `KUBECONFIG` with several files merged, else `~/.kube/config`), the
//! context (`--context`), else the in-cluster service account. kube's
//! `Config` then handles tokens, client certificates and exec plugins.

use std::path::PathBuf;

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::error::{Error, Result};

/// Cluster connection settings from the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`: one file, used instead of `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: a context of the kubeconfig instead of its current one.
    pub context: Option<String>,
    /// `--namespace`: overrides the context's namespace.
    pub namespace: Option<String>,
    /// `--concurrency`: requests in flight at once (at least 1).
    pub concurrency: usize,
}

/// Requests in flight at once when `--concurrency` is not given.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How long opening a connection to the API server may take (per attempt).
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn config_error(detail: impl std::fmt::Display) -> Error {
    Error::ClusterConfig(detail.to_string())
}

/// Load the client configuration the way kubectl does.
pub(super) async fn load(opts: &ConnectOptions) -> Result<Config> {
    let kopts = KubeConfigOptions { context: opts.context.clone(), cluster: None, user: None };
    let mut config = if let Some(path) = &opts.kubeconfig {
        let kc = Kubeconfig::read_from(path).map_err(|e| config_error(format!("{}: {e}", path.display())))?;
        Config::from_custom_kubeconfig(kc, &kopts)
            .await
            .map_err(|e| config_error(format!("{}: {e}", path.display())))?
    } else if kubeconfig_present() || opts.context.is_some() {
        Config::from_kubeconfig(&kopts).await.map_err(|e| config_error(format!("kubeconfig: {e}")))?
    } else {
        Config::incluster().map_err(|e| {
            config_error(format!("no kubeconfig (KUBECONFIG unset, ~/.kube/config absent) and not in a cluster: {e}"))
        })?
    };
    if let Some(ns) = &opts.namespace {
        config.default_namespace = ns.clone();
    }
    // A server that does not answer fails in seconds, not after kube's 30 s per attempt.
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    Ok(config)
}

fn kubeconfig_present() -> bool {
    if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    std::env::var_os("HOME").is_some_and(|h| PathBuf::from(h).join(".kube/config").is_file())
}

/// Who the kubeconfig says we are: the user name of the context in use
/// (`--context`, else the current one); `in-cluster` for a service account
/// and `unknown` when the kubeconfig names none.
pub fn user_name(opts: &ConnectOptions) -> String {
    let kc = match &opts.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None if kubeconfig_present() => Kubeconfig::read().ok(),
        None => return "in-cluster".into(),
    };
    let Some(kc) = kc else { return "unknown".into() };
    let Some(ctx) = opts.context.clone().or_else(|| kc.current_context.clone()) else { return "unknown".into() };
    kc.contexts
        .iter()
        .find(|c| c.name == ctx)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.user.clone())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
