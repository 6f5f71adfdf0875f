//! Use cases: one module per thing a user or the system does to the data — register a case,
//! report a creditor's payment, crediting or cancellation, give a respite, attach an invoice,
//! import a bank file or match a payment by hand, hold or resume a case, move or reset a
//! sandbox clock, pseudonymise what the law no longer lets us keep, run payouts.
//!
//! Each is a function of the application context ([`App`]), the [`Actor`] and a typed input,
//! returning a typed outcome or an [`ActionError`]. It owns finding what it acts on (a case
//! by id or by invoice number, within the actor's scope), idempotency, the record of the
//! action, and the transaction; a case changes only through [`crate::cases`]. When another
//! writer changed a case between read and write, the whole attempt runs again on the new
//! version: [`transact`] is the one retry loop. HTTP routes, console pages, commands and the
//! worker all call these functions; none of them repeats what one does.
//!
//! [`App`]: crate::app::App

pub mod api_users;
pub mod attach_invoice;
pub mod bank;
pub mod clock;
pub mod creditor_action;
pub mod creditor_rules;
pub mod hold;
pub mod letters;
pub mod notes;
pub mod overview;
pub mod payout_run;
pub mod pseudonymise;
pub mod register;
pub mod respite;
pub mod run_due;

use std::future::Future;

use crate::auth::Grant;
use crate::cases::MutateError;
use crate::domain::case::Case;
use crate::domain::ObjectId;
use crate::eve::filter::{Filter, Val};
use crate::eve::validate::Issues;
use crate::resources::CASES;
use crate::scope::Scope;
pub use crate::store::Idempotency;
use crate::store::{KeyRecord, Row, Store, StoreError, Tx, UsedKey};

/// Who acts: what they may see and change, and who they are in the audit trail.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Every read and write of the action is within it.
    pub scope: Scope,
    /// The account acted for; `None` for the agency acting across accounts (its operators,
    /// the CLI, the worker).
    pub account: Option<ObjectId>,
    /// The agency's own staff or processes: bank files, matching, payout runs.
    pub agency: bool,
    /// Who, for the audit trail.
    pub audit: crate::audit::Actor,
}

impl Actor {
    /// The holder of an access token (an API user or an agency operator) or a console
    /// operator's grant.
    pub fn of_grant(grant: &Grant, audit: crate::audit::Actor) -> Actor {
        let agency = grant.is_operator();
        Actor {
            scope: grant.scope(),
            account: (!agency).then_some(grant.account),
            agency,
            audit,
        }
    }

    /// The agency itself, unrestricted: a command, the worker.
    pub fn agency(audit: crate::audit::Actor) -> Actor {
        Actor {
            scope: Scope::unrestricted(),
            account: None,
            agency: true,
            audit,
        }
    }

    /// The account the action is for: the actor's own, else `ActionError::Forbidden`.
    pub fn own_account(&self) -> Result<ObjectId, ActionError> {
        self.account.ok_or_else(|| {
            ActionError::Forbidden("this action is for an account's API users".into())
        })
    }

    /// Whether the actor is the agency (its operators, commands, the worker).
    pub fn require_agency(&self) -> Result<(), ActionError> {
        if self.agency {
            Ok(())
        } else {
            Err(ActionError::Forbidden(
                "only the agency's operators may do this".into(),
            ))
        }
    }
}

/// Why an action was not done. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// No such thing within the actor's scope (one that exists elsewhere is the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not for this actor.
    #[error("{0}")]
    Forbidden(String),
    /// The input cannot be acted on: what is wrong with which field (Eve's `_issues`).
    #[error("{0}")]
    Invalid(Issues),
    /// What it acts on kept changing under it; the same request can be sent again.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ActionError {
    /// One issue on one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> ActionError {
        let mut issues = Issues::default();
        issues.add(field, message);
        ActionError::Invalid(issues)
    }
}

/// Why one attempt did not complete.
pub(crate) enum Failure {
    /// A case changed between read and write: try again from the read.
    Conflict,
    /// The action is refused (or the store failed): stop.
    Stop(ActionError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Stop(ActionError::Store(e))
    }
}

impl From<ActionError> for Failure {
    fn from(e: ActionError) -> Self {
        Failure::Stop(e)
    }
}

impl From<MutateError> for Failure {
    fn from(e: MutateError) -> Self {
        match e {
            MutateError::Conflict => Failure::Conflict,
            MutateError::Store(e) => Failure::Stop(ActionError::Store(e)),
            MutateError::NotFound => Failure::Stop(ActionError::NotFound("case")),
            MutateError::Refused(r) => {
                Failure::Stop(ActionError::Invalid(refusal_issues("case", &r)))
            }
        }
    }
}

/// A refusal of the domain as an issue on `field`.
pub(crate) fn refusal_issues(field: &str, r: &crate::domain::apply::Refusal) -> Issues {
    let mut issues = Issues::default();
    issues.add(field, r.to_string());
    issues
}

