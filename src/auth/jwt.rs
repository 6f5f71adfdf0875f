//! Verifying the JWT an integrator signs to get an access token (amili-api.md §2.2): claims
//! `api_code` and `exp`, signed with ES256/ES384/ES512 or RS256/RS384/RS512 and checked
//! against the public key registered for that API user. `alg: none`, HMAC and anything else
//! are refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;

/// The signing algorithms Amili documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    ES256,
    ES384,
    ES512,
    RS256,
    RS384,
    RS512,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Algorithm> {
        Some(match s {
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "ES512" => Algorithm::ES512,
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::ES512 => "ES512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
        }
    }
}

/// A registered public key, parsed once.
#[derive(Clone)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token is not a JWT")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("signature does not verify")]
    Signature,
    #[error("the token has no exp claim")]
    NoExpiry,
    #[error("the token has expired")]
    Expired,
    #[error("exp is more than 10 minutes ahead")]
    TooFarAhead,
    #[error("the public key does not fit the algorithm")]
    Key,
}

/// How far the client's clock may be from the server's, either way.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// The longest a JWT may be valid for, plus the clock skew.
pub const MAX_LIFETIME_SECS: i64 = 10 * 60 + CLOCK_SKEW_SECS;

impl PublicKey {
    /// Parses a PEM public key (SubjectPublicKeyInfo, as `openssl ec -pubout` writes) for the
    /// given algorithm; an EC key must be on that algorithm's curve.
    pub fn from_pem(pem: &str, alg: Algorithm) -> Result<PublicKey, JwtError> {
        let pem = pem.trim();
        Ok(match alg {
            Algorithm::ES256 => PublicKey::P256(
                p256::ecdsa::VerifyingKey::from_public_key_pem(pem).map_err(|_| JwtError::Key)?,
            ),
            Algorithm::ES384 => PublicKey::P384(
                p384::ecdsa::VerifyingKey::from_public_key_pem(pem).map_err(|_| JwtError::Key)?,
            ),
            Algorithm::ES512 => {
                let pk = p521::PublicKey::from_public_key_pem(pem).map_err(|_| JwtError::Key)?;
                PublicKey::P521(
                    p521::ecdsa::VerifyingKey::from_affine(*pk.as_affine())
                        .map_err(|_| JwtError::Key)?,
                )
            }
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
                let key = rsa::RsaPublicKey::from_public_key_pem(pem)
                    .or_else(|_| rsa::pkcs1::DecodeRsaPublicKey::from_pkcs1_pem(pem))
                    .map_err(|_| JwtError::Key)?;
                if rsa::traits::PublicKeyParts::size(&key) < 256 {
                    return Err(JwtError::Key); // RSA keys shorter than 2048 bits are refused.
                }
                PublicKey::Rsa(key)
            }
        })
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// The claims Indriva reads.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Claims {
    pub api_code: String,
    #[serde(default)]
    pub exp: Option<f64>,
}

fn part(s: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)
}

/// The `api_code` claim, read *before* the signature is checked, only to find the key.
pub fn unverified_api_code(token: &str) -> Result<String, JwtError> {
    let mut it = token.split('.');
    let (_, payload) = (it.next(), it.next().ok_or(JwtError::Malformed)?);
    let claims: Claims =
        serde_json::from_slice(&part(payload)?).map_err(|_| JwtError::Malformed)?;
    Ok(claims.api_code)
}

