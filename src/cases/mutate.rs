//! Read, apply, stamp, replace: the one path a case change takes.

use serde::{Deserialize, Serialize};

use super::{Engine, RuleBook};
use crate::domain::apply::{Applied, Command, Ctx, Effect, LetterOrder, Refusal};
use crate::domain::case::{Case, MediaRef};
use crate::domain::finance::{settlement_lines, PayoutSpecification};
use crate::domain::letter::{CaseLetter, LetterStatus};
use crate::domain::{HttpDate, ObjectId};
use crate::resources::{CASES, CASE_LETTERS, DUE_AT, PAYOUT_SPECIFICATIONS};
use crate::store::{prepare_document, ColumnValue, Replacement, Store, StoreError, StoredDoc, Tx};
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
    /// The case as written (`None` when the writer let it go to save memory: the worker).
    pub case: Option<Case>,
    pub applied: Applied,
    /// Letters the command queued.
    pub letters: Vec<ObjectId>,
    /// Files the case no longer refers to: delete them after the commit.
    pub replaced_files: Vec<MediaRef>,
}

/// A command applied in memory, ready to be written: everything but the database work.
pub struct Prepared {
    /// The case after the command; a caller that only writes may drop it (`None`).
    pub case: Option<Case>,
    pub applied: Applied,
    /// The document to store, `None` when nothing needs writing.
    pub doc: Option<StoredDoc>,
    /// The `_etag` the stored case must still have.
    pub expected_etag: String,
    /// The stored typed column values, when known: only the changed ones are rewritten.
    pub old_columns: Option<Vec<ColumnValue>>,
    /// SQLite: the row's rowid, when known (found without the id index).
    pub rowid: Option<i64>,
    /// The letters the command queued, their documents and outbox jobs.
    letters: Vec<ObjectId>,
    letter_docs: Vec<StoredDoc>,
    jobs: Vec<(String, &'static str, String)>,
    replaced_files: Vec<MediaRef>,
    /// Payout-specification lines the settlement made.
    finance_docs: Vec<StoredDoc>,
    /// What happened, for webhooks (written only for accounts that have one).
    events: Vec<crate::domain::webhook::Event>,
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

/// Applies `cmd` to a case read at `etag` under the given rules, and prepares everything it
/// writes. No I/O: the flow worker runs this on another thread while it writes.
pub fn apply(
    mut case: Case,
    etag: String,
    cmd: Command,
    ctx: &Ctx<'_>,
    engine: &Engine,
) -> Result<Prepared, MutateError> {
    // A run of due items always rewrites `due_at`, even when the document is unchanged.
    let rerun = matches!(cmd, Command::RunDue { .. });
    let ledger_before = case.transactions.len();
    let states_before = case.state_history.len();
    let was_closed = case.closed.is_some();
    let payment = match &cmd {
        Command::CreditorPayment { id, amount, .. } => Some((Some(*id), *amount, "creditor")),
        Command::DebtorPayment { amount, .. } => Some((None, *amount, "debtor")),
        _ => None,
    };
    let applied = case.apply(cmd, ctx).map_err(MutateError::Refused)?;
    let doc = if applied.changed || rerun {
        Some(stored(&case, ctx.now, engine)?)
    } else {
        None
    };
    let mut p = Prepared {
        case: None,
        applied,
        doc,
        expected_etag: etag,
        old_columns: None,
        rowid: None,
        letters: vec![],
        letter_docs: vec![],
        jobs: vec![],
        replaced_files: vec![],
        finance_docs: vec![],
        events: vec![],
    };
    if !rerun {
        for line in settlement_lines(&case, ledger_before) {
            let id = ObjectId::at(ctx.now.unix());
            let spec = PayoutSpecification::new(id, &case, &line, ctx.now);
            p.finance_docs
                .push(prepare_document(&PAYOUT_SPECIFICATIONS, &spec)?);
        }
    }
    let mut events = Vec::new();
    if p.applied.changed {
        events.extend(crate::webhooks::case_events(
            &case,
            states_before,
            was_closed,
            payment,
            ctx.now,
        ));
    }
    for effect in &p.applied.effects {
        match effect {
            Effect::Letter(order) => {
                let letter = CaseLetter {
                    id: ObjectId::at(order.sent.unix()),
                    account: case.account,
                    creditor: case.creditor,
                    case: case.id,
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
                    case: case.id,
                    order: order.clone(),
                };
                let payload =
                    serde_json::to_string(&job).map_err(|e| StoreError::Document(e.to_string()))?;
                p.jobs.push((case.account.to_hex(), LETTER_JOB, payload));
                p.letter_docs
                    .push(prepare_document(&CASE_LETTERS, &letter)?);
                p.letters.push(letter.id);
                events.push(crate::webhooks::letter_event(&case, &letter));
            }
            Effect::ReplacedFile(f) => p.replaced_files.push(f.clone()),
        }
    }
    p.events = events;
    p.case = Some(case);
    Ok(p)
}

/// Applies `cmd` to a case read at `etag`, under the creditor's rules.
pub async fn prepare(
    tx: &mut Tx<'_>,
    book: &mut RuleBook,
    engine: &Engine,
    case: Case,
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
    apply(case, etag, cmd, &ctx, engine)
}

/// Writes prepared changes and their effects: each case replaced if it still has the
/// `_etag` it was read with (else [`MutateError::Conflict`], and the caller's transaction
/// must not be committed), then every letter and outbox job in one statement each, and the
/// events of accounts that have webhooks.
pub async fn write_all(
    tx: &mut Tx<'_>,
    prepared: Vec<Prepared>,
    now: HttpDate,
) -> Result<Vec<Outcome>, MutateError> {
    let mut docs = Vec::new();
    let mut jobs = Vec::new();
    let mut finance = Vec::new();
    let mut events = Vec::new();
    let mut replacements = Vec::with_capacity(prepared.len());
    let mut outcomes = Vec::with_capacity(prepared.len());
    for p in prepared {
        if let Some(doc) = p.doc {
            replacements.push(Replacement {
                doc,
                expected_etag: p.expected_etag,
                old_columns: p.old_columns,
                rowid: p.rowid,
            });
        }
        docs.extend(p.letter_docs);
        jobs.extend(p.jobs);
        finance.extend(p.finance_docs);
        events.extend(p.events);
        outcomes.push(Outcome {
            case: p.case,
            applied: p.applied,
            letters: p.letters,
            replaced_files: p.replaced_files,
        });
    }
    if !tx.replace_many(&CASES, replacements).await? {
        return Err(MutateError::Conflict);
    }
    tx.insert(&CASE_LETTERS, docs).await?;
    tx.insert(&PAYOUT_SPECIFICATIONS, finance).await?;
    tx.enqueue(&jobs, now.unix()).await?;
    crate::webhooks::enqueue(tx, &events, now).await?;
    Ok(outcomes)
}

/// Writes one prepared change and its effects.
pub async fn write(tx: &mut Tx<'_>, p: Prepared, now: HttpDate) -> Result<Outcome, MutateError> {
    write_all(tx, vec![p], now)
        .await?
        .pop()
        .ok_or_else(|| MutateError::Store(StoreError::Document("nothing written".into())))
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

/// How often [`mutate_one`] reads a case again after another writer changed it first.
const CONFLICT_ATTEMPTS: usize = 8;

/// [`mutate`] in a transaction of its own, committed before it returns. When another writer
/// (the worker, a concurrent action) changed the case between the read and the write, the
/// transaction is dropped and the command applied again to the new version.
pub async fn mutate_one(
    store: &Store,
    engine: &Engine,
    scope: &Scope,
    id: &ObjectId,
    now: HttpDate,
    cmd: Command,
) -> Result<Outcome, MutateError> {
    let mut attempt = 1;
    loop {
        let mut tx = store.begin().await?;
        let result = mutate(
            &mut tx,
            &mut RuleBook::new(),
            engine,
            scope,
            id,
            now,
            cmd.clone(),
        )
        .await;
        match result {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(MutateError::Conflict) if attempt < CONFLICT_ATTEMPTS => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}
