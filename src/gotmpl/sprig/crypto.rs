//! Sprig's crypto functions (v3.3.0's `crypto.go`, as helm 4 registers
//! them): `genPrivateKey`, the certificate functions (`genCA`,
//! `genSelfSignedCert`, `genSignedCert`, their `...WithKey` forms taking
//! a PEM key, `buildCustomCert`), `bcrypt`, `htpasswd`, `derivePassword`,
//! `encryptAES` and `decryptAES`.
//!
//! Certificates are Sprig's `certificate` struct ([`Certificate`]): a
//! value with `.Cert` and `.Key` PEM fields that prints as `{cert key}`
//! and marshals to JSON as `{"Cert":...,"Key":...}`. The functions that
//! return only a string in Sprig return their errors as that string (as
//! `genPrivateKey "x"` gives `Unknown type x`); the others fail the render
//! with Sprig's error text. Output is random where Sprig's is (keys,
//! serials, salts, IVs, validity from now); `derivePassword` is
//! deterministic and matches Sprig's output exactly.
//!
//! Where this differs from helm: `derivePassword`'s counter accepts any
//! integer type in the `uint32` range where Go wants a `uint32` or a
//! constant; ECDSA keys on P-224/P-521 are refused (see `keys`).

mod cert;
mod der;
mod keys;
mod secret;

#[cfg(test)]
mod tests;

use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{err, int_arg, string_arg, type_error};
use crate::gotmpl::Error;
use crate::gotmpl::value::{Func, Object, Param, Value};

pub use keys::PrivateKey;

/// Sprig's `certificate{Cert, Key}`.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

/// The Go type name of [`Certificate`].
pub const CERTIFICATE_TYPE: &str = "sprig.certificate";

impl Object for Certificate {
    fn type_name(&self) -> &str {
        CERTIFICATE_TYPE
    }
    fn kind(&self) -> &str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn fmt_v(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
}

impl Certificate {
    fn value(self) -> Value {
        Value::Object(Rc::new(self))
    }

