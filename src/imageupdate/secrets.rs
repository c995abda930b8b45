//! Registry credentials from Secrets in the cluster, for `pull-secret:
//! pullsecret:NS/NAME` (a Docker config Secret: its `.dockerconfigjson`,
//! or the older `.dockercfg`, whose entry for the registry host is used)
//! and `secret:NS/NAME#FIELD` (`user:password` in one field), as Image
//! Updater reads them. The cluster is reached through the kubeconfig only
//! when an image names such a Secret; Secret data never reaches messages.

use std::cell::OnceCell;

use base64::Engine;
use serde_json::Value;

use crate::cluster::{Cluster, ConnectOptions, GetRequest, ResourceInfo};
use crate::error::{Error, Result};
use crate::net::Credential;
use crate::net::oci::docker_credential_in;

/// Reads Secrets from the cluster of a kubeconfig context, connecting on first use.
pub struct ClusterSecrets {
    options: ConnectOptions,
    cluster: OnceCell<Cluster>,
}

impl ClusterSecrets {
    pub fn new(options: ConnectOptions) -> Self {
        ClusterSecrets { options, cluster: OnceCell::new() }
    }

    /// The Secret's data (decoded); an error when it does not exist.
    fn data(&self, namespace: &str, name: &str) -> Result<serde_json::Map<String, Value>> {
        let cluster = match self.cluster.get() {
            Some(c) => c,
            None => {
                let c = Cluster::connect(&self.options)?;
                self.cluster.get_or_init(|| c)
            }
        };
        let resource = ResourceInfo {
            group: String::new(),
            version: "v1".into(),
            kind: "Secret".into(),
            plural: "secrets".into(),
            namespaced: true,
        };
        let req = GetRequest { resource, namespace: namespace.into(), name: name.into() };
        let secret = cluster.get(&[req]).pop().unwrap_or(Ok(None))?;
        let secret = secret.ok_or_else(|| Error::Usage(format!("Secret {namespace}/{name} not found")))?;
        Ok(secret.get("data").and_then(Value::as_object).cloned().unwrap_or_default())
    }

    fn field(&self, namespace: &str, name: &str, field: &str) -> Result<Option<String>> {
        let data = self.data(namespace, name)?;
        let Some(encoded) = data.get(field).and_then(Value::as_str) else { return Ok(None) };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| Error::Usage(format!("Secret {namespace}/{name}: {field} is not base64")))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::Usage(format!("Secret {namespace}/{name}: {field} is not text")))
    }

    /// The credential for `host` in a Docker config Secret (`None`: no entry for it).
    pub fn pull_secret(&self, namespace: &str, name: &str, host: &str) -> Result<Option<Credential>> {
        let label = format!("Secret {namespace}/{name}");
        if let Some(text) = self.field(namespace, name, ".dockerconfigjson")? {
            return docker_credential_in(&text, &label, host);
        }
        if let Some(text) = self.field(namespace, name, ".dockercfg")? {
            // The old format: the auths mapping itself.
            let wrapped = format!("{{\"auths\": {text}}}");
            return docker_credential_in(&wrapped, &label, host);
        }
        Err(Error::Usage(format!("{label} has neither .dockerconfigjson nor .dockercfg")))
    }

    /// `user:password` from one field.
    pub fn user_password(&self, namespace: &str, name: &str, field: &str) -> Result<Credential> {
        let value = self
            .field(namespace, name, field)?
            .ok_or_else(|| Error::Usage(format!("Secret {namespace}/{name} has no field {field:?}")))?;
        let (username, password) = value
            .trim()
            .split_once(':')
            .ok_or_else(|| Error::Usage(format!("Secret {namespace}/{name}: {field} is not user:password")))?;
        Ok(Credential::Basic { username: username.into(), password: password.into() })
    }
}
