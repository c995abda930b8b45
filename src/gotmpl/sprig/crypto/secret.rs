//! Sprig's password and cipher functions: `bcrypt` and `htpasswd`
//! (x/crypto's bcrypt, cost 10, `$2a$`), `derivePassword` (the Master
//! Password algorithm: scrypt then HMAC-SHA256 into a template) and
//! `encryptAES`/`decryptAES` (AES-256-CBC, the password zero-padded or cut
//! to 32 bytes as the key, PKCS#7 padding, a random IV in front, base64).

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;

/// x/crypto's `bcrypt.DefaultCost`.
const BCRYPT_COST: u32 = 10;

/// `bcrypt.GenerateFromPassword(password, 10)`; `Err` holds Go's error.
pub fn bcrypt_hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| "failed to read random bytes".to_string())?;
    bcrypt_with_salt(password.as_bytes(), BCRYPT_COST, salt)
}

/// The hash of `password` (at most 72 bytes, as x/crypto requires) with
/// this salt, in the `$2a$` modular format.
pub fn bcrypt_with_salt(password: &[u8], cost: u32, salt: [u8; 16]) -> Result<String, String> {
    if password.len() > 72 {
        return Err("bcrypt: password length exceeds 72 bytes".into());
    }
    // the key is the password and its terminating NUL, as in OpenBSD's
    let mut key = password.to_vec();
    key.push(0);
    key.truncate(72);
    let out = bcrypt::bcrypt(cost, salt, &key);
    let b64 = bcrypt::BASE_64;
    Ok(format!("$2a${cost:02}${}{}", b64.encode(salt), b64.encode(&out[..23])))
}

/// Sprig's `bcrypt`: the hash, or the error as text.
pub fn bcrypt_fn(input: &str) -> String {
    bcrypt_hash(input).unwrap_or_else(|e| format!("failed to encrypt string with bcrypt: {e}"))
}

/// Sprig 3.3's `htpasswd(username, password)`.
pub fn htpasswd(user: &str, password: &str) -> String {
    if user.contains(':') {
        return format!("invalid username: {user}");
    }
    format!("{user}:{}", bcrypt_fn(password))
}

const MASTER_PASSWORD_SEED: &[u8] = b"com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Sprig's `derivePassword(counter, passwordType, password, user, site)`.
pub fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(templates) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = MASTER_PASSWORD_SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64).expect("valid scrypt parameters");
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut message = MASTER_PASSWORD_SEED.to_vec();
    message.extend_from_slice(&(site.len() as u32).to_be_bytes());
    message.extend_from_slice(site.as_bytes());
    message.extend_from_slice(&counter.to_be_bytes());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&message);
    let seed = mac.finalize().into_bytes();
    let template = templates[seed[0] as usize % templates.len()];
    template
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_characters(c);
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect()
}

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    key
}

/// Sprig's `encryptAES`.
pub fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, String> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let mut content = plaintext.as_bytes().to_vec();
    let padding = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(padding as u8, padding));
    let mut iv = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut iv)
        .map_err(|_| "failed to read random bytes".to_string())?;
    let n = content.len();
    Enc::new(&aes_key(password).into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut content, n)
        .map_err(|_| "crypto/cipher: input not full blocks".to_string())?;
    let mut out = iv.to_vec();
    out.extend_from_slice(&content);
    Ok(STANDARD.encode(out))
}

/// Sprig's `decryptAES`. Go panics on short or misaligned input and on
/// impossible padding; those panics are errors here with Go's runtime
/// messages. The padding is not checked (a wrong password gives garbage,
/// as in Go); bytes that are not UTF-8 become U+FFFD.
pub fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, String> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let crypt = STANDARD.decode(crypt64).map_err(|e| match e {
        base64::DecodeError::InvalidByte(at, _) => format!("illegal base64 data at input byte {at}"),
        // Go reports an incomplete or badly padded last quantum at its start
        _ => format!("illegal base64 data at input byte {}", crypt64.len().saturating_sub(1) / 4 * 4),
    })?;
    if crypt.len() < 16 {
        return Err(format!("runtime error: slice bounds out of range [:16] with capacity {}", crypt.len()));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let mut decrypted = body.to_vec();
    Dec::new(&aes_key(password).into(), iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut decrypted)
        .map_err(|_| "crypto/cipher: input not full blocks".to_string())?;
    let Some(&last) = decrypted.last() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let end = decrypted.len() as i64 - i64::from(last);
    if end < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{end}]"));
    }
    Ok(String::from_utf8_lossy(&decrypted[..end as usize]).into_owned())
}
