//! Read, apply, stamp, replace: the one path a case change takes.

use serde::{Deserialize, Serialize};

use super::{Engine, RuleBook};
use crate::domain::apply::{Applied, Command, Ctx, Effect, LetterOrder, Refusal};
use crate::domain::case::{Case, MediaRef};
use crate::domain::letter::{CaseLetter, LetterStatus};
use crate::domain::{HttpDate, ObjectId};
use crate::resources::{CASES, CASE_LETTERS, DUE_AT};
use crate::store::{prepare_document, ColumnValue, Store, StoreError, StoredDoc, Tx};
use crate::tenancy::Scope;

/// The outbox job kind that renders a letter.
pub const LETTER_JOB: &str = "letter";

/// A letter job's payload: the letter document to fill in and what the letter says.
#[derive(Debug, Serialize, Deserialize)]
pub struct LetterJob {
    pub letter: ObjectId,
    pub case: ObjectId,
    pub order: LetterOrder,
}

#[derive(Debug, thiserror::Error)]
pub enum MutateError {
    /// No such case in the caller's scope.
    #[error("case not found")]
    NotFound,
    #[error("{0}")]
    Refused(Refusal),
    /// The case changed between read and write (another writer won).
    #[error("the case was changed by someone else")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A case after a command.
#[derive(Debug)]
pub struct Outcome {
    pub case: Case,
    pub applied: Applied,
    /// Letters the command queued.
    pub letters: Vec<ObjectId>,
    /// Files the case no longer refers to: delete them after the commit.
    pub replaced_files: Vec<MediaRef>,
}

/// A command applied in memory, ready to be written.
pub struct Prepared {
    pub case: Case,
    pub applied: Applied,
    /// The document to store, `None` when nothing needs writing.
    pub doc: Option<StoredDoc>,
    /// The `_etag` the stored case must still have.
    pub expected_etag: String,
}

/// The case as stored: its document, `_etag` and typed columns, `due_at` computed from
/// the flow item and the interest (`now` is the account's time).
pub fn stored(case: &Case, now: HttpDate, engine: &Engine) -> Result<StoredDoc, StoreError> {
    let mut doc = prepare_document(&CASES, case)?;
    let due = case.due_at(now, &engine.rates);
    if let Some(i) = CASES.columns.iter().position(|c| c.name == DUE_AT) {
        doc.columns[i] = due.map_or(ColumnValue::Null, |d| ColumnValue::Int(d.unix()));
    }
    Ok(doc)
}

/// Applies `cmd` to a case read at `etag`, under the creditor's rules.
pub async fn prepare(
    tx: &mut Tx<'_>,
    book: &mut RuleBook,
    engine: &Engine,
    mut case: Case,
    etag: String,
    now: HttpDate,
    cmd: Command,
) -> Result<Prepared, MutateError> {
    let (policy, flow) = book.rules(tx, &case.creditor).await?;
    let ctx = Ctx {
        now,
        rates: &engine.rates,
        policy: &policy,
        flow: &flow,
    };
    // A run of due items always rewrites `due_at`, even when the document is unchanged.
    let rerun = matches!(cmd, Command::RunDue { .. });
    let applied = case.apply(cmd, &ctx).map_err(MutateError::Refused)?;
    let doc = if applied.changed || rerun {
        Some(stored(&case, now, engine)?)
    } else {
        None
    };
    Ok(Prepared {
        case,
        applied,
        doc,
        expected_etag: etag,
    })
}

/// Writes a prepared change and its effects.
pub async fn write(tx: &mut Tx<'_>, p: Prepared, now: HttpDate) -> Result<Outcome, MutateError> {
    if let Some(doc) = p.doc {
        if !tx.replace(&CASES, doc, &p.expected_etag).await? {
            return Err(MutateError::Conflict);
        }
    }
    let mut letters = Vec::new();
    let mut docs = Vec::new();
    let mut jobs = Vec::new();
    let mut replaced_files = Vec::new();
    for effect in &p.applied.effects {
        match effect {
            Effect::Letter(order) => {
                let letter = CaseLetter {
                    id: ObjectId::at(order.sent.unix()),
                    account: p.case.account,
                    creditor: p.case.creditor,
                    case: p.case.id,
                    kind: order.kind,
                    sent_date: order.sent,
                    pay_by: order.pay_by,
                    total: order.total,
                    status: LetterStatus::Queued,
                    file: None,
                    created: order.sent,
                    updated: order.sent,
                    etag: String::new(),
                };
                let job = LetterJob {
                    letter: letter.id,
                    case: p.case.id,
                    order: order.clone(),
                };
                let payload =
                    serde_json::to_string(&job).map_err(|e| StoreError::Document(e.to_string()))?;
                jobs.push((p.case.account.to_hex(), LETTER_JOB, payload));
                docs.push(prepare_document(&CASE_LETTERS, &letter)?);
                letters.push(letter.id);
            }
            Effect::ReplacedFile(f) => replaced_files.push(f.clone()),
        }
    }
    tx.insert(&CASE_LETTERS, docs).await?;
    tx.enqueue(&jobs, now.unix()).await?;
    Ok(Outcome {
        case: p.case,
        applied: p.applied,
        letters,
        replaced_files,
    })
}

/// Applies `cmd` to case `id` within `scope`, inside the caller's transaction.
pub async fn mutate(
    tx: &mut Tx<'_>,
    book: &mut RuleBook,
    engine: &Engine,
    scope: &Scope,
    id: &ObjectId,
    now: HttpDate,
    cmd: Command,
) -> Result<Outcome, MutateError> {
    let row = tx
        .get(&CASES, scope, id)
        .await?
        .ok_or(MutateError::NotFound)?;
    let case: Case =
        serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
    let prepared = prepare(tx, book, engine, case, row.etag, now, cmd).await?;
    write(tx, prepared, now).await
}

/// [`mutate`] in a transaction of its own, committed before it returns.
pub async fn mutate_one(
    store: &Store,
    engine: &Engine,
    scope: &Scope,
    id: &ObjectId,
    now: HttpDate,
    cmd: Command,
) -> Result<Outcome, MutateError> {
    let mut tx = store.begin().await?;
    let outcome = mutate(&mut tx, &mut RuleBook::new(), engine, scope, id, now, cmd).await?;
    tx.commit().await?;
    Ok(outcome)
}
