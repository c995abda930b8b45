//! Sprig functions we do not implement: key and certificate generation,
//! password hashing, AES and DNS. They are defined, so a chart that names
//! them in a branch it never takes still parses (as in helm); calling one
//! is an error that says so, never a made-up value.

use super::err;
use crate::gotmpl::value::{Arity, Func};

/// The names, each failing with the same explanation.
const NAMES: &[&str] = &[
    "bcrypt",
    "htpasswd",
    "genPrivateKey",
    "derivePassword",
    "buildCustomCert",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "encryptAES",
    "decryptAES",
    "getHostByName",
];

pub(super) fn register(v: &mut Vec<Func>) {
    for name in NAMES {
        v.push(Func::new(name, Arity::AtLeast(0), move |_, _| {
            Err(err(format!("{name} is not supported by kubectl-gitops's chart renderer")))
        }));
    }
}
