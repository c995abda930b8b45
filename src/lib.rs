//! kubectl-gitops as a library: the pipeline the CLI is a thin layer over.
//!
//! source (local dir) -> render (one module per tool) -> normalize
//! (canonical, ordered [`normalize::ObjectSet`]) -> output. See
//! `ARCHITECTURE.md` for a walk through one command.

pub mod agent;
pub mod applyset;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod error;
pub mod external_diff;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod gotmpl;
pub mod health;
pub mod history;
pub mod imageupdate;
pub mod keys;
pub mod list;
pub mod logging;
pub mod model;
pub mod net;
pub mod normalize;
pub mod output;
pub mod plan;
pub mod render;
pub mod rollback;
pub mod semver;
pub mod source;
pub mod status;
pub mod sync;
pub mod usecase;
pub mod yaml;

pub use error::{Error, Result};
