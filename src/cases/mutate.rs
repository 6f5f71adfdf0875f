//! Read, apply, stamp, replace: the one path a case change takes.

use super::{Engine, RuleBook};
use crate::domain::apply::{Applied, Command, Ctx, Effect, Refusal};
use crate::domain::case::{Case, MediaRef};
use crate::domain::finance::PayoutSpecification;
use crate::domain::letter::{CaseLetter, LetterStatus};
use crate::domain::{HttpDate, ObjectId};
use crate::jobs::{new_job, DeleteMedia, Priority, RenderLetter};
use crate::resources::{CASES, CASE_LETTERS, DUE_AT, PAYOUT_SPECIFICATIONS};
use crate::scope::Scope;
use crate::store::{prepare_document, ColumnValue, NewJob, Replacement, StoreError, StoredDoc, Tx};

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
    /// The `_etag` the stored case must still have; `None` for a case opened by this change
    /// (inserted, not replaced).
    pub expected_etag: Option<String>,
    /// The stored typed column values, when known: only the changed ones are rewritten.
    pub old_columns: Option<Vec<ColumnValue>>,
    /// SQLite: the row's rowid, when known (found without the id index).
    pub rowid: Option<i64>,
    /// What the change's effects become in the database.
    pub writes: EffectWrites,
}

/// What effects become in the database: a letter document (queued) and the job that renders
/// it, a payout-specification line, an event for the webhooks that want it, a job that
/// deletes a file. Filled by [`EffectWrites::add`] from the effects [`Case::apply`]
/// returned; the mapping is one to one, nothing is derived.
#[derive(Default)]
pub struct EffectWrites {
    /// The letters queued (their ids).
    pub letters: Vec<ObjectId>,
    letter_docs: Vec<StoredDoc>,
    jobs: Vec<NewJob>,
    /// Files the case no longer refers to (a job deletes them after the commit).
    pub replaced_files: Vec<MediaRef>,
    finance_docs: Vec<StoredDoc>,
    /// Written only for accounts that have a webhook.
    events: Vec<crate::domain::webhook::Event>,
    /// Backfill: history written after the fact (the seed), whose jobs wait for
    /// everything else.
    backfill: bool,
}

impl EffectWrites {
    /// For history written after the fact (the seed): its letters are rendered after
    /// everything the flow sends now.
    pub fn backfill() -> EffectWrites {
        EffectWrites {
            backfill: true,
            ..EffectWrites::default()
        }
    }

