//! The chart cache under the cache root (`charts/`, private like the rest):
//! - `index/<key>.yaml` and `<key>.etag`: a repository's last `index.yaml`
//!   and its ETag (`<key>`: a hash of the repository URL), refreshed under
//!   the exclusive lock `<key>.lock` so concurrent runs never write it at once;
//! - `blobs/sha256/<hex>.tgz`: chart archives by digest, written to a
//!   temporary file and renamed into place (a reader sees a whole file or
//!   none), checked again when read;
//! - `refs/<key>`: the digest of an archive downloaded from a URL whose
//!   index entry names none, so that `--offline` finds it.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::source::git::Cache;

/// sha256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A short key for a URL (or any text).
pub fn key(text: &str) -> String {
    sha256_hex(text.as_bytes())[..32].to_string()
}

/// The chart part of the cache.
#[derive(Debug, Clone)]
pub struct ChartCache {
    dir: PathBuf,
    cache: Cache,
}

/// An exclusive lock, released on drop.
pub struct Lock {
    _file: File,
}

impl ChartCache {
    pub fn new(cache: &Cache) -> Self {
        ChartCache { dir: cache.root().join("charts"), cache: cache.clone() }
    }

    fn sub(&self, name: &str) -> Result<PathBuf> {
        self.cache.ensure_root()?;
        let d = self.dir.join(name);
        crate::source::git::private_dir(&d)?;
        Ok(d)
    }

    /// Take the lock of `key`'s index (waiting for another run holding it).
    pub fn lock(&self, key: &str, what: &str) -> Result<Lock> {
        let path = self.sub("index")?.join(format!("{key}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        if file.try_lock().is_err() {
            tracing::info!("waiting for the cache lock on {what}");
            file.lock().map_err(|e| Error::io(&path, e))?;
        }
        Ok(Lock { _file: file })
    }

    /// The cached index of `key` and its ETag, when there is one.
    pub fn index(&self, key: &str, _lock: &Lock) -> Result<Option<(Vec<u8>, Option<String>)>> {
        let dir = self.sub("index")?;
        let Ok(bytes) = std::fs::read(dir.join(format!("{key}.yaml"))) else { return Ok(None) };
        let etag = std::fs::read_to_string(dir.join(format!("{key}.etag"))).ok().filter(|e| !e.is_empty());
        Ok(Some((bytes, etag)))
    }

    /// Store the index of `key` with its ETag.
    pub fn store_index(&self, key: &str, bytes: &[u8], etag: Option<&str>, _lock: &Lock) -> Result<()> {
        let dir = self.sub("index")?;
        write_atomic(&dir.join(format!("{key}.yaml")), bytes)?;
        write_atomic(&dir.join(format!("{key}.etag")), etag.unwrap_or("").as_bytes())
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!("{digest:?} is not a sha256 digest")));
        }
        Ok(self.sub("blobs/sha256")?.join(format!("{digest}.tgz")))
    }

    /// The cached archive with `digest` (checked; a damaged copy is removed).
    pub fn blob(&self, digest: &str) -> Result<Option<(PathBuf, Vec<u8>)>> {
        let path = self.blob_path(digest)?;
        let Ok(bytes) = std::fs::read(&path) else { return Ok(None) };
        if sha256_hex(&bytes) != digest {
            tracing::warn!("{}: damaged cached chart removed", path.display());
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        }
        Ok(Some((path, bytes)))
    }

    /// Store an archive; returns its path.
    pub fn store_blob(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.blob_path(digest)?;
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// The digest last downloaded from `url_key`.
    pub fn digest_of(&self, url_key: &str) -> Result<Option<String>> {
        let path = self.sub("refs")?.join(url_key);
        Ok(std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
    }

    pub fn store_digest_of(&self, url_key: &str, digest: &str) -> Result<()> {
        write_atomic(&self.sub("refs")?.join(url_key), digest.as_bytes())
    }
}

/// Write `path` through a temporary file in its directory and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".tmp-{name}-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    let written = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_checked_when_read() {
        let tmp = tempfile::tempdir().unwrap();
        let c = ChartCache::new(&Cache::at(tmp.path()));
        let data = b"chart bytes";
        let d = sha256_hex(data);
        let path = c.store_blob(&d, data).unwrap();
        assert_eq!(c.blob(&d).unwrap().unwrap().1, data);
        std::fs::write(&path, b"tampered").unwrap();
        assert!(c.blob(&d).unwrap().is_none());
        assert!(!path.exists());
        assert!(c.blob("../../etc/passwd").is_err());
    }
}
