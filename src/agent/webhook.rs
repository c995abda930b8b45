//! `POST /hooks/git`: which repository a push notification is about, and
//! whether it comes from someone who knows the shared secret. Pure: the
//! HTTP server ([`super::http`]) hands over the headers and the body.
//!
//! Authentication, by what the sender supports:
//! - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`
//!   (Gitea sends it too);
//! - Gitea: `X-Gitea-Signature: <hex HMAC-SHA256 of the body>`;
//! - GitLab: `X-Gitlab-Token: <the secret>`;
//! - anything else (a script, a CI job): `Authorization: Bearer <the secret>`
//!   or one of the above.
//!
//! Every comparison runs in constant time. Payloads: GitHub, GitLab and
//! Gitea push events (their repository URLs), and a plain
//! `{"repo": URL, "revision": REV}`.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// A push notification, authenticated and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// Every URL the payload gives for the repository (clone, ssh, web).
    pub urls: Vec<String>,
    /// The pushed ref or revision, when the payload says.
    pub revision: Option<String>,
}

/// Why a notification is refused, with the HTTP status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

fn refuse(status: u16, message: impl Into<String>) -> Refusal {
    Refusal { status, message: message.into() }
}

/// What a request carries, as the server read it (header names lowercase).
pub struct Request<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
    }
}

/// Check the request against `secret`, then read it. `Ok(None)`: an
/// authenticated event that is not a push (a GitHub `ping`, say).
pub fn read(req: &Request<'_>, secret: Option<&[u8]>) -> Result<Option<Push>, Refusal> {
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Err(refuse(403, "no webhook secret is configured: webhooks are refused"));
    };
    authenticate(req, secret)?;
    let event = req.header("x-github-event").or(req.header("x-gitea-event")).or(req.header("x-gitlab-event"));
    if let Some(e) = event {
        let e = e.to_ascii_lowercase();
        if !(e == "push" || e == "push hook" || e == "tag_push" || e == "tag push hook") {
            return Ok(None);
        }
    }
    let body: Value =
        serde_json::from_slice(req.body).map_err(|e| refuse(400, format!("the payload is not JSON: {e}")))?;
    parse(&body).map(Some)
}

fn authenticate(req: &Request<'_>, secret: &[u8]) -> Result<(), Refusal> {
    let mac = || Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    if let Some(sig) = req.header("x-hub-signature-256") {
        let hex = sig.strip_prefix("sha256=").ok_or_else(|| refuse(401, "X-Hub-Signature-256 is not sha256=<hex>"))?;
        return verify_hex(mac(), req.body, hex, "X-Hub-Signature-256");
    }
    if let Some(sig) = req.header("x-gitea-signature") {
        return verify_hex(mac(), req.body, sig, "X-Gitea-Signature");
    }
    if let Some(token) = req.header("x-gitlab-token") {
        return same_secret(token.as_bytes(), secret, "X-Gitlab-Token");
    }
    if let Some(auth) = req.header("authorization") {
        let token = auth.strip_prefix("Bearer ").ok_or_else(|| refuse(401, "Authorization is not Bearer <secret>"))?;
        return same_secret(token.trim().as_bytes(), secret, "the bearer token");
    }
    Err(refuse(
        401,
        "no signature: send X-Hub-Signature-256, X-Gitea-Signature, X-Gitlab-Token or Authorization: Bearer",
    ))
}

fn verify_hex(mut mac: Hmac<Sha256>, body: &[u8], hex: &str, header: &str) -> Result<(), Refusal> {
    let sig = decode_hex(hex).ok_or_else(|| refuse(401, format!("{header} is not hexadecimal")))?;
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| refuse(401, format!("{header} does not match the payload and the secret")))
}

