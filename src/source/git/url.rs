//! Repository URLs: which transport a `--repo` value names, the URL handed
//! to libgit2 (credentials removed), the redacted form used in every message
//! and log, and the cache key.
//!
//! Invariant: a password or token that came with a URL lives only in
//! [`RepoUrl::password`]; [`RepoUrl::fetch_url`], [`RepoUrl::redacted`] and
//! [`RepoUrl::cache_key`] never contain it.

use std::fmt;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// How a repository is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A path on this machine, read in place (no cache, no fetch).
    Local,
    /// `file://`
    File,
    /// `git://` (git daemon)
    Git,
    /// `http://` (smart HTTP)
    Http,
    /// `https://` (smart HTTP)
    Https,
    /// `ssh://` or scp-like `user@host:path`
    Ssh,
}

/// A parsed `--repo` / `repoURL` value.
#[derive(Clone, PartialEq, Eq)]
pub struct RepoUrl {
    pub transport: Transport,
    /// The URL given to libgit2: no password, and for http(s) no user either
    /// (both are supplied by the credentials callback).
    fetch_url: String,
    /// For local paths: the path.
    pub local_path: Option<PathBuf>,
    /// The user name from the URL, if any.
    pub user: Option<String>,
    /// The password (or token) from the URL, if any.
    pub password: Option<String>,
    /// The host, for http: the token from the environment is only sent over
    /// plain http to loopback hosts.
    pub host: String,
}

impl fmt::Debug for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoUrl({})", self.redacted())
    }
}

impl fmt::Display for RepoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replace a URL's user information by `***` for display. Works on any text
/// that looks like `scheme://user[:password]@host...`; other text is returned
/// as is. Use it on user input before it can reach an error or a log.
pub fn redact_url(s: &str) -> String {
    match RepoUrl::parse(s) {
        Ok(u) => u.redacted(),
        Err(_) => s.to_string(),
    }
}

impl RepoUrl {
    /// Classify and split a repository reference, as git does: `scheme://...`
    /// URLs, scp-like `[user@]host:path` (a `:` before any `/`), else a path.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Usage("empty repository URL".into()));
        }
        if let Some((scheme, rest)) = s.split_once("://") {
            let transport = match scheme.to_ascii_lowercase().as_str() {
                "file" => Transport::File,
                "git" => Transport::Git,
                "http" => Transport::Http,
                "https" => Transport::Https,
                "ssh" | "git+ssh" | "ssh+git" => Transport::Ssh,
                other => {
                    return Err(Error::Usage(format!(
                        "unsupported repository URL scheme {other:?} (supported: file, git, http, https, ssh)"
                    )));
                }
            };
            let (authority, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            let (userinfo, hostport) = match authority.rfind('@') {
                Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
                None => (None, authority),
            };
            let (user, password) = match userinfo {
                None => (None, None),
                Some(ui) => match ui.split_once(':') {
                    Some((u, p)) => (Some(percent_decode(u)), Some(percent_decode(p))),
                    None => (Some(percent_decode(ui)), None),
                },
            };
            let user = user.filter(|u| !u.is_empty());
            let password = password.filter(|p| !p.is_empty());
            let scheme = if transport == Transport::Ssh { "ssh" } else { scheme };
            let scheme = scheme.to_ascii_lowercase();
            // ssh keeps the user name (it selects the account, it is no secret).
            let fetch_url = match (&transport, &user, userinfo) {
                (Transport::Ssh, Some(_), Some(ui)) => {
                    let u = ui.split_once(':').map_or(ui, |(u, _)| u);
                    format!("{scheme}://{u}@{hostport}{path}")
                }
                _ => format!("{scheme}://{hostport}{path}"),
            };
            let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h).trim_matches(['[', ']']).to_string();
            return Ok(RepoUrl { transport, fetch_url, local_path: None, user, password, host });
        }
        if let Some(colon) = s.find(':') {
            let before = &s[..colon];
            let is_drive = before.len() == 1 && before.chars().all(|c| c.is_ascii_alphabetic());
            if !before.contains('/') && !before.is_empty() && !is_drive {
                let (user, host) = match before.rsplit_once('@') {
                    Some((u, h)) => (Some(u.to_string()), h.to_string()),
                    None => (None, before.to_string()),
                };
                return Ok(RepoUrl {
                    transport: Transport::Ssh,
                    fetch_url: s.to_string(),
                    local_path: None,
                    user,
                    password: None,
                    host,
                });
            }
        }
        Ok(RepoUrl {
            transport: Transport::Local,
            fetch_url: s.to_string(),
            local_path: Some(PathBuf::from(s)),
            user: None,
            password: None,
            host: String::new(),
        })
    }

    /// The URL libgit2 connects to (never holds a password).
    pub fn fetch_url(&self) -> &str {
        &self.fetch_url
    }

    /// The URL as shown to the user: credentials and query values (`?token=...`) replaced by `***`.
    pub fn redacted(&self) -> String {
        let shown = self.redacted_userinfo();
        match shown.split_once('?') {
            Some((base, query)) if self.local_path.is_none() => format!("{base}?{}", redact_query(query)),
            _ => shown,
        }
    }

    /// The values of the URL's query string: secrets as much as a password.
    pub fn query_secrets(&self) -> Vec<String> {
        let Some((_, query)) = self.fetch_url.split_once('?').filter(|_| self.local_path.is_none()) else {
            return Vec::new();
        };
        query
            .split('&')
            .map(|kv| kv.split_once('=').map_or(kv, |(_, v)| v))
            .filter(|v| !v.is_empty())
            .flat_map(|v| [v.to_string(), percent_decode(v)])
            .collect()
    }

    fn redacted_userinfo(&self) -> String {
        let secret = self.password.is_some() || (self.user.is_some() && self.transport != Transport::Ssh);
        if !secret {
            return self.fetch_url.clone();
        }
        let Some((scheme, rest)) = self.fetch_url.split_once("://") else {
            return self.fetch_url.clone();
        };
        match (self.transport, &self.user) {
            (Transport::Ssh, Some(_)) => {
                let (user, host) = rest.split_once('@').unwrap_or(("", rest));
                format!("{scheme}://{user}:***@{host}")
            }
            _ => format!("{scheme}://***@{rest}"),
        }
    }

    /// The name of this repository's directory in the cache: a hash of the
    /// credential-free URL, so one repository is cached once whatever the
    /// credentials, and no secret reaches the file system.
    pub fn cache_key(&self) -> String {
        let normalized = self.fetch_url.trim_end_matches('/');
        let digest = Sha256::digest(normalized.as_bytes());
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Whether the host is this machine (plain http is acceptable for a token).
    pub fn is_loopback(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1") || self.host.starts_with("127.")
    }
}

