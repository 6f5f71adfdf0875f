//! The audit trail: every document written is recorded with who wrote it, when, and what
//! (resource, id, action), in the transaction of the write (see `store::Tx::commit`): one
//! event per account and actor per transaction, listing its writes. Read at
//! `GET /audit--events` (an account sees its own) and with `indriva audit`.
//!
//! Who is the *actor* of the running task: each HTTP request runs in a scope that knows its
//! request id and, once its token is checked, the API user or operator; the flow worker, the
//! webhook sender and every command run in their own scopes. Writes made for someone else in a
//! shared transaction (the registrar's batches) are attributed item by item.
//! The events hold ids only: no names, identity numbers, tokens or secrets.

use std::future::Future;
use std::sync::{Arc, Mutex};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{HttpDate, ObjectId};

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    /// `api_user` (a token of an account), `operator` (a token of the agency's account),
    /// `console_operator` (a person signed in at `/console`),
    /// `anonymous` (a request before or without a token, e.g. authentication), `cli`,
    /// `worker` (the flow worker and webhook sender) or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The API user (`/users` id) whose token was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<ObjectId>,
    /// The account the actor acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<ObjectId>,
    /// The command (`indriva admin user create`, `indriva import bgmax`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The request's `X-Request-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A console operator's email (`type` `console_operator`; `user` is the operator's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Actor {
    fn of(kind: &str) -> Actor {
        Actor {
            kind: kind.into(),
            user: None,
            account: None,
            command: None,
            request_id: None,
            email: None,
        }
    }
    pub fn system() -> Actor {
        Actor::of("system")
    }
    pub fn worker() -> Actor {
        Actor::of("worker")
    }
    pub fn request(request_id: &str) -> Actor {
        Actor {
            request_id: Some(request_id.to_string()),
            ..Actor::of("anonymous")
        }
    }
    /// A person signed in at `/console`, acting in `account`.
    pub fn console_operator(account: ObjectId, operator: ObjectId, email: &str) -> Actor {
        Actor {
            account: Some(account),
            user: Some(operator),
            email: Some(email.to_string()),
            ..Actor::of("console_operator")
        }
    }
    pub fn command(command: &str) -> Actor {
        Actor {
            command: Some(command.to_string()),
            ..Actor::of("cli")
        }
    }
}

/// One audit event as served: what one actor wrote in one account in one transaction (a
/// request, a flow-worker batch, a command).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AuditEvent {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The account whose data was written.
    pub account: String,
    pub actor: Actor,
    /// Every document written, in order.
    pub writes: Vec<Write>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// One document written.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Write {
    /// The resource (`cases`, `creditor--payments`, …).
    pub resource: String,
    /// The document's `_id` (for a sandbox reset or clock move, the account's).
    pub item: ObjectId,
    /// `create`, `update`, `create_or_update`, `delete`, `sandbox_clock_moved` or
    /// `sandbox_reset`.
    pub action: String,
}

/// A write waiting for its transaction to commit.
#[derive(Clone, Debug)]
pub struct Pending {
    pub account: String,
    pub resource: &'static str,
    pub item: String,
    pub action: &'static str,
    /// `None`: the actor of the task that commits.
    pub actor: Option<Actor>,
}

tokio::task_local! {
    static CURRENT: Arc<Mutex<Actor>>;
}

/// Runs `f` with `actor` as the one its writes are attributed to.
pub async fn scope<F: Future>(actor: Actor, f: F) -> F::Output {
    CURRENT.scope(Arc::new(Mutex::new(actor)), f).await
}

/// The actor of the running task (`system` outside any scope).
pub fn current() -> Actor {
    CURRENT
        .try_with(|a| {
            a.lock()
                .map(|a| a.clone())
                .unwrap_or_else(|_| Actor::system())
        })
        .unwrap_or_else(|_| Actor::system())
}

/// Records, for the rest of the task's scope, who is acting (`kind`: `api_user`,
/// `operator`, `console_operator`), for which account, as which user (and a console
/// operator's email).
pub fn identify(kind: &str, account: ObjectId, user: Option<ObjectId>, email: Option<&str>) {
    let _ = CURRENT.try_with(|a| {
        if let Ok(mut a) = a.lock() {
            a.kind = kind.into();
            a.account = Some(account);
            a.user = user;
            if let Some(e) = email {
                a.email = Some(e.to_string());
            }
        }
    });
}