/// Constant-time comparison of a token with the secret (through their HMACs,
/// so that the lengths do not show either).
fn same_secret(token: &[u8], secret: &[u8], what: &str) -> Result<(), Refusal> {
    let tag = |data: &[u8]| {
        let mut m = Hmac::<Sha256>::new_from_slice(b"kubectl-gitops webhook token").expect("any key");
        m.update(data);
        m
    };
    let expected = tag(secret).finalize().into_bytes();
    tag(token).verify_slice(&expected).map_err(|_| refuse(401, format!("{what} is not the webhook secret")))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// The repository URLs and revision of a push payload.
pub fn parse(body: &Value) -> Result<Push, Refusal> {
    let s = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    // The plain form.
    if let Some(repo) = s(body, "/repo") {
        return Ok(Push { urls: vec![repo], revision: s(body, "/revision") });
    }
    let mut urls = Vec::new();
    // GitHub and Gitea: `repository`; GitLab: `project` (and the older `repository`).
    for p in [
        "/repository/clone_url",
        "/repository/ssh_url",
        "/repository/git_url",
        "/repository/html_url",
        "/repository/url",
        "/repository/git_http_url",
        "/repository/git_ssh_url",
        "/repository/homepage",
        "/project/git_http_url",
        "/project/git_ssh_url",
        "/project/web_url",
        "/project/http_url",
        "/project/ssh_url",
    ] {
        if let Some(u) = s(body, p).filter(|u| !urls.contains(u)) {
            urls.push(u);
        }
    }
    if urls.is_empty() {
        return Err(refuse(
            400,
            "no repository in the payload: expected a GitHub, GitLab or Gitea push event, or {\"repo\": URL}",
        ));
    }
    Ok(Push { urls, revision: s(body, "/ref").or_else(|| s(body, "/after")) })
}

/// A repository URL reduced to what names the repository: host (with a
/// port when given) and path, lowercase host, without scheme, user,
/// trailing `/` or `.git`. `https://git@GitHub.com/org/app.git`,
/// `git@github.com:org/app` and `ssh://github.com/org/app/` all give
/// `github.com/org/app`. A local path stays a path.
pub fn repo_key(url: &str) -> String {
    let url = url.trim();
    let (host, path) = if let Some((_, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (host.to_ascii_lowercase(), path.to_string())
    } else if let Some((user_host, path)) = url.split_once(':').filter(|(h, _)| !h.contains('/')) {
        // scp-like `user@host:path`
        let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
        (host.to_ascii_lowercase(), path.to_string())
    } else {
        return url.trim_end_matches('/').to_string();
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    format!("{host}/{path}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut m = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        m.update(body);
        m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn req<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> Request<'a> {
        Request { headers, body }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const GITHUB: &str = r#"{"ref":"refs/heads/main","after":"abc","repository":{"clone_url":"https://github.com/org/app.git",
        "ssh_url":"git@github.com:org/app.git","html_url":"https://github.com/org/app"}}"#;

    #[test]
    fn github_and_gitea_signatures() {
        let secret = b"s3cret";
        let body = GITHUB.as_bytes();
        let good = h(&[("x-github-event", "push"), ("x-hub-signature-256", &format!("sha256={}", sign(secret, body)))]);
        let push = read(&req(&good, body), Some(secret)).unwrap().unwrap();
        assert_eq!(push.revision.as_deref(), Some("refs/heads/main"));
        assert!(push.urls.contains(&"https://github.com/org/app.git".to_string()));
        // The same signature over another body, another secret, or garbage: refused.
        let other = br#"{"repo":"https://github.com/org/other"}"#;
        assert_eq!(read(&req(&good, other), Some(secret)).unwrap_err().status, 401);
        assert_eq!(read(&req(&good, body), Some(b"other")).unwrap_err().status, 401);
        let garbage = h(&[("x-hub-signature-256", "sha256=zz")]);
        assert_eq!(read(&req(&garbage, body), Some(secret)).unwrap_err().status, 401);
        let gitea = h(&[("x-gitea-event", "push"), ("x-gitea-signature", &sign(secret, body))]);
        assert!(read(&req(&gitea, body), Some(secret)).unwrap().is_some());
        let bad_gitea = h(&[("x-gitea-signature", &sign(b"nope", body))]);
        assert_eq!(read(&req(&bad_gitea, body), Some(secret)).unwrap_err().status, 401);
        // A ping is accepted and is not a push.
        let ping = h(&[("x-github-event", "ping"), ("x-hub-signature-256", &format!("sha256={}", sign(secret, body)))]);
        assert_eq!(read(&req(&ping, body), Some(secret)).unwrap(), None);
    }

    #[test]
    fn gitlab_tokens_bearer_tokens_and_no_secret() {
        let body = br#"{"object_kind":"push","ref":"refs/heads/main","project":{"git_http_url":"https://gitlab.example/g/app.git","git_ssh_url":"git@gitlab.example:g/app.git"}}"#;
        let ok = h(&[("x-gitlab-event", "Push Hook"), ("x-gitlab-token", "tok")]);
        let push = read(&req(&ok, body), Some(b"tok")).unwrap().unwrap();
        assert_eq!(push.urls, ["https://gitlab.example/g/app.git", "git@gitlab.example:g/app.git"]);
        let wrong = h(&[("x-gitlab-token", "tok2")]);
        assert_eq!(read(&req(&wrong, body), Some(b"tok")).unwrap_err().status, 401);
        let plain = br#"{"repo":"http://127.0.0.1:9/app.git","revision":"main"}"#;
        let bearer = h(&[("authorization", "Bearer tok")]);
        let push = read(&req(&bearer, plain), Some(b"tok")).unwrap().unwrap();
        assert_eq!((push.urls.len(), push.revision.as_deref()), (1, Some("main")));
        assert_eq!(read(&req(&[], plain), Some(b"tok")).unwrap_err().status, 401, "unsigned");
        assert_eq!(read(&req(&bearer, plain), None).unwrap_err().status, 403, "no secret configured");
        assert_eq!(read(&req(&bearer, b"not json"), Some(b"tok")).unwrap_err().status, 400);
        assert_eq!(read(&req(&bearer, b"{}"), Some(b"tok")).unwrap_err().status, 400);
    }

    #[test]
    fn repository_keys() {
        for u in [
            "https://github.com/org/app.git",
            "https://user:pw@GitHub.com/org/app/",
            "git@github.com:org/app.git",
            "ssh://git@github.com/org/app",
            "git://github.com/org/app",
        ] {
            assert_eq!(repo_key(u), "github.com/org/app", "{u}");
        }
        assert_eq!(repo_key("http://127.0.0.1:8080/app.git"), "127.0.0.1:8080/app");
        assert_eq!(repo_key("/srv/git/app/"), "/srv/git/app");
        let v = json!({"repository": {"clone_url": "x"}});
        assert_eq!(parse(&v).unwrap().urls, ["x"]);
    }
}
