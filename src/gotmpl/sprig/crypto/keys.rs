//! Private keys as Sprig makes, writes and reads them: `genPrivateKey`'s
//! four types, written as `pemBlockForKey` writes them (PKCS#1 for RSA,
//! SEC1 for ECDSA, Sprig's own ASN.1 sequence for DSA, PKCS#8 for
//! Ed25519), and read back by `parsePrivateKeyPEM` (those, and PKCS#8 for
//! any of RSA, ECDSA and Ed25519).
//!
//! Generation: RSA and DSA through RustCrypto (`rsa`, `dsa`), ECDSA and
//! Ed25519 through ring, which also signs. Differences from Go: ECDSA keys
//! on P-224 and P-521 are refused (ring signs with P-256 and P-384 only),
//! as are RSA keys ring cannot sign with (below 2048 or above 4096 bits)
//! when they are used to sign; an EC key must carry its public key (every
//! encoder writes it).

use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};

use super::der::{self, Reader, oid};

/// The elliptic curves we can sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
}

impl Curve {
    fn oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => oid::P256,
            Curve::P384 => oid::P384,
        }
    }

    fn scalar_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    fn from_oid(o: &[u8]) -> Result<Curve, String> {
        match o {
            oid::P256 => Ok(Curve::P256),
            oid::P384 => Ok(Curve::P384),
            _ => Err("x509: unsupported elliptic curve (P-256 and P-384 are)".into()),
        }
    }
}

/// A private key of one of Sprig's types.
#[derive(Clone, Debug)]
pub enum PrivateKey {
    /// PKCS#1 `RSAPrivateKey` DER.
    Rsa(Vec<u8>),
    /// The private scalar and the uncompressed public point.
    Ec {
        curve: Curve,
        private: Vec<u8>,
        public: Vec<u8>,
    },
    Ed25519([u8; 32]),
    /// p, q, g, y, x (big-endian magnitudes).
    Dsa([Vec<u8>; 5]),
}

/// A key able to sign certificates, with its `AlgorithmIdentifier`.
pub struct Signer {
    pub algorithm: Vec<u8>,
    kind: SignerKind,
}

enum SignerKind {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        let failed = |_| "x509: signing failed".to_string();
        match &self.kind {
            SignerKind::Rsa(k) => {
                let mut out = vec![0; k.public().modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &rng, msg, &mut out).map_err(failed)?;
                Ok(out)
            }
            SignerKind::Ec(k) => Ok(k.sign(&rng, msg).map_err(failed)?.as_ref().to_vec()),
            SignerKind::Ed(k) => Ok(k.sign(msg).as_ref().to_vec()),
        }
    }
}

fn rng_error<E>(_: E) -> String {
    "failed to read random bytes".into()
}

