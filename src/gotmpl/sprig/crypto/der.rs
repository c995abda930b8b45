//! The little DER and PEM the crypto functions need: writing the
//! structures Go's `x509` and `encoding/asn1` write (keys, certificates)
//! and reading back the key formats Sprig accepts. Only definite lengths,
//! as DER requires.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const BOOLEAN: u8 = 0x01;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;

/// Object identifiers, as their DER contents (without tag and length).
pub mod oid {
    pub const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const ECDSA_WITH_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    pub const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    pub const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    pub const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    pub const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    pub const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
    pub const AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
    pub const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
    pub const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    pub const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
}

/// One element: tag, length, contents.
pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 6);
    out.push(tag);
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(body);
    out
}

/// A constructed element from its parts.
pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    cons(SEQUENCE, parts)
}

pub fn oid(contents: &[u8]) -> Vec<u8> {
    tlv(OID, contents)
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn uint(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let mut body = be[skip..].to_vec();
    if body.first().is_none_or(|&b| b & 0x80 != 0) {
        body.insert(0, 0);
    }
    tlv(INTEGER, &body)
}

/// A BIT STRING of whole bytes.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 1);
    body.push(0);
    body.extend_from_slice(bytes);
    tlv(BIT_STRING, &body)
}

/// A reader over a run of elements.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// The next element's tag and contents.
    pub fn next(&mut self) -> Result<(u8, &'a [u8]), String> {
        let d = self.data;
        let short = || "asn1: syntax error: data truncated".to_string();
        let (&tag, rest) = d.split_first().ok_or_else(short)?;
        let (&first, rest) = rest.split_first().ok_or_else(short)?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return Err("asn1: syntax error: invalid length".into());
            }
            (rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize), &rest[n..])
        };
        if rest.len() < len {
            return Err(short());
        }
        self.data = &rest[len..];
        Ok((tag, &rest[..len]))
    }

    /// The next element, which must have this tag.
    pub fn expect(&mut self, tag: u8) -> Result<&'a [u8], String> {
        match self.next()? {
            (t, body) if t == tag => Ok(body),
            (t, _) => Err(format!("asn1: structure error: tags don't match (want {tag:#04x}, got {t:#04x})")),
        }
    }

    /// The next element if it has this tag.
    pub fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, String> {
        if self.peek_tag() == Some(tag) { self.next().map(|(_, b)| Some(b)) } else { Ok(None) }
    }

    /// An INTEGER's magnitude (big-endian, without the sign byte).
    pub fn uint(&mut self) -> Result<&'a [u8], String> {
        let body = self.expect(INTEGER)?;
        if body.first().is_some_and(|&b| b & 0x80 != 0) {
            return Err("asn1: structure error: negative integer".into());
        }
        let skip = body.iter().take_while(|&&b| b == 0).count();
        Ok(&body[skip..])
    }
}

/// Go's `pem.EncodeToMemory`: 64-column base64 lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Go's `pem.Decode`: the first well-formed block (type and DER), headers
/// skipped; `None` when there is none.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let mut rest = text;
    while let Some(at) = rest.find("-----BEGIN ") {
        let after = &rest[at + 11..];
        rest = after;
        let Some(end_label) = after.find("-----") else { break };
        let label = &after[..end_label];
        if label.contains('\n') {
            continue;
        }
        let body = &after[end_label + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body.find(&end_marker) else { continue };
        let mut lines: Vec<&str> = body[..end].lines().collect();
        // headers (`Proc-Type: ...`) end at the first blank line
        let has_headers = lines.iter().skip_while(|l| l.trim().is_empty()).take(1).any(|l| l.contains(':'));
        if has_headers && let Some(blank) = lines.iter().skip(1).position(|l| l.trim().is_empty()) {
            lines.drain(..=blank + 1);
        }
        let b64: String = lines.concat().chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if let Ok(der) = STANDARD.decode(b64) {
            return Some((label.to_string(), der));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers() {
        assert_eq!(tlv(OCTET_STRING, &[1, 2]), vec![4, 2, 1, 2]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 200])[..3], &[4, 0x81, 200]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 300])[..4], &[4, 0x82, 1, 44]);
        assert_eq!(uint(&[0, 0, 0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(uint(&[]), vec![2, 1, 0]);
        let s = seq(&[&uint(&[5]), &tlv(OCTET_STRING, &[0; 300])]);
        let mut r = Reader::new(&s);
        let mut inner = Reader::new(r.expect(SEQUENCE).unwrap());
        assert_eq!(inner.uint().unwrap(), &[5]);
        assert_eq!(inner.expect(OCTET_STRING).unwrap().len(), 300);
        assert!(inner.is_empty() && r.is_empty());
    }

    #[test]
    fn pem_round_trip_and_headers() {
        let pem = pem_encode("TEST", &[7; 100]);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(pem_decode(&format!("junk\n{pem}")), Some(("TEST".into(), vec![7; 100])));
        let with_headers = pem.replacen("-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: x\n\n", 1);
        assert_eq!(pem_decode(&with_headers), Some(("TEST".into(), vec![7; 100])));
        assert_eq!(pem_decode("no pem here"), None);
    }
}
