//! Certificates as Sprig asks Go's `x509.CreateCertificate` for them
//! (`getBaseCertTemplate`): a random 128-bit serial, a subject with only
//! the common name, NotBefore now and NotAfter `days` later, key usage
//! digital signature + key encipherment (+ cert sign for a CA), extended
//! key usage server + client auth, basic constraints (critical, `CA:TRUE`
//! only for `genCA`), the SANs (DNS names then IPs). The DER is laid out
//! as Go 1.25 writes it: extensions in Go's order, a subject key id (the
//! first 20 bytes of the SHA-256 of the public key) on CAs only, an
//! authority key id from the issuer's subject key id, and the issuer name
//! copied byte for byte from the CA certificate, so Go's verifier (which
//! compares raw names) chains it.

use std::net::IpAddr;

use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};

use super::der::{self, oid};
use super::keys::PrivateKey;

/// What varies between Sprig's certificate functions.
pub struct Template {
    pub cn: String,
    pub ips: Vec<IpAddr>,
    pub dns: Vec<String>,
    pub days: i64,
    pub is_ca: bool,
}

/// The CA a certificate is signed by, read from its PEM.
pub struct Issuer {
    raw_subject: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    public_key_info: Vec<u8>,
}

impl Issuer {
    /// `x509.ParseCertificate` of the first PEM block, as Sprig reads `ca.Cert`.
    pub fn from_pem(pem: &str) -> Result<Issuer, String> {
        let (_, der) = der::pem_decode(pem).ok_or("unable to decode certificate")?;
        let cert =
            parse_certificate(&der).map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
        let subject_key_id = cert.extensions().iter().find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        });
        Ok(Issuer {
            raw_subject: cert.tbs_certificate.subject.as_raw().to_vec(),
            subject_key_id,
            public_key_info: cert.tbs_certificate.subject_pki.raw.to_vec(),
        })
    }
}

/// `x509.ParseCertificate`'s verdict on DER bytes.
pub fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(format!("x509: malformed certificate: {e}")),
    }
}

/// Creates the certificate for `key` (the subject's), signed by `signer`
/// on behalf of `issuer` (self-signed when `None`); returns the
/// certificate and the subject key as PEM (Sprig's `getCertAndKey`).
pub fn create(
    t: &Template,
    key: &PrivateKey,
    issuer: Option<&Issuer>,
    signer: &PrivateKey,
) -> Result<(String, String), String> {
    let creating = |e: String| format!("error creating certificate: {e}");
    let signing = signer.signer().map_err(creating)?;
    let (spki, public_bits) = key.public_key_info().map_err(creating)?;
    if let Some(ca) = issuer {
        let (signer_spki, _) = signer.public_key_info().map_err(creating)?;
        if signer_spki != ca.public_key_info {
            return Err(creating("x509: provided PrivateKey doesn't match parent's PublicKey".into()));
        }
    }
    let subject = name(&t.cn);
    let issuer_name = issuer.map_or(subject.clone(), |ca| ca.raw_subject.clone());

    let mut serial = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| "failed to read random bytes".to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let not_after = now.saturating_add(t.days.saturating_mul(86_400));
    let validity = der::seq(&[&time(now).map_err(creating)?, &time(not_after).map_err(creating)?]);

    let mut exts = vec![
        extension(oid::KEY_USAGE, true, &key_usage(t.is_ca)),
        extension(oid::EXT_KEY_USAGE, false, &der::seq(&[&der::oid(oid::SERVER_AUTH), &der::oid(oid::CLIENT_AUTH)])),
        extension(
            oid::BASIC_CONSTRAINTS,
            true,
            &if t.is_ca { der::seq(&[&der::tlv(der::BOOLEAN, &[0xff])]) } else { der::seq(&[]) },
        ),
    ];
    if t.is_ca {
        let digest = ring::digest::digest(&ring::digest::SHA256, &public_bits);
        exts.push(extension(oid::SUBJECT_KEY_ID, false, &der::tlv(der::OCTET_STRING, &digest.as_ref()[..20])));
    }
    if let Some(id) = issuer.and_then(|ca| ca.subject_key_id.as_ref()).filter(|_| issuer_name != subject) {
        exts.push(extension(oid::AUTHORITY_KEY_ID, false, &der::seq(&[&der::tlv(0x80, id)])));
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        exts.push(extension(oid::SUBJECT_ALT_NAME, t.cn.is_empty(), &alt_names(t).map_err(creating)?));
    }
    let exts: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();

    let tbs = der::seq(&[
        &der::tlv(0xa0, &der::uint(&[2])),
        &der::uint(&serial),
        &signing.algorithm,
        &issuer_name,
        &validity,
        &subject,
        &spki,
        &der::tlv(0xa3, &der::seq(&exts)),
    ]);
    let signature = signing.sign(&tbs).map_err(creating)?;
    let cert = der::seq(&[&tbs, &signing.algorithm, &der::bit_string(&signature)]);
    Ok((der::pem_encode("CERTIFICATE", &cert), key.pem()))
}

/// A `pkix.Name` with only a common name (empty: no attribute at all),
/// the string typed as Go's asn1 types it.
fn name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der::seq(&[]);
    }
    let printable = cn.bytes().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    let value = der::tlv(if printable { der::PRINTABLE_STRING } else { der::UTF8_STRING }, cn.as_bytes());
    der::seq(&[&der::cons(der::SET, &[&der::seq(&[&der::oid(oid::COMMON_NAME), &value])])])
}

/// Go's `marshalKeyUsage`: bits 0 (digital signature), 2 (key
/// encipherment) and 5 (cert sign), trailing zero bits not counted.
fn key_usage(ca: bool) -> Vec<u8> {
    if ca { der::tlv(der::BIT_STRING, &[0x02, 0xa4]) } else { der::tlv(der::BIT_STRING, &[0x05, 0xa0]) }
}

fn extension(id: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let oid = der::oid(id);
    let value = der::tlv(der::OCTET_STRING, value);
    if critical { der::seq(&[&oid, &der::tlv(der::BOOLEAN, &[0xff]), &value]) } else { der::seq(&[&oid, &value]) }
}

/// Go's `marshalSANs`: DNS names (IA5 strings), then IP addresses (four
/// bytes for IPv4 and IPv4-mapped IPv6).
fn alt_names(t: &Template) -> Result<Vec<u8>, String> {
    let mut parts = Vec::new();
    for d in &t.dns {
        if !d.is_ascii() {
            return Err(format!("x509: {d:?} cannot be encoded as an IA5String"));
        }
        parts.push(der::tlv(0x82, d.as_bytes()));
    }
    for ip in &t.ips {
        let bytes = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets().to_vec(),
            },
        };
        parts.push(der::tlv(0x87, &bytes));
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(der::seq(&refs))
}

/// A certificate time: UTCTime for 1950 to 2049, GeneralizedTime else.
fn time(unix: i64) -> Result<Vec<u8>, String> {
    let (y, mo, d) = crate::gotmpl::sprig::date::civil(unix);
    let secs = unix.rem_euclid(86_400);
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if !(0..=9999).contains(&y) {
        return Err("x509: certificate validity outside years 0 to 9999".into());
    }
    Ok(if (1950..2050).contains(&y) {
        der::tlv(der::UTC_TIME, format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100).as_bytes())
    } else {
        der::tlv(der::GENERALIZED_TIME, format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z").as_bytes())
    })
}