/// `a=1&b` -> `a=***&***` (names kept, values hidden; a fragment goes too).
fn redact_query(query: &str) -> String {
    let query = query.split('#').next().unwrap_or("");
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) => format!("{k}=***"),
            None if kv.is_empty() => String::new(),
            None => "***".to_string(),
        })
        .collect();
    parts.join("&")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replace every occurrence of the given secrets (and their percent-encoded
/// forms) in `msg` by `***`. Applied to every message that comes back from
/// libgit2 or a credential helper before it reaches an error or a log.
pub fn scrub(msg: &str, secrets: &[&str]) -> String {
    let mut out = msg.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        out = out.replace(s, "***");
        let encoded: String = s
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        if encoded != *s {
            out = out.replace(&encoded, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_transports() {
        let t = |s: &str| RepoUrl::parse(s).unwrap().transport;
        assert_eq!(t("/srv/repo"), Transport::Local);
        assert_eq!(t("./repo"), Transport::Local);
        assert_eq!(t("repo"), Transport::Local);
        assert_eq!(t("file:///srv/repo.git"), Transport::File);
        assert_eq!(t("git://127.0.0.1:9418/repo.git"), Transport::Git);
        assert_eq!(t("http://127.0.0.1/repo.git"), Transport::Http);
        assert_eq!(t("HTTPS://github.com/a/b.git"), Transport::Https);
        assert_eq!(t("ssh://git@github.com/a/b.git"), Transport::Ssh);
        assert_eq!(t("git@github.com:a/b.git"), Transport::Ssh);
        assert_eq!(t("github.com:a/b.git"), Transport::Ssh);
        assert_eq!(t("dir/with:colon"), Transport::Local);
        assert!(RepoUrl::parse("ftp://x/y").is_err());
    }

    #[test]
    fn credentials_are_split_off_and_redacted() {
        let u = RepoUrl::parse("https://alice:s3cr%40t@git.example.com/org/repo.git").unwrap();
        assert_eq!(u.fetch_url(), "https://git.example.com/org/repo.git");
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("s3cr@t"));
        assert_eq!(u.redacted(), "https://***@git.example.com/org/repo.git");
        assert_eq!(u.to_string(), u.redacted());
        assert!(!format!("{u:?}").contains("s3cr"));

        let token_only = RepoUrl::parse("https://ghp_abcdef@github.com/a/b").unwrap();
        assert_eq!(token_only.redacted(), "https://***@github.com/a/b");
        assert_eq!(token_only.fetch_url(), "https://github.com/a/b");

        let ssh = RepoUrl::parse("ssh://git:pw123@host:2222/r.git").unwrap();
        assert_eq!(ssh.fetch_url(), "ssh://git@host:2222/r.git");
        assert_eq!(ssh.redacted(), "ssh://git:***@host:2222/r.git");
        let scp = RepoUrl::parse("git@github.com:a/b.git").unwrap();
        assert_eq!(scp.redacted(), "git@github.com:a/b.git");
        assert_eq!(scp.user.as_deref(), Some("git"));
        assert_eq!(redact_url("http://u:p4ss@127.0.0.1:80/x"), "http://***@127.0.0.1:80/x");
    }

    #[test]
    fn query_values_are_redacted() {
        let u = RepoUrl::parse("https://u:pw@git.example.com/r.git?token=s3cr%3Dt&x=1&flag").unwrap();
        assert_eq!(u.redacted(), "https://***@git.example.com/r.git?token=***&x=***&***");
        assert!(u.query_secrets().contains(&"s3cr=t".to_string()), "{:?}", u.query_secrets());
        assert_eq!(redact_url("http://h/r?access_token=abc#frag"), "http://h/r?access_token=***");
        assert_eq!(RepoUrl::parse("/srv/what?.git").unwrap().redacted(), "/srv/what?.git");
        assert!(RepoUrl::parse("/srv/what?x=1").unwrap().query_secrets().is_empty());
    }

    #[test]
    fn cache_key_ignores_credentials() {
        let a = RepoUrl::parse("https://tok@example.com/r.git").unwrap();
        let b = RepoUrl::parse("https://example.com/r.git/").unwrap();
        assert_eq!(a.cache_key(), b.cache_key());
        assert_eq!(a.cache_key().len(), 32);
        assert_ne!(a.cache_key(), RepoUrl::parse("https://example.com/other.git").unwrap().cache_key());
    }

    #[test]
    fn scrub_removes_plain_and_encoded_secrets() {
        let m = scrub("failed for https://u:p@ss w0rd@h and p%40ss%20w0rd", &["p@ss w0rd"]);
        assert_eq!(m, "failed for https://u:***@h and ***");
        assert!(RepoUrl::parse("http://[::1]:8080/r").unwrap().is_loopback());
    }
}
