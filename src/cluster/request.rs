//! One request to the API server: retries with backoff and jitter on
//! transient failures (429, 5xx, connection errors), waiting as long as the
//! server's `Retry-After` (`details.retryAfterSeconds`) asks, never past the
//! run's deadline ([`Deadline`]); errors say what was refused (verb,
//! resource, namespace).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use crate::error::{ApiFailure, Error, Result};

/// Attempts per request, the first one included.
const ATTEMPTS: u32 = 6;
/// Delay before the first retry; doubled each time (100, 200, 400, 800,
/// 1600 ms), each with up to 50% random jitter so that many clients (or
/// many requests in flight) do not retry in step.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest `Retry-After` honoured for one retry.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The run's deadline (`--timeout`), shared by every request of a
/// [`super::Cluster`]: a request still waiting for its answer when it
/// passes fails at once, and nothing is retried after it.
///
/// It also carries a breaker: after [`TRIP_AFTER`] transport failures in a
/// row (connection refused or reset, no answer at all), the API server is
/// taken as gone and requests fail at once ([`Unreachable`]), but for one
/// probe per [`PROBE_EVERY`]; an answer closes the breaker again. A server
/// that dies in the middle of a 1,000-object sync then costs seconds, not
/// every object's full retry schedule.
#[derive(Debug, Clone, Default)]
pub struct Deadline(Arc<Mutex<Shared>>);

#[derive(Debug, Default)]
struct Shared {
    at: Option<Instant>,
    failures: u32,
    /// Set while the breaker is open: when the last probe was let through.
    probed: Option<Instant>,
}

/// Transport failures in a row that open the breaker.
const TRIP_AFTER: u32 = 12;
/// While open, one request per this interval goes through.
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl Deadline {
    pub fn set(&self, at: Option<Instant>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).at = at;
    }

    pub fn get(&self) -> Option<Instant> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).at
    }

    /// Whether a request may go out now (the breaker closed, or a probe is due).
    fn admit(&self) -> bool {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match s.probed {
            None => true,
            Some(t) if t.elapsed() >= PROBE_EVERY => {
                s.probed = Some(Instant::now());
                true
            }
            Some(_) => false,
        }
    }

    fn record(&self, answered: bool) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if answered {
            s.failures = 0;
            s.probed = None;
        } else {
            s.failures += 1;
            if s.failures >= TRIP_AFTER && s.probed.is_none() {
                s.probed = Some(Instant::now());
            }
        }
    }
}

/// The error of a request not sent because the API server is unreachable.
#[derive(Debug)]
pub struct Unreachable;

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the API server is unreachable (its last requests got no answer); not sent")
    }
}

impl std::error::Error for Unreachable {}

/// The error of a request cut by the [`Deadline`].
#[derive(Debug)]
pub struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the run's deadline (--timeout) passed before the API server answered")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// A tower layer that bounds every request by the [`Deadline`].
#[derive(Clone)]
pub struct DeadlineLayer(pub Deadline);

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService { inner, deadline: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct DeadlineService<S> {
    inner: S,
    deadline: Deadline,
}

impl<S, Req> tower::Service<Req> for DeadlineService<S>
where
    S: tower::Service<Req>,
    S::Error: Into<tower::BoxError>,
    S::Future: Send + 'static,
    S::Response: 'static,
{
    type Response = S::Response;
    type Error = tower::BoxError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, tower::BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let at = self.deadline.get();
        let shared = self.deadline.clone();
        if !shared.admit() {
            return Box::pin(async { Err(Box::new(Unreachable) as tower::BoxError) });
        }
        let fut = self.inner.call(req);
        Box::pin(async move {
            let result = match at {
                None => fut.await.map_err(Into::into),
                Some(at) if at <= Instant::now() => return Err(Box::new(DeadlineExceeded) as tower::BoxError),
                Some(at) => match tokio::time::timeout_at(at.into(), fut).await {
                    Ok(r) => r.map_err(Into::into),
                    Err(_) => return Err(Box::new(DeadlineExceeded) as tower::BoxError),
                },
            };
            shared.record(result.is_ok());
            result
        })
    }
}

/// Past the deadline, or not sent to an unreachable server: not worth a retry.
fn final_failure(e: &kube::Error) -> bool {
    if let kube::Error::Service(b) = e
        && (b.is::<DeadlineExceeded>() || b.is::<Unreachable>())
    {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<DeadlineExceeded>() || s.is::<Unreachable>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Up to 50% more, at random.
fn jittered(d: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new().build_hasher().finish();
    d + d.mul_f64((r % 1000) as f64 / 2000.0)
}

/// How long the server asked us to wait (429 and 503 carry it).
fn retry_after(e: &kube::Error) -> Option<Duration> {
    match e {
        kube::Error::Api(s) => s
            .details
            .as_ref()
            .map(|d| d.retry_after_seconds)
            .filter(|&n| n > 0)
            .map(|n| Duration::from_secs(u64::from(n)).min(MAX_RETRY_AFTER)),
        _ => None,
    }
}

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
    if final_failure(e) {
        return false;
    }
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
                let wait = retry_after(&e).map_or_else(|| jittered(delay), |ra| ra.max(delay));
                tracing::debug!(
                    verb = target.verb,
                    resource = target.resource,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "transient error, retrying: {e}"
                );
                tokio::time::sleep(wait).await;
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
    fn retry_after_is_honoured_and_bounded_and_jitter_stays_within_half() {
        // As the API server sends it.
        let status = |secs: u32| -> kube::core::Status {
            serde_json::from_value(serde_json::json!({
                "kind": "Status", "status": "Failure", "message": "m", "reason": "TooManyRequests",
                "details": {"retryAfterSeconds": secs}, "code": 429
            }))
            .unwrap()
        };
        assert_eq!(retry_after(&kube::Error::Api(Box::new(status(3)))), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&kube::Error::Api(Box::new(status(3600)))), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(&api(500)), None);
        for _ in 0..100 {
            let j = jittered(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(100) && j < Duration::from_millis(150), "{j:?}");
        }
        assert!(!transient(&kube::Error::Service(Box::new(DeadlineExceeded))));
        assert!(!transient(&kube::Error::Service(Box::new(Unreachable))));
    }

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_closes_on_an_answer() {
        let d = Deadline::default();
        for _ in 0..TRIP_AFTER - 1 {
            d.record(false);
        }
        assert!(d.admit(), "still closed");
        d.record(true);
        for _ in 0..TRIP_AFTER {
            d.record(false);
        }
        assert!(!d.admit(), "open: requests fail at once");
        d.0.lock().unwrap().probed = Some(Instant::now() - PROBE_EVERY);
        assert!(d.admit(), "a probe is due");
        assert!(!d.admit(), "one probe per interval");
        d.record(true);
        assert!(d.admit() && d.admit(), "closed again");
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