/// One attempt at an action: everything it reads and writes, in the transaction it is given
/// (committed by [`transact`]).
pub(crate) trait Attempt: Sync {
    type Output: Send;
    fn run(&self, tx: &mut Tx<'_>) -> impl Future<Output = Result<Self::Output, Failure>> + Send;
}

/// How often an action is tried when the cases it writes keep changing under it.
const ATTEMPTS: usize = 8;

/// Runs `attempt` in a transaction of its own and commits it, as `actor` (the audit trail's
/// author). When a case it writes was changed by another writer (the worker, a concurrent
/// request) since it was read, the transaction is dropped and the attempt made again on the
/// new version: the one retry loop every action shares.
pub(crate) async fn transact<A: Attempt>(
    store: &Store,
    actor: &Actor,
    attempt: &A,
) -> Result<A::Output, ActionError> {
    for _ in 0..ATTEMPTS {
        let mut tx = store.begin().await?;
        tx.set_actor(actor.audit.clone());
        match attempt.run(&mut tx).await {
            Ok(out) => {
                tx.commit().await?;
                return Ok(out);
            }
            Err(Failure::Conflict) => continue,
            Err(Failure::Stop(e)) => return Err(e),
        }
    }
    Err(ActionError::Busy(
        "what this request changes kept changing while it was applied; send it again".into(),
    ))
}

/// How a request names its case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseRef {
    Id(ObjectId),
    /// The creditor's invoice number (with the creditor the request names).
    InvoiceNumber(String),
}

/// The case `target` names at `creditor`, within `scope`, read in `tx` (and locked there on
/// PostgreSQL). An invoice number that had a closed case before the open one names the open
/// one. Not found: an issue on the field that named it (`case`, `invoice_number`).
pub(crate) async fn find_case(
    tx: &mut Tx<'_>,
    scope: &Scope,
    creditor: &ObjectId,
    target: &CaseRef,
) -> Result<(Row, Case), ActionError> {
    let rows = match target {
        CaseRef::Id(id) => tx
            .get(&CASES, scope, id)
            .await?
            .into_iter()
            .collect::<Vec<_>>(),
        CaseRef::InvoiceNumber(number) => {
            let filter = Filter::And(vec![
                Filter::any_of("creditor", vec![Val::Oid(*creditor)]),
                Filter::any_of("debt.invoice_number", vec![Val::Str(number.clone())]),
            ]);
            tx.find_all(&CASES, scope, &filter, false).await?
        }
    };
    let mut cases = Vec::with_capacity(rows.len());
    for row in rows {
        let case = parse_case(&row)?;
        if case.creditor == *creditor {
            cases.push((row, case));
        }
    }
    if cases.len() > 1 && cases.iter().filter(|(_, c)| c.closed.is_none()).count() == 1 {
        cases.retain(|(_, c)| c.closed.is_none());
    }
    if cases.len() == 1 {
        if let Some(found) = cases.pop() {
            return Ok(found);
        }
    }
    Err(match target {
        CaseRef::Id(id) => ActionError::invalid(
            "case",
            crate::eve::validate::must_exist(&id.to_hex(), "cases"),
        ),
        CaseRef::InvoiceNumber(n) if cases.is_empty() => ActionError::invalid(
            "invoice_number",
            format!("no case of this creditor has invoice number '{n}'"),
        ),
        CaseRef::InvoiceNumber(n) => ActionError::invalid(
            "invoice_number",
            format!(
                "{} cases of this creditor have invoice number '{n}'; name the case by its id",
                cases.len()
            ),
        ),
    })
}

/// A stored case.
pub(crate) fn parse_case(row: &Row) -> Result<Case, StoreError> {
    serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))
}

/// The answer an idempotent action gives: as it was made, or as it was recorded for the
/// same key and request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The JSON body.
    pub body: String,
}

pub use crate::registrar::KEY_REUSED;

/// The recorded answer for `key` in `account`, if any (locked until commit, so two
/// requests with the same key run one after the other). A key used with another request is
/// refused.
pub(crate) async fn recorded_answer(
    tx: &mut Tx<'_>,
    account: &ObjectId,
    key: &Option<Idempotency>,
) -> Result<Option<Answer>, ActionError> {
    let Some(k) = key else { return Ok(None) };
    tx.lock_keys(&[format!("idempotency:{account}:{}", k.key)])
        .await?;
    let used = tx
        .used_idempotency_keys(&[(*account, k.key.clone())])
        .await?;
    match used.get(&(*account, k.key.clone())) {
        Some(u) if u.request_hash != k.request_hash => {
            Err(ActionError::invalid("Idempotency-Key", KEY_REUSED))
        }
        Some(u) => Ok(Some(Answer {
            status: u.status,
            body: u.response.clone(),
        })),
        None => Ok(None),
    }
}

/// Records `answer` for `key` in `account`, in the action's transaction.
pub(crate) async fn record_answer(
    tx: &mut Tx<'_>,
    account: &ObjectId,
    key: &Option<Idempotency>,
    answer: &Answer,
    now: i64,
) -> Result<(), StoreError> {
    let Some(k) = key else { return Ok(()) };
    let used = UsedKey {
        request_hash: k.request_hash.clone(),
        status: answer.status,
        response: answer.body.clone(),
    };
    tx.record_idempotency_keys(&[KeyRecord {
        account,
        key: &k.key,
        used: &used,
        created: now,
    }])
    .await
}
