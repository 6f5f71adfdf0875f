//! Authentication (amili-api.md §2): API users sign a short-lived JWT with their private
//! key, exchange it at `/authenticates/api-code` for an access token, and send that token as
//! `X-API-Key` on every other request. The token decides the caller's [`Scope`].

pub mod jwt;
pub mod keys;
pub mod operators;
pub mod ratelimit;
mod requests;

pub use self::requests::{client_ip, Auth, AuthSettings, TOKEN_CACHE_SECS};

use crate::domain::ObjectId;
use crate::scope::Scope;

/// A registered API user's credentials (never served over the API).
#[derive(Clone, Debug)]
pub struct ApiCredential {
    pub api_code: String,
    pub user: ObjectId,
    pub account: ObjectId,
    /// Bound to one creditor's access group, or `None` for the whole account.
    pub creditor: Option<ObjectId>,
    pub algorithm: jwt::Algorithm,
    pub public_key_pem: String,
}

/// What a valid access token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub account: ObjectId,
    pub creditor: Option<ObjectId>,
    pub expires: i64,
    /// The API user the token was issued to (for the audit trail).
    pub user: Option<ObjectId>,
}

impl ApiCredential {
    /// The credential of `api_code` as the store keeps it; `None` if its algorithm is one
    /// this build does not know.
    pub fn from_stored(api_code: &str, c: crate::store::StoredCredential) -> Option<ApiCredential> {
        Some(ApiCredential {
            api_code: api_code.to_string(),
            user: c.user,
            account: c.account,
            creditor: c.creditor,
            algorithm: jwt::Algorithm::parse(&c.algorithm)?,
            public_key_pem: c.public_key_pem,
        })
    }

    /// As the store keeps it.
    pub fn stored(&self) -> crate::store::StoredCredential {
        crate::store::StoredCredential {
            user: self.user,
            account: self.account,
            creditor: self.creditor,
            algorithm: self.algorithm.as_str().to_string(),
            public_key_pem: self.public_key_pem.clone(),
        }
    }
}

impl From<crate::store::StoredToken> for Grant {
    fn from(t: crate::store::StoredToken) -> Grant {
        Grant {
            account: t.account,
            creditor: t.creditor,
            expires: t.expires,
            user: t.user,
        }
    }
}

impl Grant {
    /// Records, for the rest of the request, that this grant's holder acts (the audit
    /// trail's author): a console operator named by `email`, else the token's API user.
    pub fn identify(&self, console_email: Option<&str>) {
        let kind = match (console_email, self.is_operator()) {
            (Some(_), _) => "console_operator",
            (None, true) => "operator",
            (None, false) => "api_user",
        };
        crate::audit::identify(kind, self.account, self.user, console_email);
    }

    pub fn scope(&self) -> Scope {
        if self.is_operator() {
            return Scope::unrestricted();
        }
        Scope {
            account: Some(self.account),
            creditors: self.creditor.map(|c| vec![c]),
        }
    }

    /// An agency operator's grant: bound to no client account, it reads every account and
    /// alone may import bank files and match payments.
    pub fn is_operator(&self) -> bool {
        self.account == crate::domain::bank::AGENCY_ACCOUNT
    }
}

/// A grant the operator console hands to the API in-process, for a signed-in operator. Only
/// code can put an extension on a request, so no client can send one.
#[derive(Clone, Debug)]
pub struct ConsoleGrant {
    pub grant: Grant,
    pub email: String,
}