    /// Adds what `effects` (of a change to `case` at `now`) write.
    pub fn add(
        &mut self,
        case: &Case,
        effects: &[Effect],
        now: HttpDate,
    ) -> Result<(), StoreError> {
        for effect in effects {
            match effect {
                Effect::Letter { id, order } => {
                    let letter = CaseLetter {
                        id: *id,
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
                    let job = RenderLetter {
                        letter: letter.id,
                        case: case.id,
                        account: Some(case.account),
                        order: order.clone(),
                    };
                    let priority = if self.backfill {
                        Priority::Backfill
                    } else {
                        Priority::Now
                    };
                    self.jobs.push(new_job(&job, priority)?);
                    self.letter_docs
                        .push(prepare_document(&CASE_LETTERS, &letter)?);
                    self.letters.push(letter.id);
                }
                Effect::Payout(line) => {
                    let spec = PayoutSpecification::new(ObjectId::at(now.unix()), case, line, now);
                    self.finance_docs
                        .push(prepare_document(&PAYOUT_SPECIFICATIONS, &spec)?);
                }
                Effect::Event(event) => self.events.push(event.clone()),
                Effect::ReplacedFile(f) => {
                    self.jobs
                        .push(new_job(&DeleteMedia { key: f.id.clone() }, Priority::Now)?);
                    self.replaced_files.push(f.clone());
                }
                // Recorded on the case itself (`limitation`); nothing else to write.
                Effect::LimitationInterrupted(_) => {}
            }
        }
        Ok(())
    }

    fn append(&mut self, other: EffectWrites) {
        self.letters.extend(other.letters);
        self.letter_docs.extend(other.letter_docs);
        self.jobs.extend(other.jobs);
        self.replaced_files.extend(other.replaced_files);
        self.finance_docs.extend(other.finance_docs);
        self.events.extend(other.events);
    }
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

/// A run to `until` that did nothing and leaves the case still due by `until` would be
/// claimed again at once, and a run that loops on one case never ends: such a case (a fault
/// in the engine; none is known) is logged and put aside for an hour of its account's time.
fn not_due_again(doc: &mut StoredDoc, case: &Case, until: HttpDate, applied: &Applied) {
    let Some(i) = CASES.columns.iter().position(|c| c.name == DUE_AT) else {
        return;
    };
    let stuck = matches!(doc.columns[i], ColumnValue::Int(due) if due <= until.unix());
    if stuck && applied.items_run == 0 && applied.interest_postings == 0 {
        tracing::error!(case = %case.id, until = %until, "a case stays due after a run that did nothing; it is put aside for an hour");
        doc.columns[i] = ColumnValue::Int(until.plus_seconds(3600).unix());
    }
}

/// A case opened (registered, or seeded) with what its life so far wrote: inserted, not
/// replaced.
pub fn opened(
    case: Case,
    writes: EffectWrites,
    now: HttpDate,
    engine: &Engine,
) -> Result<Prepared, StoreError> {
    Ok(Prepared {
        doc: Some(stored(&case, now, engine)?),
        case: Some(case),
        applied: Applied::default(),
        expected_etag: None,
        old_columns: None,
        rowid: None,
        writes,
    })
}

/// Applies `cmd` to a case read at `etag` under the given rules, and prepares everything it
/// writes: the case and what its effects become ([`EffectWrites`]). No I/O: the flow worker
/// runs this on another thread while it writes.
pub fn apply(
    mut case: Case,
    etag: String,
    cmd: Command,
    ctx: &Ctx<'_>,
    engine: &Engine,
) -> Result<Prepared, MutateError> {
    // A run of due items always rewrites `due_at`, even when the document is unchanged.
    let rerun = match cmd {
        Command::RunDue { until, .. } => Some(until),
        _ => None,
    };
    let applied = case.apply(cmd, ctx).map_err(MutateError::Refused)?;
    let doc = if applied.changed || rerun.is_some() {
        let mut doc = stored(&case, ctx.now, engine)?;
        if let Some(until) = rerun {
            not_due_again(&mut doc, &case, until, &applied);
        }
        Some(doc)
    } else {
        None
    };
    let mut writes = EffectWrites::default();
    writes.add(&case, &applied.effects, ctx.now)?;
    Ok(Prepared {
        case: Some(case),
        applied,
        doc,
        expected_etag: Some(etag),
        old_columns: None,
        rowid: None,
        writes,
    })
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
/// must not be committed) or inserted if it is new, then every letter, payout line and job in
/// one statement each, and the events of accounts that have webhooks.
pub async fn write_all(
    tx: &mut Tx<'_>,
    prepared: Vec<Prepared>,
    now: HttpDate,
) -> Result<Vec<Outcome>, MutateError> {
    let mut all = EffectWrites::default();
    let mut new_cases = Vec::new();
    let mut replacements = Vec::with_capacity(prepared.len());
    let mut outcomes = Vec::with_capacity(prepared.len());
    for p in prepared {
        let letters = p.writes.letters.clone();
        let replaced_files = p.writes.replaced_files.clone();
        all.append(p.writes);
        match (p.doc, p.expected_etag) {
            (Some(doc), Some(expected_etag)) => replacements.push(Replacement {
                doc,
                expected_etag,
                old_columns: p.old_columns,
                rowid: p.rowid,
            }),
            (Some(doc), None) => new_cases.push(doc),
            (None, _) => {}
        }
        outcomes.push(Outcome {
            case: p.case,
            applied: p.applied,
            letters,
            replaced_files,
        });
    }
    if !tx.replace_many(&CASES, replacements).await? {
        return Err(MutateError::Conflict);
    }
    tx.insert(&CASES, new_cases).await?;
    tx.insert(&CASE_LETTERS, all.letter_docs).await?;
    tx.insert(&PAYOUT_SPECIFICATIONS, all.finance_docs).await?;
    crate::jobs::enqueue(tx, &all.jobs, now.unix()).await?;
    crate::webhooks::enqueue(tx, &all.events, now).await?;
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
