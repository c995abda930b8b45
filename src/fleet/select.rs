//! The pure half of a many-app command: which Applications (names or
//! `--all`), how they group by cluster (one kubeconfig context each), where
//! each context's server is (for the reachability probe), and the exit code
//! the per-app verdicts add up to. No cluster I/O except [`probe`], a plain
//! TCP connect.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use kube::config::Kubeconfig;

use crate::error::{Error, Result};
use crate::source::app::Application;

/// The Applications to act on: every one with `all`, else those named (in
/// the order named, each once). A name that is not there is an error
/// listing the names that are.
pub fn select(apps: Vec<Application>, names: &[String], all: bool, path: &Path) -> Result<Vec<Application>> {
    if all {
        return Ok(apps);
    }
    let unknown: Vec<&str> = names.iter().filter(|n| !apps.iter().any(|a| &a.name == *n)).map(String::as_str).collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
        return Err(Error::Source {
            path: path.to_path_buf(),
            message: format!(
                "no Application named {} (found: {})",
                unknown.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "),
                known.join(", ")
            ),
        });
    }
    let mut wanted: Vec<&String> = Vec::new();
    for n in names {
        if !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    let mut apps: Vec<Option<Application>> = apps.into_iter().map(Some).collect();
    Ok(wanted
        .into_iter()
        .map(|n| {
            let i = apps.iter().position(|a| a.as_ref().is_some_and(|a| &a.name == n)).expect("checked above");
            apps[i].take().expect("each name once")
        })
        .collect())
}

/// Indexes of `contexts` grouped by context, groups in order of first
/// appearance, members in input order (`None`: the in-cluster config).
pub fn group_by_context(contexts: &[Option<String>]) -> Vec<(Option<String>, Vec<usize>)> {
    let mut groups: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (i, c) in contexts.iter().enumerate() {
        match groups.iter_mut().find(|(g, _)| g == c) {
            Some((_, members)) => members.push(i),
            None => groups.push((c.clone(), vec![i])),
        }
    }
    groups
}

/// How a context is shown.
pub fn context_label(context: Option<&str>) -> &str {
    context.unwrap_or("in-cluster")
}

/// Where a context's API server is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Server {
    /// The server URL, when known.
    pub url: Option<String>,
    /// The kubeconfig sends requests through a proxy: a direct probe says nothing.
    pub proxied: bool,
}

/// The server of `context` in `kubeconfig` (`None`: the in-cluster config,
/// from `KUBERNETES_SERVICE_HOST`/`_PORT`).
pub fn server_of(kubeconfig: Option<&Kubeconfig>, context: Option<&str>) -> Server {
    let Some(context) = context else {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").ok();
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
        let url =
            host.map(|h| if h.contains(':') { format!("https://[{h}]:{port}") } else { format!("https://{h}:{port}") });
        return Server { url, proxied: false };
    };
    let Some(kc) = kubeconfig else { return Server::default() };
    let cluster_name =
        kc.contexts.iter().find(|c| c.name == context).and_then(|c| c.context.as_ref()).map(|c| &c.cluster);
    let cluster =
        cluster_name.and_then(|name| kc.clusters.iter().find(|c| &c.name == name)).and_then(|c| c.cluster.as_ref());
    Server {
        url: cluster.and_then(|c| c.server.clone()),
        proxied: cluster.is_some_and(|c| c.proxy_url.as_deref().is_some_and(|p| !p.is_empty())),
    }
}

/// Host and port of a server URL (the scheme's default port when none is given).
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let uri: http::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']').to_string();
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") | None => Some(443),
        Some(_) => None,
    })?;
    Some((host, port))
}

/// Can a TCP connection to the server be opened within `timeout`? `Ok`
/// also when there is nothing to probe (unknown server, a proxy); the
/// error says what failed (`connect to 127.0.0.1:6443: Connection refused`).
pub fn probe(server: &Server, timeout: Duration) -> std::result::Result<(), String> {
    let Some((host, port)) = server.url.as_deref().filter(|_| !server.proxied).and_then(host_port) else {
        return Ok(());
    };
    let addrs: Vec<SocketAddr> =
        (host.as_str(), port).to_socket_addrs().map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
    let mut last = format!("cannot resolve {host}: no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut || e.kind() == std::io::ErrorKind::WouldBlock => {
                last = format!("connect to {addr}: timed out after {}s", timeout.as_secs());
            }
            Err(e) => last = format!("connect to {addr}: {e}"),
        }
    }
    Err(last)
}

