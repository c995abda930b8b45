//! Where an Application deploys: `spec.destination` matched against the
//! kubeconfig (a context by name, or the contexts whose cluster has the
//! server URL; `https://kubernetes.default.svc` is the current context, or
//! the in-cluster config inside a pod).

use kube::config::Kubeconfig;

use super::Destination;
use crate::error::{Error, Result};

/// Argo CD's name for the cluster it runs in.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// A destination resolved against a kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedDestination {
    /// The kubeconfig context to use (`None`: the in-cluster config).
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// Resolve `dest`. `kubeconfig` is `None` when there is none (e.g. in a pod).
pub fn resolve_destination(dest: &Destination, kubeconfig: Option<&Kubeconfig>) -> Result<ResolvedDestination> {
    let namespace = dest.namespace.clone().filter(|n| !n.is_empty());
    let fail = |m: String| Error::Usage(format!("destination {}: {m}", dest.cluster()));
    let empty = Kubeconfig::default();
    let kc = kubeconfig.unwrap_or(&empty);
    if let Some(name) = dest.name.as_deref().filter(|n| !n.is_empty()) {
        if name == "in-cluster" && !kc.contexts.iter().any(|c| c.name == name) {
            return in_cluster(kc, namespace).ok_or_else(|| fail("no current context and not running in a pod".into()));
        }
        if kc.contexts.iter().any(|c| c.name == name) {
            return Ok(ResolvedDestination { context: Some(name.to_string()), namespace });
        }
        return Err(fail("no kubeconfig context has this name".into()));
    }
    let server = dest.server.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| fail("set name or server".into()))?;
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let clusters: Vec<&str> = kc
        .clusters
        .iter()
        .filter(|c| c.cluster.as_ref().and_then(|c| c.server.as_deref()).is_some_and(|s| norm(s) == norm(server)))
        .map(|c| c.name.as_str())
        .collect();
    let mut contexts: Vec<&str> = kc
        .contexts
        .iter()
        .filter(|c| c.context.as_ref().is_some_and(|ctx| clusters.contains(&ctx.cluster.as_str())))
        .map(|c| c.name.as_str())
        .collect();
    // Prefer the current context when it points at the server.
    if let Some(current) = kc.current_context.as_deref().filter(|c| contexts.contains(c)) {
        contexts = vec![current];
    }
    match contexts.as_slice() {
        [one] => Ok(ResolvedDestination { context: Some(one.to_string()), namespace }),
        [] if norm(server) == norm(IN_CLUSTER_SERVER) => {
            in_cluster(kc, namespace).ok_or_else(|| fail("no current context and not running in a pod".into()))
        }
        [] => Err(fail("no kubeconfig cluster has this server".into())),
        many => Err(fail(format!(
            "several kubeconfig contexts use this server ({}); set spec.destination.name",
            many.join(", ")
        ))),
    }
}

fn in_cluster(kc: &Kubeconfig, namespace: Option<String>) -> Option<ResolvedDestination> {
    if let Some(current) = kc.current_context.clone().filter(|c| !c.is_empty()) {
        return Some(ResolvedDestination { context: Some(current), namespace });
    }
    std::env::var_os("KUBERNETES_SERVICE_HOST").map(|_| ResolvedDestination { context: None, namespace })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::config::{Cluster, Context, NamedCluster, NamedContext};

    fn kubeconfig() -> Kubeconfig {
        let cluster = |name: &str, server: &str| NamedCluster {
            name: name.into(),
            cluster: Some(Cluster { server: Some(server.into()), ..Default::default() }),
            other: Default::default(),
        };
        let context = |name: &str, cluster: &str| NamedContext {
            name: name.into(),
            context: Some(Context { cluster: cluster.into(), ..Default::default() }),
            other: Default::default(),
        };
        Kubeconfig {
            clusters: vec![cluster("prod", "https://prod.example.com:6443"), cluster("dev", "https://dev.example.com")],
            contexts: vec![context("prod-admin", "prod"), context("prod-ro", "prod"), context("dev", "dev")],
            current_context: Some("dev".into()),
            ..Default::default()
        }
    }

    fn dest(server: Option<&str>, name: Option<&str>) -> Destination {
        Destination { server: server.map(String::from), name: name.map(String::from), namespace: Some("ns".into()) }
    }

    #[test]
    fn resolves_names_servers_and_in_cluster() {
        let kc = kubeconfig();
        let ctx = |d: Destination| resolve_destination(&d, Some(&kc)).map(|r| r.context.unwrap());
        assert_eq!(ctx(dest(None, Some("prod-ro"))).unwrap(), "prod-ro");
        assert_eq!(ctx(dest(Some("https://dev.example.com/"), None)).unwrap(), "dev");
        assert_eq!(ctx(dest(Some(IN_CLUSTER_SERVER), None)).unwrap(), "dev");
        let many = ctx(dest(Some("https://prod.example.com:6443"), None)).unwrap_err().to_string();
        assert!(many.contains("prod-admin, prod-ro"), "{many}");
        assert!(ctx(dest(None, Some("nope"))).unwrap_err().to_string().contains("no kubeconfig context"));
        assert!(ctx(dest(Some("https://other"), None)).unwrap_err().to_string().contains("no kubeconfig cluster"));
        let r = resolve_destination(&dest(None, Some("dev")), Some(&kc)).unwrap();
        assert_eq!(r.namespace.as_deref(), Some("ns"));
    }
}
