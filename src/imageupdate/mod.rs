//! Image updates with git write-back, compatible with Argo CD Image
//! Updater: the annotations of an Application say which images to follow
//! (`annotations`), the registry says which tags exist (`registry`, over
//! `net::oci`), the strategy picks one (`tags`), and the new version is
//! written back to the config repository.

pub mod annotations;
pub mod reference;
pub mod registry;
pub mod secrets;
pub mod tags;
pub mod targets;
pub mod update;
pub mod write;

pub use annotations::{ImageSpec, Platform, Strategy, UpdateConfig};
pub use reference::ImageRef;
