//! The setting of the image-update tests: a config repository served by
//! `git http-backend` with basic auth (push needs the user), a registry
//! (docker-registry) and the Application files that point at both.
//! Needs the test binary to declare `git_support`, `images` and `registry`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::git_support::{self, Env, HttpGit, Repo, git};
use crate::images::push_simple;
use crate::registry;

pub const PREFIX: &str = "argocd-image-updater.argoproj.io";

/// A config repository served over HTTP (push needs the basic-auth user).
pub struct Fixture {
    pub repo: Repo,
    pub bare: PathBuf,
    pub server: HttpGit,
    pub reg: registry::Registry,
    pub env: Env,
}

impl Fixture {
    pub fn new(files: &[(&str, &str)]) -> Self {
        let repo = Repo::new();
        for (p, c) in files {
            repo.write(p, c);
        }
        repo.commit("config");
        let bare = repo.publish("config");
        let server = HttpGit::start(&repo.served, Some(("bot", "s3cret")));
        Fixture { repo, bare, server, reg: registry::Registry::start(None), env: Env::new() }
    }

    pub fn url(&self) -> String {
        self.server.url_with("bot:s3cret", "config")
    }

    /// An Application file for `path` with `annotations` (keys without the prefix).
    pub fn app(&self, name: &str, path: &str, annotations: &[(&str, &str)], source_extra: &str) -> PathBuf {
        let mut notes = String::new();
        for (k, v) in annotations {
            notes.push_str(&format!("    {PREFIX}/{k}: '{}'\n", v.replace('\'', "''")));
        }
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  annotations:\n{notes}spec:\n  project: default\n  source:\n    repoURL: {}\n    targetRevision: main\n    path: {path}\n{source_extra}  destination:\n    namespace: web\n    server: https://kubernetes.default.svc\n",
            self.url()
        );
        let file = self.repo.tmp.path().join(format!("{name}.yaml"));
        std::fs::write(&file, text).unwrap();
        file
    }

    pub fn run(&self, args: &[&str]) -> git_support::Run {
        self.env.run(self.repo.tmp.path(), args)
    }

    /// `git` in the served bare repository.
    pub fn served(&self, args: &[&str]) -> String {
        git(&self.bare, args)
    }

    pub fn show(&self, rev_path: &str) -> String {
        self.served(&["show", rev_path])
    }
}

pub fn deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )
}

pub fn push_tags(reg: &str, repo: &str, tags: &[(&str, &str)]) {
    for (t, created) in tags {
        push_simple(reg, repo, t, created, None);
    }
}

pub fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}
