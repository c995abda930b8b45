//! Container images for the image-update tests, without docker: an OCI
//! image layout written here (a gzip layer, a config with `created`,
//! `architecture`, `os` and `rootfs.diff_ids`, a manifest, and for
//! multi-platform images an index) and pushed with `skopeo copy` (installed
//! by scripts/install-test-registry.sh) to a registry on 127.0.0.1.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use sha2::Digest;

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// One platform's image: `os/arch[/variant]` and its build time.
pub struct Image<'a> {
    pub platform: &'a str,
    pub created: &'a str,
}

/// Write `blob` under the layout; return its descriptor fields.
fn put(dir: &Path, blob: &[u8]) -> (String, usize) {
    let digest = sha(blob);
    let path = dir.join("blobs/sha256").join(&digest[7..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, blob).unwrap();
    (digest, blob.len())
}

/// An image manifest for one platform; returns (digest, size, platform json).
fn image(dir: &Path, img: &Image, marker: &str) -> (String, usize, serde_json::Value) {
    let content = format!("{marker} {} {}\n", img.platform, img.created);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, "marker.txt", content.as_bytes()).unwrap();
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let layer = gz.finish().unwrap();
    let (layer_digest, layer_size) = put(dir, &layer);
    let parts: Vec<&str> = img.platform.split('/').collect();
    let mut config = json!({
        "created": img.created,
        "architecture": parts[1],
        "os": parts[0],
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha(&tar)]},
    });
    let mut platform = json!({"os": parts[0], "architecture": parts[1]});
    if let Some(v) = parts.get(2) {
        config["variant"] = json!(v);
        platform["variant"] = json!(v);
    }
    let (config_digest, config_size) = put(dir, &serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}],
    });
    let (d, s) = put(dir, &serde_json::to_vec(&manifest).unwrap());
    (d, s, platform)
}

/// Push `registry/repository:tag` made of `images` (one: a plain manifest;
/// more: an image index). `creds`: `user:password`. Returns the pushed
/// layout's top digest (manifest or index).
pub fn push(registry: &str, repository: &str, tag: &str, images: &[Image], creds: Option<&str>) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let marker = format!("{repository}:{tag}");
    let (digest, size, media_type) = if images.len() == 1 {
        let (d, s, _) = image(dir, &images[0], &marker);
        (d, s, "application/vnd.oci.image.manifest.v1+json")
    } else {
        let manifests: Vec<serde_json::Value> = images
            .iter()
            .map(|i| {
                let (d, s, p) = image(dir, i, &marker);
                json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": s, "platform": p})
            })
            .collect();
        let index =
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let (d, s) = put(dir, &serde_json::to_vec(&index).unwrap());
        (d, s, "application/vnd.oci.image.index.v1+json")
    };
    let top = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": media_type, "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "copy", "--quiet", "--all", "--preserve-digests", "--dest-tls-verify=false"]);
    if let Some(c) = creds {
        cmd.arg(format!("--dest-creds={c}"));
    }
    cmd.arg("--").arg(format!("oci:{}:latest", dir.display())).arg(format!("docker://{registry}/{repository}:{tag}"));
    let out = cmd.env("HOME", dir).output().expect("these tests need skopeo: run scripts/install-test-registry.sh");
    assert!(out.status.success(), "skopeo copy failed: {}", String::from_utf8_lossy(&out.stderr));
    digest
}

/// Push a one-platform linux/amd64 image built at `created`.
pub fn push_simple(registry: &str, repository: &str, tag: &str, created: &str, creds: Option<&str>) -> String {
    push(registry, repository, tag, &[Image { platform: "linux/amd64", created }], creds)
}
