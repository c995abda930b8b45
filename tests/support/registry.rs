//! The CNCF distribution registry (Debian's `docker-registry`, installed by
//! scripts/install-test-registry.sh) on 127.0.0.1, for the OCI chart tests:
//! anonymous, or with basic auth from an htpasswd file (bcrypt). Stopped
//! when dropped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Registry {
    /// `127.0.0.1:PORT`
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
    pub log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
    /// Start a registry; with `user`, every request needs that user's basic auth.
    pub fn start(user: Option<(&str, &str)>) -> Registry {
        let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .expect("these tests need docker-registry: run scripts/install-test-registry.sh");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((name, password)) = user {
            let hash = bcrypt_hash(password);
            std::fs::write(dir.path().join("htpasswd"), format!("{name}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: charts\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let config_file = dir.path().join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        let log = dir.path().join("registry.log");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_file)
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(dir.path().join("registry.err")).unwrap()))
            .spawn()
            .unwrap();
        let host = format!("127.0.0.1:{port}");
        let r = Registry { host, child, _dir: dir, log };
        // Up when it accepts a connection (a few hundred milliseconds).
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return r;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not start: {}",
            std::fs::read_to_string(r._dir.path().join("registry.err")).unwrap_or_default()
        );
    }
}

/// An htpasswd bcrypt entry (`$2a$`, cost 4, a fixed salt: test users only).
fn bcrypt_hash(password: &str) -> String {
    use base64::Engine;
    let salt = *b"kubectl-gitops!!";
    let mut key = password.as_bytes().to_vec();
    key.push(0);
    let out = bcrypt::bcrypt(4, salt, &key);
    format!("$2a$04${}{}", bcrypt::BASE_64.encode(salt), bcrypt::BASE_64.encode(&out[..23]))
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
