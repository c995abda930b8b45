//! Credentials for fetching, without ever prompting: the URL's own
//! user/password, a token from [`TOKEN_ENV`], git credential helpers,
//! ssh-agent and unencrypted default ssh keys, in that order. Each method is
//! offered once; when all are used up the fetch fails with a message listing
//! what was tried (never a secret).
//!
//! Credentials are bound to hosts: the URL's own go only to its host, the
//! environment token only to [`GitOptions::token_hosts`]; both are checked
//! against the URL libgit2 asks for (which may be a redirect's target).

use git2::{Cred, CredentialType, RemoteCallbacks};

use super::options::GitOptions;
use super::url::{RepoUrl, Transport};

/// Environment variable holding a token for http(s) repositories.
pub const TOKEN_ENV: &str = "KUBECTL_GITOPS_GIT_TOKEN";
/// Environment variable with the user name sent with [`TOKEN_ENV`].
pub const USERNAME_ENV: &str = "KUBECTL_GITOPS_GIT_USERNAME";
/// User name sent with the token when [`USERNAME_ENV`] is not set.
pub const DEFAULT_TOKEN_USER: &str = "x-access-token";

/// The token from the environment, if set and not empty.
pub fn env_token() -> Option<String> {
    std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    UrlPassword,
    EnvToken,
    Helper,
    Agent,
    KeyFile(usize),
    Username,
    Default,
}

const KEY_FILES: &[&str] = &["id_ed25519", "id_ecdsa", "id_rsa"];

/// The state of one fetch's authentication attempts.
pub(crate) struct Auth {
    url: RepoUrl,
    token: Option<String>,
    token_hosts: GitOptions,
    tried: Vec<Method>,
    described: Vec<String>,
    /// Why the token was held back, for the error message.
    withheld: Option<String>,
}

impl Auth {
    pub(crate) fn new(url: &RepoUrl, options: &GitOptions) -> Self {
        Auth {
            url: url.clone(),
            token: env_token(),
            token_hosts: options.clone(),
            tried: Vec::new(),
            described: Vec::new(),
            withheld: None,
        }
    }

    /// What was offered so far, for the error message.
    pub(crate) fn tried(&self) -> String {
        if self.described.is_empty() { "no credentials".into() } else { self.described.join(", ") }
    }

    /// The secrets this fetch may use, to scrub them from messages.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let http_user =
            self.url.user.iter().filter(|_| matches!(self.url.transport, Transport::Http | Transport::Https));
        let mut secrets: Vec<String> =
            self.url.password.iter().chain(self.token.iter()).chain(http_user).cloned().collect();
        secrets.extend(self.url.query_secrets());
        secrets
    }

    fn user(&self, from_url: Option<&str>) -> String {
        from_url.map(String::from).or_else(|| self.url.user.clone()).unwrap_or_else(|| "git".into())
    }

    fn next(&mut self, url: &str, from_url: Option<&str>, allowed: CredentialType) -> Result<Cred, git2::Error> {
        let mut candidates = Vec::new();
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            candidates.extend([Method::UrlPassword, Method::EnvToken, Method::Helper]);
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            candidates.push(Method::Agent);
            candidates.extend((0..KEY_FILES.len()).map(Method::KeyFile));
        }
        if allowed.contains(CredentialType::USERNAME) {
            candidates.push(Method::Username);
        }
        if allowed.contains(CredentialType::DEFAULT) {
            candidates.push(Method::Default);
        }
        for m in candidates {
            if self.tried.contains(&m) {
                continue;
            }
            self.tried.push(m);
            if let Some(cred) = self.make(m, url, from_url) {
                return Ok(cred);
            }
        }
        let withheld = self.withheld.as_deref().map_or(String::new(), |w| format!("; {w}"));
        Err(git2::Error::from_str(&format!(
            "authentication failed (tried: {}{withheld}); set {TOKEN_ENV}, configure a git credential helper, or load a key into ssh-agent",
            self.tried()
        )))
    }

    fn make(&mut self, m: Method, url: &str, from_url: Option<&str>) -> Option<Cred> {
        let user = self.user(from_url);
        // The host libgit2 is talking to now (a redirect may have changed it).
        let asked_host = RepoUrl::parse(url).map(|u| u.host.to_ascii_lowercase()).unwrap_or_default();
        let same_host = asked_host == self.url.host.to_ascii_lowercase();
        let (cred, what) = match m {
            Method::UrlPassword => {
                // `https://TOKEN@host/...` (a token as the user name, empty password) works as with git.
                let http = matches!(self.url.transport, Transport::Http | Transport::Https);
                if !same_host {
                    tracing::debug!("not sending the URL's credentials for {} to {asked_host}", self.url);
                    return None;
                }
                let pw = match (self.url.password.as_deref(), &self.url.user) {
                    (Some(pw), _) => pw,
                    (None, Some(_)) if http => "",
                    _ => return None,
                };
                (Cred::userpass_plaintext(&user, pw).ok()?, "the URL's credentials".to_string())
            }
            Method::EnvToken => {
                let token = self.token.as_deref()?;
                if self.url.transport == Transport::Http && !self.url.is_loopback() {
                    tracing::warn!("not sending {TOKEN_ENV} over plain http to {}", self.url.host);
                    return None;
                }
                if !matches!(self.url.transport, Transport::Http | Transport::Https) {
                    return None;
                }
                for host in [&self.url.host.to_ascii_lowercase(), &asked_host] {
                    if !self.token_hosts.token_allowed(host) {
                        let why = format!(
                            "{TOKEN_ENV} not sent to {host}: not one of the token's hosts (--git-token-hosts / {})",
                            super::options::TOKEN_HOSTS_ENV
                        );
                        tracing::debug!("{why}");
                        self.withheld = Some(why);
                        return None;
                    }
                }
                let name = std::env::var(USERNAME_ENV)
                    .ok()
                    .filter(|u| !u.is_empty())
                    .or_else(|| self.url.user.clone())
                    .unwrap_or_else(|| DEFAULT_TOKEN_USER.into());
                (Cred::userpass_plaintext(&name, token).ok()?, format!("${TOKEN_ENV}"))
            }
            Method::Helper => {
                let config = git2::Config::open_default().ok()?;
                let cred = Cred::credential_helper(&config, url, self.url.user.as_deref().or(from_url)).ok()?;
                (cred, "git credential helpers".to_string())
            }
            Method::Agent => {
                std::env::var_os("SSH_AUTH_SOCK")?;
                (Cred::ssh_key_from_agent(&user).ok()?, "ssh-agent".to_string())
            }
            Method::KeyFile(i) => {
                let home = std::env::var_os("HOME")?;
                let key = std::path::Path::new(&home).join(".ssh").join(KEY_FILES[i]);
                if !key.is_file() {
                    return None;
                }
                (Cred::ssh_key(&user, None, &key, None).ok()?, format!("~/.ssh/{}", KEY_FILES[i]))
            }
            Method::Username => (Cred::username(&user).ok()?, "the user name".to_string()),
            Method::Default => (Cred::default().ok()?, "default (negotiate) credentials".to_string()),
        };
        tracing::debug!("offering {what} for {}", self.url);
        self.described.push(what);
        Some(cred)
    }
}

/// Callbacks for one fetch: credentials from `auth`, no prompts.
pub(crate) fn callbacks(auth: &std::cell::RefCell<Auth>) -> RemoteCallbacks<'_> {
    let mut cb = RemoteCallbacks::new();
    cb.credentials(move |url, from_url, allowed| auth.borrow_mut().next(url, from_url, allowed));
    cb
}