impl PrivateKey {
    /// Sprig's `generatePrivateKey` for `typ`; `Err` holds the text Sprig
    /// returns in place of the key.
    pub fn generate(typ: &str) -> Result<PrivateKey, String> {
        let failed = |e: String| format!("failed to generate private key: {e}");
        match typ {
            "" | "rsa" => PrivateKey::generate_rsa(4096).map_err(failed),
            "dsa" => {
                use rand_core::OsRng;
                let components = dsa::Components::generate(&mut OsRng, dsa::KeySize::DSA_2048_256);
                let key = dsa::SigningKey::generate(&mut OsRng, components);
                let vk = key.verifying_key();
                let c = vk.components();
                Ok(PrivateKey::Dsa([c.p(), c.q(), c.g(), vk.y(), key.x()].map(|n: &dsa::BigUint| n.to_bytes_be())))
            }
            "ecdsa" => {
                let doc = EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                    .map_err(|_| failed("ring could not generate the key".into()))?;
                parse_pkcs8(doc.as_ref()).map_err(failed)
            }
            "ed25519" => {
                let mut seed = [0u8; 32];
                ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut seed).map_err(rng_error).map_err(failed)?;
                Ok(PrivateKey::Ed25519(seed))
            }
            _ => Err(format!("Unknown type {typ}")),
        }
    }

    /// A new RSA key with exponent 65537.
    pub fn generate_rsa(bits: usize) -> Result<PrivateKey, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).map_err(|e| e.to_string())?;
        let der = key.to_pkcs1_der().map_err(|e| e.to_string())?;
        Ok(PrivateKey::Rsa(der.as_bytes().to_vec()))
    }

    /// Sprig's `pemBlockForKey`, encoded.
    pub fn pem(&self) -> String {
        match self {
            PrivateKey::Rsa(pkcs1) => der::pem_encode("RSA PRIVATE KEY", pkcs1),
            PrivateKey::Ec { curve, private, public } => {
                // x509.MarshalECPrivateKey: version 1, the scalar padded to
                // the curve's size, the named curve, the public point
                let mut scalar = vec![0; curve.scalar_len().saturating_sub(private.len())];
                scalar.extend_from_slice(private);
                let body = der::seq(&[
                    &der::uint(&[1]),
                    &der::tlv(der::OCTET_STRING, &scalar),
                    &der::tlv(0xa0, &der::oid(curve.oid())),
                    &der::tlv(0xa1, &der::bit_string(public)),
                ]);
                der::pem_encode("EC PRIVATE KEY", &body)
            }
            PrivateKey::Ed25519(seed) => {
                // x509.MarshalPKCS8PrivateKey: version 0, no public key
                let body = der::seq(&[
                    &der::uint(&[0]),
                    &der::seq(&[&der::oid(oid::ED25519)]),
                    &der::tlv(der::OCTET_STRING, &der::tlv(der::OCTET_STRING, seed)),
                ]);
                der::pem_encode("PRIVATE KEY", &body)
            }
            PrivateKey::Dsa(parts) => {
                // Sprig's DSAKeyFormat{Version, P, Q, G, Y, X}
                let mut ints = vec![der::uint(&[0])];
                ints.extend(parts.iter().map(|p| der::uint(p)));
                let refs: Vec<&[u8]> = ints.iter().map(Vec::as_slice).collect();
                der::pem_encode("DSA PRIVATE KEY", &der::seq(&refs))
            }
        }
    }

    /// Sprig's `parsePrivateKeyPEM`, with its messages.
    pub fn parse_pem(text: &str) -> Result<PrivateKey, String> {
        let (label, der) = der::pem_decode(text).ok_or("no PEM data in input")?;
        if label == "PRIVATE KEY" {
            return parse_pkcs8(&der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
        }
        let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {label}"));
        };
        match kind {
            "RSA" => parse_pkcs1(&der).map_err(|e| format!("parsing RSA private key from PEM: {e}")),
            "EC" => parse_sec1(&der, None).map_err(|e| format!("parsing EC private key from PEM: {e}")),
            "DSA" => parse_dsa(&der).map_err(|e| format!("parsing DSA private key from PEM: {e}")),
            _ => Err(format!("invalid private key type {label}")),
        }
    }

    /// The `SubjectPublicKeyInfo` DER and the public key bits in it (the
    /// input of Go's subject key identifier).
    pub fn public_key_info(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let (alg, bits) = match self {
            PrivateKey::Rsa(pkcs1) => {
                let mut r = Reader::new(pkcs1);
                let mut r = Reader::new(r.expect(der::SEQUENCE)?);
                r.uint()?;
                let (n, e) = (r.uint()?, r.uint()?);
                let alg = der::seq(&[&der::oid(oid::RSA_ENCRYPTION), &der::tlv(der::NULL, &[])]);
                (alg, der::seq(&[&der::uint(n), &der::uint(e)]))
            }
            PrivateKey::Ec { curve, public, .. } => {
                (der::seq(&[&der::oid(oid::EC_PUBLIC_KEY), &der::oid(curve.oid())]), public.clone())
            }
            PrivateKey::Ed25519(seed) => {
                let k = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|e| format!("x509: {e}"))?;
                (der::seq(&[&der::oid(oid::ED25519)]), k.public_key().as_ref().to_vec())
            }
            PrivateKey::Dsa(_) => return Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        };
        Ok((der::seq(&[&alg, &der::bit_string(&bits)]), bits))
    }

    /// The key as a certificate signer (Go's `crypto.Signer`, which DSA
    /// keys are not), with the algorithm Go picks for it.
    pub fn signer(&self) -> Result<Signer, String> {
        let rng = SystemRandom::new();
        let rejected = |e: ring::error::KeyRejected| format!("x509: the key cannot sign: {e}");
        Ok(match self {
            PrivateKey::Rsa(pkcs1) => Signer {
                algorithm: der::seq(&[&der::oid(oid::SHA256_WITH_RSA), &der::tlv(der::NULL, &[])]),
                kind: SignerKind::Rsa(RsaKeyPair::from_der(pkcs1).map_err(rejected)?),
            },
            PrivateKey::Ec { curve, private, public } => {
                let (alg, oid) = match curve {
                    Curve::P256 => (&sig::ECDSA_P256_SHA256_ASN1_SIGNING, oid::ECDSA_WITH_SHA256),
                    Curve::P384 => (&sig::ECDSA_P384_SHA384_ASN1_SIGNING, oid::ECDSA_WITH_SHA384),
                };
                let mut scalar = vec![0; curve.scalar_len().saturating_sub(private.len())];
                scalar.extend_from_slice(private);
                let k = EcdsaKeyPair::from_private_key_and_public_key(alg, &scalar, public, &rng).map_err(rejected)?;
                Signer { algorithm: der::seq(&[&der::oid(oid)]), kind: SignerKind::Ec(k) }
            }
            PrivateKey::Ed25519(seed) => Signer {
                algorithm: der::seq(&[&der::oid(oid::ED25519)]),
                kind: SignerKind::Ed(Ed25519KeyPair::from_seed_unchecked(seed).map_err(rejected)?),
            },
            PrivateKey::Dsa(_) => return Err("x509: certificate private key does not implement crypto.Signer".into()),
        })
    }
}