/// Verifies signature, algorithm and expiry. `now` is seconds since the epoch.
pub fn verify(token: &str, alg: Algorithm, key: &PublicKey, now: i64) -> Result<Claims, JwtError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(JwtError::Malformed);
    };
    let header: Header = serde_json::from_slice(&part(h)?).map_err(|_| JwtError::Malformed)?;
    if Algorithm::parse(&header.alg) != Some(alg) {
        return Err(JwtError::Algorithm);
    }
    let signing_input = format!("{h}.{p}");
    let sig = part(s)?;
    let msg = signing_input.as_bytes();
    let ok =
        match (alg, key) {
            (Algorithm::ES256, PublicKey::P256(k)) => p256::ecdsa::Signature::from_slice(&sig)
                .is_ok_and(|sig| k.verify(msg, &sig).is_ok()),
            (Algorithm::ES384, PublicKey::P384(k)) => p384::ecdsa::Signature::from_slice(&sig)
                .is_ok_and(|sig| k.verify(msg, &sig).is_ok()),
            (Algorithm::ES512, PublicKey::P521(k)) => p521::ecdsa::Signature::from_slice(&sig)
                .is_ok_and(|sig| k.verify(msg, &sig).is_ok()),
            (Algorithm::RS256, PublicKey::Rsa(k)) => {
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(k.clone());
                rsa::pkcs1v15::Signature::try_from(sig.as_slice())
                    .is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
            (Algorithm::RS384, PublicKey::Rsa(k)) => {
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(k.clone());
                rsa::pkcs1v15::Signature::try_from(sig.as_slice())
                    .is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
            (Algorithm::RS512, PublicKey::Rsa(k)) => {
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(k.clone());
                rsa::pkcs1v15::Signature::try_from(sig.as_slice())
                    .is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
            _ => return Err(JwtError::Key),
        };
    if !ok {
        return Err(JwtError::Signature);
    }
    let claims: Claims = serde_json::from_slice(&part(p)?).map_err(|_| JwtError::Malformed)?;
    let exp = claims.exp.ok_or(JwtError::NoExpiry)?;
    if !exp.is_finite() || exp < (now - CLOCK_SKEW_SECS) as f64 {
        return Err(JwtError::Expired);
    }
    if exp > (now + MAX_LIFETIME_SECS) as f64 {
        return Err(JwtError::TooFarAhead);
    }
    Ok(claims)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ecdsa::signature::Signer;
    use p256::pkcs8::{EncodePublicKey, LineEnding};

    pub fn b64(v: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    fn unsigned(alg: &str, claims: &serde_json::Value) -> String {
        format!(
            "{}.{}",
            b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    }

    /// A signed ES256 token and the public key PEM.
    pub fn es256(claims: &serde_json::Value) -> (String, String) {
        let sk = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let pem = sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let input = unsigned("ES256", claims);
        let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
        (format!("{input}.{}", b64(&sig.to_bytes())), pem)
    }

    const NOW: i64 = 1_800_000_000;

    fn claims(exp: Option<i64>) -> serde_json::Value {
        match exp {
            Some(e) => serde_json::json!({"api_code": "code-1", "exp": e}),
            None => serde_json::json!({"api_code": "code-1"}),
        }
    }

    #[test]
    fn es256_es384_es512_verify() {
        let (t, pem) = es256(&claims(Some(NOW + 600)));
        let key = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
        assert_eq!(
            verify(&t, Algorithm::ES256, &key, NOW).unwrap().api_code,
            "code-1"
        );
        assert_eq!(unverified_api_code(&t).unwrap(), "code-1");

        let sk = p384::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let pem = sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let input = unsigned("ES384", &claims(Some(NOW + 60)));
        let sig: p384::ecdsa::Signature = sk.sign(input.as_bytes());
        let key = PublicKey::from_pem(&pem, Algorithm::ES384).unwrap();
        assert!(verify(
            &format!("{input}.{}", b64(&sig.to_bytes())),
            Algorithm::ES384,
            &key,
            NOW
        )
        .is_ok());

        let sk = p521::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let vk = p521::ecdsa::VerifyingKey::from(&sk);
        let pk = p521::PublicKey::from_affine(*vk.as_affine()).unwrap();
        let pem = pk.to_public_key_pem(LineEnding::LF).unwrap();
        let input = unsigned("ES512", &claims(Some(NOW + 60)));
        let sig: p521::ecdsa::Signature = sk.sign(input.as_bytes());
        let key = PublicKey::from_pem(&pem, Algorithm::ES512).unwrap();
        assert!(verify(
            &format!("{input}.{}", b64(&sig.to_bytes())),
            Algorithm::ES512,
            &key,
            NOW
        )
        .is_ok());
    }

    #[test]
    fn rs256_verifies_and_short_rsa_keys_are_refused() {
        use rsa::pkcs1v15::SigningKey;
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let input = unsigned("RS256", &claims(Some(NOW + 60)));
        let sk = SigningKey::<sha2::Sha256>::new(private);
        let sig = sk.sign(input.as_bytes());
        let key = PublicKey::from_pem(&pem, Algorithm::RS256).unwrap();
        let token = format!(
            "{input}.{}",
            b64(&ecdsa::signature::SignatureEncoding::to_bytes(&sig))
        );
        assert!(verify(&token, Algorithm::RS256, &key, NOW).is_ok());
        // The same token claiming another RSA algorithm does not verify.
        assert_eq!(
            verify(&token, Algorithm::RS512, &key, NOW).unwrap_err(),
            JwtError::Algorithm
        );
        let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let pem = small
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        assert!(PublicKey::from_pem(&pem, Algorithm::RS256).is_err());
    }

    #[test]
    fn refuses_none_wrong_keys_bad_expiry_and_garbage() {
        let (t, pem) = es256(&claims(Some(NOW + 600)));
        let key = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
        // alg: none, with or without a signature
        let none = unsigned("none", &claims(Some(NOW + 600)));
        assert_eq!(
            verify(&format!("{none}."), Algorithm::ES256, &key, NOW).unwrap_err(),
            JwtError::Algorithm
        );
        assert_eq!(
            verify(&none, Algorithm::ES256, &key, NOW).unwrap_err(),
            JwtError::Malformed
        );
        // HS256 signed with the public key as secret (the classic confusion attack)
        let hs = unsigned("HS256", &claims(Some(NOW + 600)));
        assert_eq!(
            verify(&format!("{hs}.AAAA"), Algorithm::ES256, &key, NOW).unwrap_err(),
            JwtError::Algorithm
        );
        // another key
        let (_, other_pem) = es256(&claims(Some(NOW + 600)));
        let other = PublicKey::from_pem(&other_pem, Algorithm::ES256).unwrap();
        assert_eq!(
            verify(&t, Algorithm::ES256, &other, NOW).unwrap_err(),
            JwtError::Signature
        );
        // tampered payload
        let parts: Vec<&str> = t.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64(claims(Some(NOW + 500)).to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(
            verify(&forged, Algorithm::ES256, &key, NOW).unwrap_err(),
            JwtError::Signature
        );
        // expiry rules
        let (t, pem) = es256(&claims(None));
        let k = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
        assert_eq!(
            verify(&t, Algorithm::ES256, &k, NOW).unwrap_err(),
            JwtError::NoExpiry
        );
        // A minute of clock skew: an exp 10 s or 60 s past is still fine, 61 s is not.
        for past in [10, 60] {
            let (t, pem) = es256(&claims(Some(NOW - past)));
            let k = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
            assert!(verify(&t, Algorithm::ES256, &k, NOW).is_ok(), "{past} s");
        }
        let (t, pem) = es256(&claims(Some(NOW - 61)));
        let k = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
        assert_eq!(
            verify(&t, Algorithm::ES256, &k, NOW).unwrap_err(),
            JwtError::Expired
        );
        // At most eleven minutes ahead (ten of lifetime and the minute of skew): +660 s is
        // taken, +661 s is not (docs/security.md).
        let (t, pem) = es256(&claims(Some(NOW + 660)));
        let k = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
        assert!(verify(&t, Algorithm::ES256, &k, NOW).is_ok(), "+660 s");
        for ahead in [661, 3600] {
            let (t, pem) = es256(&claims(Some(NOW + ahead)));
            let k = PublicKey::from_pem(&pem, Algorithm::ES256).unwrap();
            assert_eq!(
                verify(&t, Algorithm::ES256, &k, NOW).unwrap_err(),
                JwtError::TooFarAhead,
                "+{ahead} s"
            );
        }
        for garbage in ["", "a", "a.b", "a.b.c.d", "!!!.###.$$$"] {
            assert!(verify(garbage, Algorithm::ES256, &key, NOW).is_err());
        }
        // a key on the wrong curve for the algorithm
        assert!(PublicKey::from_pem(&pem, Algorithm::ES384).is_err());
        assert!(PublicKey::from_pem("not a key", Algorithm::ES256).is_err());
    }
}
