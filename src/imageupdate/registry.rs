//! The registry side of an image update: the tags of an image and, for the
//! strategies that need them, each tag's metadata, fetched through
//! [`crate::net::oci::Registry`] as Image Updater's `TagMetadata` reads it:
//!
//! - an image manifest: its config blob gives `created`, `os`,
//!   `architecture` and `variant`; a tag built for a platform that is not
//!   wanted is left out;
//! - an index (OCI index or Docker manifest list): the entries for the
//!   wanted platforms (none: the tag is left out); for newest-build, the
//!   newest `created` among them; the digest is the index's own (the
//!   runtime picks the platform);
//! - the digest of a tag is the SHA-256 of the manifest (or index) bytes.
//!
//! Requests are paced per registry ([`RegistrySettings::rate_limit`]) and at
//! most [`RegistrySettings::concurrency`] tags are inspected at once.
//! Credentials: the image's `pull-secret` (`env:VAR`, a Secret in the
//! cluster: [`super::secrets`]), else the Docker config's `auths` entry for
//! the registry host; each only to that host.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::annotations::{ImageSpec, Platform, PullSecret, Strategy};
use super::secrets::ClusterSecrets;
use super::tags::{Candidate, filter_tags, parse_rfc3339};
use crate::cluster::ConnectOptions;
use crate::error::{Error, Result};
use crate::net::oci::{IMAGE_MEDIA_TYPES, Manifest, Registry, docker_config_path, docker_credential};
use crate::net::{BlockingClient, Credential, HttpOptions};

/// Image Updater's default rate limit per registry (requests a second).
pub const DEFAULT_RATE_LIMIT: u32 = 20;
/// Tags inspected at once for one image.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// How registries are reached.
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// Plain HTTP for every registry (`--plain-http`).
    pub plain_http: bool,
    /// Registries (`host[:port]`) reached over plain HTTP (`--insecure-registry`).
    pub insecure: Vec<String>,
    pub ca_file: Option<PathBuf>,
    /// The Docker config file (default `$DOCKER_CONFIG/config.json`, `~/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// Requests a second per registry (0: unlimited).
    pub rate_limit: u32,
    pub concurrency: usize,
    pub timeout: Duration,
    /// The cluster whose Secrets `pull-secret: pullsecret:`/`secret:` name (kubeconfig, context).
    pub cluster: ConnectOptions,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            plain_http: false,
            insecure: Vec::new(),
            ca_file: None,
            docker_config: None,
            rate_limit: DEFAULT_RATE_LIMIT,
            concurrency: DEFAULT_CONCURRENCY,
            timeout: Duration::from_secs(60),
            cluster: ConnectOptions { concurrency: crate::cluster::DEFAULT_CONCURRENCY, ..ConnectOptions::default() },
        }
    }
}

/// The registries of one run, each client made once.
pub struct Registries {
    settings: RegistrySettings,
    tls: Option<Arc<BlockingClient>>,
    plain: Option<Arc<BlockingClient>>,
    clients: HashMap<String, Registry>,
    secrets: ClusterSecrets,
}

/// The image config fields that matter here.
struct ImageConfig {
    created: Option<(i64, u32)>,
    os: String,
    arch: String,
    variant: Option<String>,
}

impl Registries {
    pub fn new(settings: RegistrySettings) -> Self {
        let secrets = ClusterSecrets::new(settings.cluster.clone());
        Registries { settings, tls: None, plain: None, clients: HashMap::new(), secrets }
    }

    fn http(&mut self, plain: bool) -> Result<Arc<BlockingClient>> {
        let slot = if plain { &mut self.plain } else { &mut self.tls };
        if slot.is_none() {
            let options = HttpOptions {
                timeout: self.settings.timeout,
                ca_file: self.settings.ca_file.clone(),
                plain_http: plain,
                ..HttpOptions::default()
            };
            *slot = Some(Arc::new(BlockingClient::new(options)?));
        }
        Ok(Arc::clone(slot.as_ref().expect("set above")))
    }

    fn credential(&self, spec: &ImageSpec, host: &str) -> Result<Option<Credential>> {
        match &spec.pull_secret {
            Some(PullSecret::Env(var)) => {
                let value = std::env::var(var).map_err(|_| {
                    Error::Usage(format!("image {}: pull-secret env:{var}: the variable is not set", spec.label()))
                })?;
                let (username, password) = value.split_once(':').ok_or_else(|| {
                    Error::Usage(format!("image {}: pull-secret env:{var}: expected user:password", spec.label()))
                })?;
                Ok(Some(Credential::Basic { username: username.into(), password: password.into() }))
            }
            Some(PullSecret::PullSecret { namespace, name }) => {
                let found = self.secrets.pull_secret(namespace, name, host).map_err(|e| in_image(spec, e))?;
                found.map(Some).ok_or_else(|| {
                    Error::Usage(format!(
                        "image {}: pull-secret {namespace}/{name} has no entry for the registry {host}",
                        spec.label()
                    ))
                })
            }
            Some(PullSecret::Secret { namespace, name, field }) => {
                self.secrets.user_password(namespace, name, field).map(Some).map_err(|e| in_image(spec, e))
            }
            Some(PullSecret::Ext(script)) => Err(Error::Usage(format!(
                "image {}: pull-secret ext:{script}: credential scripts are not run",
                spec.label()
            ))),
            None => match docker_config_path(self.settings.docker_config.as_deref()) {
                Some(config) => docker_credential(&config, host),
                None => Ok(None),
            },
        }
    }

