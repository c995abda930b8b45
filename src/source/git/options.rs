//! Settings of git sources that come from flags or the environment: how
//! much one snapshot may hold ([`SnapshotLimits`]) and which hosts the token
//! from `KUBECTL_GITOPS_GIT_TOKEN` may be sent to ([`GitOptions::token_hosts`]).
//!
//! Invariant: an empty host list sends the token nowhere; the CLI fills it
//! with `--git-token-hosts`, else the host of `--repo` (never the host of an
//! Application file's `repoURL`, which the user may not have written).

/// Environment variable for `--git-max-bytes`.
pub const MAX_BYTES_ENV: &str = "KUBECTL_GITOPS_GIT_MAX_BYTES";
/// Environment variable for `--git-max-files`.
pub const MAX_FILES_ENV: &str = "KUBECTL_GITOPS_GIT_MAX_FILES";
/// Environment variable for `--git-max-depth`.
pub const MAX_DEPTH_ENV: &str = "KUBECTL_GITOPS_GIT_MAX_DEPTH";
/// Environment variable for `--git-token-hosts` (a comma list).
pub const TOKEN_HOSTS_ENV: &str = "KUBECTL_GITOPS_GIT_TOKEN_HOSTS";

/// Default of `--git-max-bytes`: 1 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
/// Default of `--git-max-files`.
pub const DEFAULT_MAX_FILES: u64 = 100_000;
/// Default of `--git-max-depth`.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// How much extracting one commit may write. Counted while walking the
/// tree: a subtree reached from several places counts each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotLimits {
    /// Total size of the files.
    pub max_bytes: u64,
    /// Tree entries (files, directories, symlinks, submodules).
    pub max_files: u64,
    /// Directory nesting below the repository root.
    pub max_depth: usize,
}

impl Default for SnapshotLimits {
    fn default() -> Self {
        SnapshotLimits { max_bytes: DEFAULT_MAX_BYTES, max_files: DEFAULT_MAX_FILES, max_depth: DEFAULT_MAX_DEPTH }
    }
}

/// Settings shared by every checkout of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitOptions {
    pub limits: SnapshotLimits,
    /// Hosts (lower case, no port) the environment token may be sent to.
    pub token_hosts: Vec<String>,
}

impl GitOptions {
    /// Limits and token hosts from the environment only (for commands
    /// without the source flags, such as `apps`).
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let mut limits = SnapshotLimits::default();
        if let Some(b) = var(MAX_BYTES_ENV).and_then(|v| crate::render::limits::parse_bytes(&v).ok()) {
            limits.max_bytes = b;
        }
        if let Some(n) = var(MAX_FILES_ENV).and_then(|v| v.trim().parse().ok()) {
            limits.max_files = n;
        }
        if let Some(n) = var(MAX_DEPTH_ENV).and_then(|v| v.trim().parse().ok()) {
            limits.max_depth = n;
        }
        let hosts: Vec<String> =
            var(TOKEN_HOSTS_ENV).map(|v| v.split(',').map(String::from).collect()).unwrap_or_default();
        GitOptions { limits, token_hosts: normalize_hosts(&hosts) }
    }

    /// Whether the token may go to `host`.
    pub fn token_allowed(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        !host.is_empty() && self.token_hosts.contains(&host)
    }
}

/// Host names as given (`Host`, `host:443`, `https://host/x`) -> `host`.
pub fn normalize_hosts(hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in hosts {
        let h = h.trim();
        let h = h.split_once("://").map_or(h, |(_, rest)| rest);
        let h = h.split('/').next().unwrap_or("");
        let h = h.rsplit_once('@').map_or(h, |(_, host)| host);
        let h = if h.starts_with('[') {
            h.split_once(']').map_or(h, |(v6, _)| v6).trim_start_matches('[')
        } else {
            h.split(':').next().unwrap_or("")
        };
        let h = h.to_ascii_lowercase();
        if !h.is_empty() && !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalized_and_matched_exactly() {
        let hosts = normalize_hosts(&[
            " GitHub.com ".into(),
            "git.example.com:8443".into(),
            "https://u@gitlab.example.org/x".into(),
            "[::1]:80".into(),
            "".into(),
        ]);
        assert_eq!(hosts, ["github.com", "git.example.com", "gitlab.example.org", "::1"]);
        let o = GitOptions { token_hosts: hosts, ..Default::default() };
        assert!(o.token_allowed("GITHUB.COM"));
        assert!(o.token_allowed("[::1]"));
        assert!(!o.token_allowed("github.com.evil.example"));
        assert!(!o.token_allowed("evil.example"));
        assert!(!o.token_allowed(""));
        assert!(!GitOptions::default().token_allowed("github.com"));
    }
}
