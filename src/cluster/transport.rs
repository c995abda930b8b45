//! The HTTP client under [`kube::Client`]: kube's own TLS settings,
//! authentication and headers (its `ConfigExt` layers), over a connection
//! pool that speaks HTTP/2 when the server offers it in ALPN, as kubectl
//! does. One TLS connection then carries every concurrent request, where
//! kube's default HTTP/1.1 stack opens one connection (and one TLS
//! handshake, costly for a busy API server) per request in flight.

use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use tower::ServiceBuilder;

use crate::error::{Error, Result};

/// Build a client for `config` (inside a tokio runtime); every request is
/// bounded by `deadline`.
pub(super) fn client(config: kube::Config, deadline: super::request::Deadline) -> Result<kube::Client> {
    let fail = |e: &dyn std::fmt::Display| Error::ClusterConfig(e.to_string());
    if config.accept_invalid_certs {
        // As kubectl, silent by default; said once with -v.
        crate::logging::info_once(
            &format!("insecure:{}", config.cluster_url),
            format!("{}: the server's TLS certificate is not verified (insecure-skip-tls-verify)", config.cluster_url),
        );
    }
    if config.proxy_url.is_some() {
        // Proxies go through kube's own stack (HTTP/1.1), which knows them.
        return kube::Client::try_from(config).map_err(|e| fail(&e));
    }
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.connect_timeout.unwrap_or(super::config::CONNECT_TIMEOUT)));
    let tls = config.rustls_client_config().map_err(|e| fail(&e))?;
    let mut https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|e| fail(&format!("tls-server-name {name:?}: {e}")))?;
        https = https.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let connector = https.enable_all_versions().wrap_connector(http);
    let pool = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .http2_keep_alive_interval(None)
        .build::<_, kube::client::Body>(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().map_err(|e| fail(&e))?)
        .layer(config.extra_headers_layer().map_err(|e| fail(&e))?)
        .layer(super::request::DeadlineLayer(deadline))
        .map_err(tower::BoxError::from)
        .service(pool);
    Ok(kube::Client::new(service, config.default_namespace))
}
