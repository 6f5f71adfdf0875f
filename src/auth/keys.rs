//! Key pairs and tokens Indriva generates itself: the sandbox's and `admin api-user create
//! --out`'s ES256 keys, API codes, and access tokens (stored only as SHA-256 hashes).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rand::RngCore;

/// A new P-256 key pair as (private key PKCS#8 PEM, public key SPKI PEM).
pub fn generate_es256() -> Result<(String, String), String> {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let private = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?
        .to_string();
    let public = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| e.to_string())?;
    Ok((private, public))
}

/// 256 random bits, base64url (43 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// An API code: 128 random bits as 32 hex characters.
pub fn random_api_code() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// What is stored for an access token: its SHA-256, hex.
pub use crate::store::token_hash;
