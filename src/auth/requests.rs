//! Authentication state shared by the handlers: settings, the failure limiter and a cache of
//! validated access tokens (so a request costs a hash and a map lookup, not a query).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::auth::ratelimit::FailureLimiter;
use crate::auth::Grant;
use crate::domain::ObjectId;

pub struct AuthSettings {
    /// How long an access token is valid.
    pub token_ttl_secs: i64,
    /// Networks allowed to use the plain `POST /authenticates/api-code` method.
    pub static_ip_networks: Vec<IpNet>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            token_ttl_secs: 60 * 60,
            static_ip_networks: vec![
                "127.0.0.0/8".parse().unwrap_or_else(|_| unreachable!()),
                "::1/128".parse().unwrap_or_else(|_| unreachable!()),
            ],
        }
    }
}

pub struct Auth {
    pub settings: AuthSettings,
    /// Failed attempts per API code and per client address: 10 a minute.
    pub limiter: FailureLimiter,
    /// Failed console sign-ins per email: 5 in 15 minutes.
    pub console_by_email: FailureLimiter,
    /// Failed console sign-ins per client address: 20 in 15 minutes.
    pub console_by_address: FailureLimiter,
    /// Validated tokens: hash → (grant, cached until). Entries live at most
    /// [`TOKEN_CACHE_SECS`], so a revocation on another node takes effect within that time.
    tokens: Mutex<HashMap<String, (Grant, i64)>>,
}

/// How long a validated token is trusted without asking the database again.
pub const TOKEN_CACHE_SECS: i64 = 30;

impl Auth {
    pub fn new(settings: AuthSettings) -> Auth {
        Auth {
            settings,
            limiter: FailureLimiter::new(10, 60),
            console_by_email: FailureLimiter::new(5, 15 * 60),
            console_by_address: FailureLimiter::new(20, 15 * 60),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn cached(&self, hash: &str, now: i64) -> Option<Grant> {
        let map = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(g, until)| g.expires > now && *until > now)
            .map(|(g, _)| g.clone())
    }

    pub fn remember(&self, hash: String, grant: Grant, now: i64) {
        let mut map = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 50_000 {
            map.retain(|_, (g, until)| g.expires > now && *until > now);
        }
        map.insert(hash, (grant, now + TOKEN_CACHE_SECS));
    }

    /// Drops cached tokens bound to a creditor (it was deleted).
    pub fn forget_creditor(&self, creditor: &ObjectId) {
        let mut map = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (g, _)| g.creditor.as_ref() != Some(creditor));
    }

    /// Drops cached tokens of an API user (revoked).
    pub fn forget_user(&self, user: &ObjectId) {
        let mut map = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (g, _)| g.user.as_ref() != Some(user));
    }
}

/// The peer address (no proxy headers are trusted).
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}
