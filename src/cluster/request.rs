//! One request to the API server: retries with backoff on transient
//! failures (429, 5xx, connection errors), and errors that say what was
//! refused (verb, resource, namespace).

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::{ApiFailure, Error, Result};

/// Attempts per request, the first one included.
const ATTEMPTS: u32 = 6;
/// Delay before the first retry; doubled each time (100, 200, 400, 800, 1600 ms).
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What a request does, for error messages.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// `get`, `list`, `patch`, `delete`, ...
    pub verb: &'static str,
    /// Plural resource with group: `deployments.apps`, `configmaps`.
    pub resource: &'a str,
    /// `""` for cluster-scoped requests.
    pub namespace: &'a str,
    /// Object name, `""` for collections.
    pub name: &'a str,
}

fn transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || (500..600).contains(&s.code) && s.code != 501,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Send a request built by `build` (rebuilt for each attempt), retrying transient failures.
pub(super) async fn send<T: DeserializeOwned>(
    client: &kube::Client,
    target: &Target<'_>,
    build: impl Fn() -> std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<T> {
    send_attempts(client, target, ATTEMPTS, build).await
}

/// [`send`] without retries other than on 429 (the server did not act):
/// for a request that is not idempotent, such as a POST with
/// `generateName`, which a retry after a lost response would repeat.
pub(super) async fn send_once<T: DeserializeOwned>(
    client: &kube::Client,
    target: &Target<'_>,
    build: impl Fn() -> std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<T> {
    send_attempts(client, target, 0, build).await
}

/// `attempts == 0`: retry only 429 responses.
async fn send_attempts<T: DeserializeOwned>(
    client: &kube::Client,
    target: &Target<'_>,
    attempts: u32,
    build: impl Fn() -> std::result::Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<T> {
    let mut delay = FIRST_BACKOFF;
    let mut attempt = 1;
    let retry = |e: &kube::Error, attempt: u32| match attempts {
        0 => attempt < ATTEMPTS && matches!(e, kube::Error::Api(s) if s.code == 429),
        n => attempt < n && transient(e),
    };
    loop {
        let req = build().map_err(|e| failure(target, 0, e.to_string()))?;
        match client.request::<T>(req).await {
            Ok(v) => return Ok(v),
            Err(e) if retry(&e, attempt) => {
                tracing::debug!(
                    verb = target.verb,
                    resource = target.resource,
                    attempt,
                    "transient error, retrying: {e}"
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(into_error(target, e)),
        }
    }
}

fn failure(target: &Target<'_>, code: u16, message: String) -> Error {
    Error::Api(Box::new(ApiFailure {
        verb: target.verb.to_string(),
        resource: target.resource.to_string(),
        namespace: target.namespace.to_string(),
        name: target.name.to_string(),
        code,
        message,
    }))
}

fn into_error(target: &Target<'_>, e: kube::Error) -> Error {
    match e {
        kube::Error::Api(s) => failure(target, s.code, s.message),
        other => failure(target, 0, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status { code, message: "m".into(), ..Default::default() }))
    }

    #[test]
    fn only_throttling_server_errors_and_connection_failures_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(transient(&api(code)), "{code}");
        }
        for code in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!transient(&api(code)), "{code}");
        }
        assert!(transient(&kube::Error::Service("connection reset by peer".into())));
    }

    #[test]
    fn forbidden_names_verb_resource_and_namespace() {
        let t = Target { verb: "patch", resource: "deployments.apps", namespace: "team-a", name: "web" };
        let e = into_error(&t, api(403));
        assert_eq!(e.to_string(), "forbidden: cannot patch deployments.apps in namespace team-a: m");
        let t = Target { verb: "list", resource: "clusterroles.rbac.authorization.k8s.io", namespace: "", name: "" };
        assert_eq!(
            into_error(&t, api(403)).to_string(),
            "forbidden: cannot list clusterroles.rbac.authorization.k8s.io cluster-wide: m"
        );
    }
}
