//! Image references as Docker normalizes them: `[registry/]path[:tag][@digest]`,
//! the first component a registry only when it has a `.` or `:` or is
//! `localhost`; no registry means Docker Hub, where a one-component path
//! lives under `library/`.

use std::fmt;

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's API host.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// One image reference. `tag` may hold a version constraint when the
/// reference comes from an `image-list` annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry as written (empty: Docker Hub).
    pub registry: String,
    /// The repository path as written (`nginx`, `team/app`).
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parse `[registry/]path[:tag][@digest]`. The tag is whatever follows the
    /// last `:` after the last `/` (a constraint such as `~1.2` is kept as is).
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty image reference".into());
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                if !d.starts_with("sha256:") || d.len() != 71 || !d[7..].bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("{s:?}: the digest must be sha256:<64 hex digits>"));
                }
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => (first.to_string(), path),
            _ => (String::new(), rest),
        };
        let (name, tag) = match path.rfind(':') {
            Some(i) if !path[i..].contains('/') => (&path[..i], Some(path[i + 1..].to_string())),
            _ => (path, None),
        };
        let valid_name = !name.is_empty()
            && name.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                    && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            });
        if !valid_name {
            return Err(format!(
                "{s:?}: {name:?} is not a repository name (lowercase letters, digits, '.', '_', '-', components separated by '/')"
            ));
        }
        if tag.as_deref() == Some("") {
            return Err(format!("{s:?}: empty tag"));
        }
        Ok(ImageRef { registry, name: name.to_string(), tag, digest })
    }

    /// The registry host to talk to (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> String {
        match self.registry.as_str() {
            "" | DOCKER_HUB | "index.docker.io" => DOCKER_HUB_API.to_string(),
            r => r.to_string(),
        }
    }

    /// The repository inside the registry (`library/nginx` for Docker Hub's `nginx`).
    pub fn repository(&self) -> String {
        let hub = matches!(self.registry.as_str(), "" | DOCKER_HUB | "index.docker.io");
        if hub && !self.name.contains('/') { format!("library/{}", self.name) } else { self.name.clone() }
    }

    /// Registry and name, without tag or digest, as written.
    pub fn full_name(&self) -> String {
        if self.registry.is_empty() { self.name.clone() } else { format!("{}/{}", self.registry, self.name) }
    }

    /// Does `other` name the same image (registry and name; Docker Hub's
    /// spellings and `library/` are the same)?
    pub fn same_image(&self, other: &ImageRef) -> bool {
        self.api_host() == other.api_host() && self.repository() == other.repository()
    }

    /// `tag[@digest]` (`latest@digest` without a tag), as Helm parameters take it.
    pub fn tag_with_digest(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => format!("{t}@{d}"),
            (Some(t), None) => t.clone(),
            (None, Some(d)) => format!("latest@{d}"),
            (None, None) => String::new(),
        }
    }

    /// The version for messages: the digest when there is one, else the tag.
    pub fn version(&self) -> String {
        self.digest.clone().or_else(|| self.tag.clone()).unwrap_or_default()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_docker_normalizes_them() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            (r.api_host().as_str(), r.repository().as_str(), r.tag.as_deref()),
            (DOCKER_HUB_API, "library/nginx", None)
        );
        let r = ImageRef::parse("127.0.0.1:5000/team/app:~1.2").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.name.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "team/app", Some("~1.2"))
        );
        let r = ImageRef::parse("localhost/app").unwrap();
        assert_eq!(r.registry, "localhost");
        let r = ImageRef::parse("bitnami/nginx:1.2 - 1.4").unwrap();
        assert_eq!((r.registry.as_str(), r.name.as_str(), r.tag.as_deref()), ("", "bitnami/nginx", Some("1.2 - 1.4")));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("ghcr.io/o/app:v1@{d}")).unwrap();
        assert_eq!(r.tag_with_digest(), format!("v1@{d}"));
        assert_eq!(r.to_string(), format!("ghcr.io/o/app:v1@{d}"));
        assert!(ImageRef::parse("docker.io/nginx").unwrap().same_image(&ImageRef::parse("library/nginx:1").unwrap()));
        assert!(ImageRef::parse("Team/App").is_err());
        assert!(ImageRef::parse("app@sha256:12").is_err());
        assert!(ImageRef::parse("app:").is_err());
    }
}
