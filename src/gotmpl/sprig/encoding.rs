//! Encodings, digests and random values: `b64enc`/`b64dec`,
//! `b32enc`/`b32dec`, `sha1sum`, `sha256sum`, `sha512sum`, `adler32sum`,
//! `uuidv4`, `randAlphaNum`/`randAlpha`/`randNumeric`/`randAscii`,
//! `shuffle`. Decoding errors come back as the result string, as Sprig
//! does.

use std::hash::{BuildHasher, Hasher};

use base64::Engine;
use sha2::Digest;

use super::{Body, add, bytes_arg, err, int_arg, reading_bytes, string_arg};
use crate::gotmpl::value::{Arity, Func, Value};

pub(super) fn register(v: &mut Vec<Func>) {
    let one: &[(&str, Body)] = &[
        ("b64enc", |a| Ok(Value::from(base64::engine::general_purpose::STANDARD.encode(bytes_arg(a, 0)?)))),
        ("b64dec", |a| {
            let s = string_arg(a, 0)?;
            Ok(Value::from(match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => b64_error(e),
            }))
        }),
        ("b32enc", |a| Ok(Value::from(b32enc(bytes_arg(a, 0)?)))),
        ("b32dec", |a| {
            Ok(Value::from(match b32dec(string_arg(a, 0)?) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(at) => format!("illegal base32 data at input byte {at}"),
            }))
        }),
        ("sha1sum", |a| Ok(Value::from(hex(&sha1(bytes_arg(a, 0)?))))),
        ("sha256sum", |a| Ok(Value::from(hex(&sha2::Sha256::digest(bytes_arg(a, 0)?))))),
        ("sha512sum", |a| Ok(Value::from(hex(&sha2::Sha512::digest(bytes_arg(a, 0)?))))),
        ("adler32sum", |a| Ok(Value::from(adler32(bytes_arg(a, 0)?).to_string()))),
        ("randAlphaNum", |a| {
            random_string(int_arg(a, 0)?, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        }),
        ("randAlpha", |a| random_string(int_arg(a, 0)?, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")),
        ("randNumeric", |a| random_string(int_arg(a, 0)?, b"0123456789")),
        ("randAscii", |a| {
            let printable: Vec<u8> = (32..127).collect();
            random_string(int_arg(a, 0)?, &printable)
        }),
        ("shuffle", |a| {
            let mut chars: Vec<char> = string_arg(a, 0)?.chars().collect();
            for i in (1..chars.len()).rev() {
                chars.swap(i, (random() % (i as u64 + 1)) as usize);
            }
            Ok(Value::from(chars.into_iter().collect::<String>()))
        }),
    ];
    for (name, body) in one {
        add(v, name, Arity::Exact(1), *body);
    }
    reading_bytes(v, &["b64enc", "b32enc", "sha1sum", "sha256sum", "sha512sum", "adler32sum"]);
    add(v, "randInt", Arity::Exact(2), |a| {
        let (lo, hi) = (int_arg(a, 0)?, int_arg(a, 1)?);
        if hi <= lo {
            return Err(err("invalid argument to Intn"));
        }
        Ok(Value::int(lo + (random() % (hi - lo) as u64) as i64))
    });
    add(v, "randBytes", Arity::Exact(1), |a| {
        let n = int_arg(a, 0)?;
        if !(0..=1 << 26).contains(&n) {
            return Err(err("runtime error: makeslice: len out of range"));
        }
        let bytes: Vec<u8> = (0..n).map(|_| random() as u8).collect();
        Ok(Value::from(base64::engine::general_purpose::STANDARD.encode(bytes)))
    });
    add(v, "uuidv4", Arity::Exact(0), |_| Ok(Value::from(uuidv4())));
}

/// Go's `base64.CorruptInputError` message.
fn b64_error(e: base64::DecodeError) -> String {
    let at = match e {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => at,
        base64::DecodeError::InvalidLength(at) => at,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {at}")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 with padding (`base32.StdEncoding`).
fn b32enc(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes padded base32; the error is the offset of the bad byte.
fn b32dec(s: &str) -> Result<Vec<u8>, usize> {
    let s: Vec<u8> = s.bytes().filter(|&c| c != b'\n' && c != b'\r').collect();
    if !s.len().is_multiple_of(8) {
        return Err(s.len() / 8 * 8);
    }
    let mut out = Vec::new();
    for (ci, chunk) in s.chunks(8).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        let used = 8 - pad;
        if !matches!(pad, 0 | 1 | 3 | 4 | 6) || (pad > 0 && ci + 1 != s.len() / 8) {
            return Err(ci * 8 + used);
        }
        let mut n: u64 = 0;
        for (i, &c) in chunk[..used].iter().enumerate() {
            let d = B32.iter().position(|&x| x == c).ok_or(ci * 8 + i)?;
            n |= (d as u64) << (35 - 5 * i);
        }
        let bytes = used * 5 / 8;
        out.extend_from_slice(&n.to_be_bytes()[3..3 + bytes]);
    }
    Ok(out)
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// SHA-1 (FIPS 180-4), for `sha1sum`.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([block[4 * i], block[4 * i + 1], block[4 * i + 2], block[4 * i + 3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// A random number from the standard library's per-process random keys
/// (not for secrets; Sprig's random strings are not either, in charts).
fn random() -> u64 {
    use std::cell::Cell;
    thread_local!(static COUNTER: Cell<u64> = const { Cell::new(0) });
    let n = COUNTER.with(|c| {
        c.set(c.get().wrapping_add(1));
        c.get()
    });
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish()
}

fn random_string(count: i64, alphabet: &[u8]) -> super::R {
    if count < 0 {
        return Err(err(format!("Requested random string length {count} is less than 0.")));
    }
    if count > 1 << 26 {
        return Err(err("randAlphaNum: too long"));
    }
    let s: String = (0..count).map(|_| alphabet[(random() % alphabet.len() as u64) as usize] as char).collect();
    Ok(Value::from(s))
}

fn uuidv4() -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&random().to_le_bytes());
    b[8..].copy_from_slice(&random().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}