    /// The certificate held by a template value, as Go's parameter check
    /// of a `certificate` argument sees it.
    fn from_value(v: &Value) -> Result<Certificate, Error> {
        match v {
            Value::Object(o) if o.type_name() == CERTIFICATE_TYPE => {
                let field = |n| o.field(n).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                Ok(Certificate { cert: field("Cert"), key: field("Key") })
            }
            v => Err(type_error(v, CERTIFICATE_TYPE)),
        }
    }
}

pub(super) fn register(v: &mut Vec<Func>) {
    use Param::{Any, Int, List, String as S};
    let typed = |v: &mut Vec<Func>, name: &str, params: &[Param], body: fn(&[Value]) -> super::R| {
        v.push(Func::typed(name, params, false, move |_, a| body(a)));
    };
    typed(v, "bcrypt", &[S], |a| Ok(Value::from(secret::bcrypt_fn(string_arg(a, 0)?))));
    typed(v, "htpasswd", &[S, S], |a| Ok(Value::from(secret::htpasswd(string_arg(a, 0)?, string_arg(a, 1)?))));
    typed(v, "derivePassword", &[Any, S, S, S, S], |a| {
        let counter = match &a[0] {
            Value::Int(n, _) => u32::try_from(*n).map_err(|_| type_error(&a[0], "uint32"))?,
            v => return Err(type_error(v, "uint32")),
        };
        let s = |i| string_arg(a, i);
        Ok(Value::from(secret::derive_password(counter, s(1)?, s(2)?, s(3)?, s(4)?)))
    });
    typed(v, "genPrivateKey", &[S], |a| {
        let key = PrivateKey::generate(string_arg(a, 0)?);
        Ok(Value::from(key.map_or_else(|e| e, |k| k.pem())))
    });
    typed(v, "buildCustomCert", &[S, S], |a| build_custom_cert(string_arg(a, 0)?, string_arg(a, 1)?));
    typed(v, "genCA", &[S, Int], |a| ca(a, None));
    typed(v, "genCAWithKey", &[S, Int, S], |a| ca(a, Some(string_arg(a, 2)?)));
    typed(v, "genSelfSignedCert", &[S, List, List, Int], |a| self_signed(a, None));
    typed(v, "genSelfSignedCertWithKey", &[S, List, List, Int, S], |a| self_signed(a, Some(string_arg(a, 4)?)));
    typed(v, "genSignedCert", &[S, List, List, Int, Any], |a| signed(a, None));
    typed(v, "genSignedCertWithKey", &[S, List, List, Int, Any, S], |a| signed(a, Some(string_arg(a, 5)?)));
    typed(v, "encryptAES", &[S, S], |a| {
        secret::encrypt_aes(string_arg(a, 0)?, string_arg(a, 1)?).map(Value::from).map_err(err)
    });
    typed(v, "decryptAES", &[S, S], |a| {
        secret::decrypt_aes(string_arg(a, 0)?, string_arg(a, 1)?).map(Value::from).map_err(err)
    });
}

/// The key Sprig generates for a certificate (RSA 2048), or the PEM key
/// passed to a `...WithKey` function.
fn subject_key(pem: Option<&str>) -> Result<PrivateKey, Error> {
    match pem {
        None => PrivateKey::generate_rsa(2048).map_err(|e| err(format!("error generating rsa key: {e}"))),
        Some(pem) => PrivateKey::parse_pem(pem).map_err(|e| err(format!("parsing private key: {e}"))),
    }
}

fn template(a: &[Value], is_ca: bool) -> Result<cert::Template, Error> {
    let cn = string_arg(a, 0)?.to_string();
    if is_ca {
        return Ok(cert::Template { cn, ips: vec![], dns: vec![], days: int_arg(a, 1)?, is_ca });
    }
    let mut ips = Vec::new();
    for ip in list_items(&a[1]) {
        let s = ip.as_str().ok_or_else(|| err(format!("error parsing ip: {} is not a string", super::strval(&ip))))?;
        ips.push(s.parse().map_err(|_| err(format!("error parsing ip: {s}")))?);
    }
    let mut dns = Vec::new();
    for name in list_items(&a[2]) {
        let s = name.as_str().ok_or_else(|| {
            err(format!("error processing alternate dns name: {} is not a string", super::strval(&name)))
        })?;
        dns.push(s.to_string());
    }
    Ok(cert::Template { cn, ips, dns, days: int_arg(a, 3)?, is_ca })
}

fn list_items(v: &Value) -> Vec<Value> {
    super::slice_items(v).map(|l| l.to_vec()).unwrap_or_default()
}

fn finish(pair: Result<(String, String), String>) -> super::R {
    let (cert, key) = pair.map_err(err)?;
    Ok(Certificate { cert, key }.value())
}

fn ca(a: &[Value], key_pem: Option<&str>) -> super::R {
    let key = subject_key(key_pem)?;
    finish(cert::create(&template(a, true)?, &key, None, &key))
}

fn self_signed(a: &[Value], key_pem: Option<&str>) -> super::R {
    let key = subject_key(key_pem)?;
    finish(cert::create(&template(a, false)?, &key, None, &key))
}

fn signed(a: &[Value], key_pem: Option<&str>) -> super::R {
    let ca = Certificate::from_value(&a[4])?;
    let key = subject_key(key_pem)?;
    let issuer = cert::Issuer::from_pem(&ca.cert).map_err(err)?;
    let ca_key = PrivateKey::parse_pem(&ca.key).map_err(|e| err(format!("error parsing private key: {e}")))?;
    finish(cert::create(&template(a, false)?, &key, Some(&issuer), &ca_key))
}

/// Sprig's `buildCustomCertificate(b64cert, b64key)`.
fn build_custom_cert(b64cert: &str, b64key: &str) -> super::R {
    let cert = STANDARD.decode(b64cert).map_err(|_| err("unable to decode base64 certificate"))?;
    let key = STANDARD.decode(b64key).map_err(|_| err("unable to decode base64 private key"))?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der) = der::pem_decode(&cert).ok_or_else(|| err("unable to decode certificate"))?;
    cert::parse_certificate(&der).map_err(|e| err(format!("error parsing certificate: decodedCert.Bytes: {e}")))?;
    PrivateKey::parse_pem(&key).map_err(|e| err(format!("error parsing private key: {e}")))?;
    Ok(Certificate { cert, key }.value())
}
