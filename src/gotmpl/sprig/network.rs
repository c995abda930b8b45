//! Sprig's `getHostByName`: one address of a host name, picked at random
//! among those the system resolver returns (IPv4 and IPv6), as Go's
//! `net.LookupHost` does.
//!
//! Not hermetic: the render depends on the DNS of the machine that runs
//! it (helm's does too). A name that does not resolve fails the render,
//! as Sprig's `addrs[rand.Intn(0)]` panics.
//!
//! helm itself replaces it: without `--enable-dns`, `helm template` and
//! `helm install` register a `getHostByName` that returns `""` (checked on
//! helm 4.1.4 with `localhost`). A chart renderer that follows helm must
//! override this one the same way.

use std::net::ToSocketAddrs;

use super::{add, err, string_arg};
use crate::gotmpl::value::{Arity, Func, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    add(v, "getHostByName", Arity::Exact(1), |a| {
        let name = string_arg(a, 0)?;
        let mut addrs: Vec<String> = Vec::new();
        if let Ok(found) = (name, 0).to_socket_addrs() {
            for a in found {
                let ip = a.ip().to_string();
                if !addrs.contains(&ip) {
                    addrs.push(ip);
                }
            }
        }
        if addrs.is_empty() {
            return Err(err("invalid argument to Intn"));
        }
        let mut pick = [0u8; 8];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut pick);
        Ok(Value::from(addrs.swap_remove((u64::from_le_bytes(pick) % addrs.len() as u64) as usize)))
    });
}