    /// The candidates for `spec`: its tags after the filters, with digests
    /// and build times when the strategy needs them.
    pub fn candidates(&mut self, spec: &ImageSpec) -> Result<Vec<Candidate>> {
        let host = spec.image.api_host();
        let repository = spec.image.repository();
        let plain = self.settings.plain_http || self.settings.insecure.iter().any(|h| h.eq_ignore_ascii_case(&host));
        let credential = self.credential(spec, &host)?;
        // One client per host and credential (the credential only as a digest).
        let key = {
            use sha2::Digest;
            let secret = credential.as_ref().map(Credential::header_value).unwrap_or_default();
            let digest = sha2::Sha256::digest(secret.as_bytes());
            format!("{plain}\n{host}\n{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
        };
        let (rate, concurrency) = (self.settings.rate_limit, self.settings.concurrency.max(1));
        let client = self.http(plain)?;
        let registry = self
            .clients
            .entry(key)
            .or_insert_with(|| Registry::new(client.client().clone(), &host, credential).with_rate_limit(rate));
        let tags = client.block_on(registry.tags(&repository))?;
        let tags = filter_tags(spec, &tags);
        if !spec.strategy.needs_metadata() {
            return Ok(tags.iter().map(|t| Candidate::new(t)).collect());
        }
        let registry = &*registry;
        let repository = repository.as_str();
        let lookups: Vec<_> =
            tags.into_iter().map(|tag| async move { metadata(registry, repository, &tag, spec).await }).collect();
        let results: Vec<Result<Option<Candidate>>> =
            client.block_on(async { futures::stream::iter(lookups).buffered(concurrency).collect().await });
        results.into_iter().filter_map(Result::transpose).collect()
    }
}

/// `e` as an error of the image `spec` (pull-secret lookups).
fn in_image(spec: &ImageSpec, e: Error) -> Error {
    Error::Usage(format!("image {}: pull-secret: {e}", spec.label()))
}

/// One tag's digest and (newest-build) build time; `None` when the tag has no image for a wanted platform.
async fn metadata(registry: &Registry, repository: &str, tag: &str, spec: &ImageSpec) -> Result<Option<Candidate>> {
    let manifest = registry.manifest_accepting(repository, tag, &IMAGE_MEDIA_TYPES).await?;
    let platforms = &spec.platforms;
    let mut candidate = Candidate { tag: tag.to_string(), created: None, digest: Some(manifest.digest.clone()) };
    if manifest.is_index() {
        let entries: Vec<_> = manifest
            .index_entries()
            .into_iter()
            .filter(|e| Platform::wanted(platforms, &e.os, &e.architecture, e.variant.as_deref()))
            .collect();
        if entries.is_empty() {
            tracing::debug!("{repository}:{tag}: no image for {}", platform_list(platforms));
            return Ok(None);
        }
        if spec.strategy != Strategy::NewestBuild {
            return Ok(Some(candidate));
        }
        for entry in entries {
            let m = registry.manifest_accepting(repository, &entry.digest, &IMAGE_MEDIA_TYPES).await?;
            if let Some(config) = config(registry, repository, &m).await?
                && let Some(created) = config.created
            {
                candidate.created = candidate.created.max(Some(created));
            }
        }
        if candidate.created.is_none() {
            tracing::warn!("{repository}:{tag}: no build time (created) in the images of the index; tag skipped");
            return Ok(None);
        }
        return Ok(Some(candidate));
    }
    let Some(config) = config(registry, repository, &manifest).await? else {
        tracing::warn!("{repository}:{tag}: the manifest names no config blob; tag skipped");
        return Ok(None);
    };
    if !Platform::wanted(platforms, &config.os, &config.arch, config.variant.as_deref()) {
        tracing::debug!(
            "{repository}:{tag}: built for {}/{}, not for {}",
            config.os,
            config.arch,
            platform_list(platforms)
        );
        return Ok(None);
    }
    if spec.strategy == Strategy::NewestBuild {
        if config.created.is_none() {
            tracing::warn!("{repository}:{tag}: no valid build time (created) in the image config; tag skipped");
            return Ok(None);
        }
        candidate.created = config.created;
    }
    Ok(Some(candidate))
}

async fn config(registry: &Registry, repository: &str, manifest: &Manifest) -> Result<Option<ImageConfig>> {
    let Some(digest) = manifest.config_digest() else { return Ok(None) };
    let bytes = registry.blob(repository, digest).await?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Http {
        url: format!("{}/{repository}@{digest}", registry.host()),
        message: format!("invalid image config: {e}"),
    })?;
    let s = |k: &str| json.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Some(ImageConfig {
        created: json.get("created").and_then(Value::as_str).and_then(parse_rfc3339),
        os: s("os"),
        arch: s("architecture"),
        variant: Some(s("variant")).filter(|v| !v.is_empty()),
    }))
}

fn platform_list(p: &[Platform]) -> String {
    if p.is_empty() { "any platform".into() } else { p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ") }
}