/// `x509.ParsePKCS1PrivateKey` (validated by the `rsa` crate, any size).
fn parse_pkcs1(der: &[u8]) -> Result<PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| format!("x509: {e}"))?;
    Ok(PrivateKey::Rsa(der.to_vec()))
}

/// `x509.ParsePKCS8PrivateKey` for RSA, ECDSA and Ed25519.
fn parse_pkcs8(input: &[u8]) -> Result<PrivateKey, String> {
    let mut r = Reader::new(input);
    let mut r = Reader::new(r.expect(der::SEQUENCE)?);
    r.uint()?;
    let mut alg = Reader::new(r.expect(der::SEQUENCE)?);
    let algorithm = alg.expect(der::OID)?;
    let key = r.expect(der::OCTET_STRING)?;
    match algorithm {
        oid::RSA_ENCRYPTION => parse_pkcs1(key),
        oid::EC_PUBLIC_KEY => {
            let curve = alg.expect(der::OID)?;
            parse_sec1(key, Some(curve))
        }
        oid::ED25519 => {
            let seed = Reader::new(key).expect(der::OCTET_STRING)?;
            let seed: [u8; 32] =
                seed.try_into().map_err(|_| format!("x509: invalid Ed25519 private key length: {}", seed.len()))?;
            Ok(PrivateKey::Ed25519(seed))
        }
        _ => Err("x509: PKCS#8 wrapping contained private key with unknown algorithm".into()),
    }
}

/// `x509.ParseECPrivateKey` (SEC 1), the curve named inside or by PKCS#8.
fn parse_sec1(input: &[u8], outer_curve: Option<&[u8]>) -> Result<PrivateKey, String> {
    let mut r = Reader::new(input);
    let mut r = Reader::new(r.expect(der::SEQUENCE)?);
    let version = r.uint()?;
    if version != [1] {
        return Err(format!("x509: unknown EC private key version {}", version.first().copied().unwrap_or(0)));
    }
    let private = r.expect(der::OCTET_STRING)?.to_vec();
    let inner_curve = r.optional(0xa0)?.map(|b| Reader::new(b).expect(der::OID)).transpose()?;
    let public = r.optional(0xa1)?.map(|b| Reader::new(b).expect(der::BIT_STRING)).transpose()?;
    let curve = Curve::from_oid(inner_curve.or(outer_curve).ok_or("x509: failed to parse EC private key")?)?;
    let public = match public {
        Some([0, rest @ ..]) => rest.to_vec(),
        _ => return Err("x509: an EC private key without its public key is not supported".into()),
    };
    Ok(PrivateKey::Ec { curve, private, public })
}

/// Sprig's `DSAKeyFormat`.
fn parse_dsa(input: &[u8]) -> Result<PrivateKey, String> {
    let mut r = Reader::new(input);
    let mut r = Reader::new(r.expect(der::SEQUENCE)?);
    r.uint()?;
    let mut parts: [Vec<u8>; 5] = Default::default();
    for p in &mut parts {
        *p = r.uint()?.to_vec();
    }
    Ok(PrivateKey::Dsa(parts))
}
