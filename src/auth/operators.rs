//! The people who sign in at `/console`: operators with an argon2id password (a PHC string)
//! and sessions stored as the SHA-256 of a random token. The console asks here; the store
//! keeps the rows.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

use super::keys::token_hash;
use crate::domain::ObjectId;
pub use crate::store::{ConsoleOperator, ConsoleSession};
use crate::store::{Store, StoreError};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A random 256-bit token, hex (a session's cookie, its CSRF token).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// An argon2id hash (PHC string) of a new password.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// An argon2id hash of a random password nobody knows.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// How many password checks run at once. Each argon2id check takes about 19 MiB and a core
/// for tens of milliseconds: a flood of sign-ins waits its turn instead of taking the
/// server's memory (issue 23: 256 at once took 2.5 GB).
pub const PASSWORD_CHECKS_AT_ONCE: usize = 2;

static PASSWORD_WORK: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
static CHECKS_IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static MOST_CHECKS_IN_FLIGHT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// The most password checks that ran at once since the process started.
pub fn most_password_checks_at_once() -> usize {
    MOST_CHECKS_IN_FLIGHT.load(std::sync::atomic::Ordering::SeqCst)
}

/// Checks a password against a stored hash; with no operator, against a fixed hash, so an
/// unknown email takes as long as a wrong password. At most [`PASSWORD_CHECKS_AT_ONCE`] run
/// at a time.
async fn verify_password(password: String, hash: Option<String>) -> bool {
    use std::sync::atomic::Ordering;
    let work = PASSWORD_WORK.get_or_init(|| tokio::sync::Semaphore::new(PASSWORD_CHECKS_AT_ONCE));
    let Ok(_permit) = work.acquire().await else {
        return false;
    };
    let now = CHECKS_IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_CHECKS_IN_FLIGHT.fetch_max(now, Ordering::SeqCst);
    let verified = check_hash(password, hash).await;
    CHECKS_IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    verified
}

async fn check_hash(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let hash = match hash {
            Some(h) => h,
            None => DUMMY_HASH
                .get_or_init(|| hash_password(&random_token()).unwrap_or_default())
                .clone(),
        };
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// The operator whose email and password these are, if enabled.
pub async fn check_password(
    store: &Store,
    email: &str,
    password: String,
) -> Result<Option<ConsoleOperator>, StoreError> {
    let found = store.console_operator_by_email(email).await?;
    let verified = verify_password(password, found.as_ref().map(|(_, h)| h.clone())).await;
    Ok(match (found, verified) {
        (Some((op, _)), true) if !op.disabled => Some(op),
        _ => None,
    })
}

/// A new session of `op` until `expires`: its token (for the cookie) and CSRF token.
pub async fn open_session(
    store: &Store,
    op: &ConsoleOperator,
    now: i64,
    expires: i64,
) -> Result<(String, String), StoreError> {
    let token = random_token();
    let csrf = random_token();
    store
        .insert_console_session(&token_hash(&token), &op.id, &csrf, now, expires)
        .await?;
    Ok((token, csrf))
}

/// The live session of a cookie's token (not expired, not idle for `idle_secs`, of an
/// enabled operator), marked as seen.
pub async fn session(
    store: &Store,
    token: &str,
    now: i64,
    idle_secs: i64,
) -> Result<Option<(ConsoleSession, ConsoleOperator, String)>, StoreError> {
    let hash = token_hash(token);
    let Some(session) = store
        .console_session(&hash)
        .await?
        .filter(|s| s.expires > now && now - s.last_seen < idle_secs)
    else {
        return Ok(None);
    };
    let Some(op) = store
        .console_operator(&session.operator)
        .await?
        .filter(|o| !o.disabled)
    else {
        return Ok(None);
    };
    if now - session.last_seen >= 60 {
        store.touch_console_session(&hash, now).await?;
    }
    Ok(Some((session, op, hash)))
}

/// Ends a session (sign-out).
pub async fn close_session(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    store.delete_console_session(token_hash).await
}

/// `indriva admin operator create`: a new operator (email unique, password ≥ 12 characters).
pub async fn create_operator(
    store: &Store,
    email: &str,
    password: &str,
    account: Option<ObjectId>,
    creditor: Option<ObjectId>,
    now: i64,
) -> anyhow::Result<ConsoleOperator> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        anyhow::bail!("--email must be an email address");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        anyhow::bail!("the password must have at least {MIN_PASSWORD_CHARS} characters");
    }
    let op = ConsoleOperator {
        id: ObjectId::at(now),
        email,
        account,
        creditor,
        created: now,
        disabled: false,
    };
    if !store
        .insert_console_operator(&op, &hash_password(password)?)
        .await?
    {
        anyhow::bail!("an operator with the email {} exists already", op.email);
    }
    Ok(op)
}