/// What one app's run amounts to, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done; nothing to report (`status` of an OutOfSync app is clean too).
    Clean,
    /// `diff`: differences found.
    Differs,
    /// The app failed (render, request, sync).
    Failed,
    /// Its cluster did not answer.
    Unreachable,
}

/// 2 when any app failed or any cluster was unreachable, else 1 when any
/// app differs (`diff`), else 0.
pub fn exit_code(verdicts: impl IntoIterator<Item = Verdict>) -> i32 {
    let mut code = 0;
    for v in verdicts {
        match v {
            Verdict::Failed | Verdict::Unreachable => return crate::error::EXIT_ERROR,
            Verdict::Differs => code = 1,
            Verdict::Clean => {}
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::app::Destination;

    fn app(name: &str) -> Application {
        Application {
            name: name.into(),
            namespace: None,
            project: "default".into(),
            source: None,
            sources: Vec::new(),
            destination: Destination::default(),
            sync_policy: None,
            ignore_differences: Vec::new(),
            revision_history_limit: None,
            annotations: Default::default(),
            file: format!("apps/{name}.yaml:1"),
            warnings: Vec::new(),
        }
    }

    fn names(apps: &[Application]) -> Vec<&str> {
        apps.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn selects_named_apps_in_order_or_all() {
        let apps = || vec![app("web"), app("api"), app("db")];
        let p = Path::new("apps");
        assert_eq!(names(&select(apps(), &[], true, p).unwrap()), ["web", "api", "db"]);
        let picked = select(apps(), &["db".into(), "web".into(), "db".into()], false, p).unwrap();
        assert_eq!(names(&picked), ["db", "web"]);
    }

    #[test]
    fn unknown_names_are_an_error_listing_the_known_ones() {
        let err = select(
            vec![app("web"), app("api")],
            &["web".into(), "nope".into(), "gone".into()],
            false,
            Path::new("apps"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, r#"apps: no Application named "nope", "gone" (found: web, api)"#);
    }

    #[test]
    fn groups_by_context_in_first_appearance_order() {
        let c = |s: &str| Some(s.to_string());
        let groups = group_by_context(&[c("east"), c("west"), c("east"), None, c("west")]);
        assert_eq!(groups, vec![(c("east"), vec![0, 2]), (c("west"), vec![1, 4]), (None, vec![3])]);
        assert!(group_by_context(&[]).is_empty());
        assert_eq!(context_label(None), "in-cluster");
    }

    #[test]
    fn exit_codes() {
        use Verdict::*;
        assert_eq!(exit_code([Clean, Clean]), 0);
        assert_eq!(exit_code([Clean, Differs]), 1);
        assert_eq!(exit_code([Differs, Unreachable]), 2, "a cluster that did not answer wins over differences");
        assert_eq!(exit_code([Failed, Clean]), 2);
        assert_eq!(exit_code([]), 0);
    }

    #[test]
    fn servers_and_probes() {
        use kube::config::{Cluster, Context, NamedCluster, NamedContext};
        assert_eq!(host_port("https://127.0.0.1:6443"), Some(("127.0.0.1".into(), 6443)));
        assert_eq!(host_port("https://example.com/"), Some(("example.com".into(), 443)));
        assert_eq!(host_port("http://[::1]"), Some(("::1".into(), 80)));
        assert_eq!(host_port("not a url at all"), None);
        let kc = Kubeconfig {
            clusters: vec![NamedCluster {
                name: "c".into(),
                cluster: Some(Cluster { server: Some("https://127.0.0.1:1".into()), ..Default::default() }),
                other: Default::default(),
            }],
            contexts: vec![NamedContext {
                name: "east".into(),
                context: Some(Context { cluster: "c".into(), ..Default::default() }),
                other: Default::default(),
            }],
            ..Default::default()
        };
        let s = server_of(Some(&kc), Some("east"));
        assert_eq!(s.url.as_deref(), Some("https://127.0.0.1:1"));
        assert_eq!(server_of(Some(&kc), Some("other")), Server::default());
        // Nothing to probe: reachable as far as we know.
        assert!(probe(&Server::default(), Duration::from_secs(1)).is_ok());
        assert!(probe(&Server { proxied: true, ..s.clone() }, Duration::from_secs(1)).is_ok());
        // A port nobody listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let closed = Server { url: Some(format!("https://127.0.0.1:{port}")), proxied: false };
        let err = probe(&closed, Duration::from_secs(1)).unwrap_err();
        assert!(err.starts_with(&format!("connect to 127.0.0.1:{port}: ")), "{err}");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = Server { url: Some(format!("https://{}", listener.local_addr().unwrap())), proxied: false };
        assert!(probe(&open, Duration::from_secs(1)).is_ok());
    }
}
