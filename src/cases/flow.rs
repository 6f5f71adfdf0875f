//! Running what falls due on cases, in bulk: claims open cases whose next flow item or
//! interest posting is due on their account's clock, applies [`Command::RunDue`] to each
//! through the case path, and writes them in batches.
//!
//! Cases are taken in batches and each batch is one transaction (one fsync on SQLite for
//! many cases): a crash loses at most an uncommitted batch, whose cases are still due and
//! run again. Running a case twice does nothing the second time: only items still due are
//! run, and a case is written only if it still has the `_etag` it was read with.
//!
//! * PostgreSQL: each batch is claimed with `FOR UPDATE SKIP LOCKED`, so workers on several
//!   nodes share the work.
//! * SQLite (one writer): a pipeline. A reader pages through the due cases on a read-only
//!   connection, the engine runs on a blocking thread, and the writer commits batch after
//!   batch, so reading, computing and writing overlap on different cores. A batch that meets
//!   a case changed meanwhile is rolled back whole and its cases are claimed again afterwards.

use tokio::sync::mpsc;

use super::{Engine, MutateError, RuleBook};
use crate::cases;
use crate::clocks::Clocks;
use crate::domain::apply::{Command, Ctx};
use crate::domain::case::Case;
use crate::domain::{HttpDate, ObjectId};
use crate::resources::CASES;
use crate::store::{ColumnValue, Row, Store, StoreError};

/// Cases claimed per transaction.
pub const BATCH: i64 = 256;
/// Cases written between checkpoints on the writer (about 120 MB of WAL).
const CHECKPOINT_EVERY_CASES: i64 = 8192;

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Cases written.
    pub cases: u64,
    /// Flow items run.
    pub items: u64,
    /// Interest lines booked.
    pub interest_postings: u64,
    /// Letters queued.
    pub letters: u64,
}

impl RunReport {
    /// Adds another run's counts.
    pub fn add(&mut self, r: &RunReport) {
        self.cases += r.cases;
        self.items += r.items;
        self.interest_postings += r.interest_postings;
        self.letters += r.letters;
    }

    fn add_case(&mut self, o: &cases::Outcome) {
        self.cases += 1;
        self.items += u64::from(o.applied.items_run);
        self.interest_postings += u64::from(o.applied.interest_postings);
        self.letters += o.letters.len() as u64;
    }

    /// Items and interest postings: the units of work a run did.
    pub fn work(&self) -> u64 {
        self.items + self.interest_postings
    }
}

/// Runs everything due by `until` on one account's cases. With `simulate` (a sandbox clock
/// moved forward) each item runs at its own scheduled time.
pub async fn run_account(
    store: &Store,
    engine: &Engine,
    account: &ObjectId,
    until: HttpDate,
    simulate: bool,
) -> Result<RunReport, StoreError> {
    let mut report = RunReport::default();
    if store.single_writer() {
        merge(
            &mut report,
            pipeline(store, engine, account, until, simulate).await?,
        );
    }
    loop {
        match run_batch(store, engine, account, until, simulate, BATCH).await {
            Ok((0, _)) => return Ok(report),
            Ok((_, r)) => merge(&mut report, r),
            Err(e) => {
                tracing::warn!(error = %e, account = %account, "a flow batch failed; running its cases one by one");
                let (n, r) = run_singly(store, engine, account, until, simulate).await?;
                merge(&mut report, r);
                if n == 0 {
                    return Ok(report);
                }
            }
        }
    }
}

fn merge(total: &mut RunReport, r: RunReport) {
    total.add(&r);
}

/// One transaction: claim up to `limit` due cases, run them, commit. Returns how many were
/// claimed.
async fn run_batch(
    store: &Store,
    engine: &Engine,
    account: &ObjectId,
    until: HttpDate,
    simulate: bool,
    limit: i64,
) -> Result<(usize, RunReport), StoreError> {
    let mut tx = store.begin().await?;
    let rows = tx.claim_due(account, until.unix(), limit).await?;
    let mut report = RunReport::default();
    let mut book = RuleBook::new();
    let mut prepared = Vec::with_capacity(rows.len());
    for (row, columns) in &rows {
        let case: Case = serde_json::from_str(&row.doc)
            .map_err(|e| StoreError::Document(format!("a stored case does not parse: {e}")))?;
        let cmd = Command::RunDue { until, simulate };
        let p = match cases::prepare(
            &mut tx,
            &mut book,
            engine,
            case,
            row.etag.clone(),
            until,
            cmd,
        )
        .await
        {
            Ok(mut p) => {
                p.old_columns = Some(columns.clone());
                p
            }
            Err(MutateError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Document(e.to_string())),
        };
        prepared.push(p);
    }
    match cases::write_all(&mut tx, prepared, until).await {
        Ok(outcomes) => outcomes.iter().for_each(|o| report.add_case(o)),
        Err(MutateError::Store(e)) => return Err(e),
        Err(e) => return Err(StoreError::Document(e.to_string())),
    }
    tx.commit().await?;
    Ok((rows.len(), report))
}

/// One batch of due cases as the SQLite pipeline reads them.
type DueBatch = Vec<(Row, Vec<crate::store::ColumnValue>, i64)>;

/// SQLite: reads, computes and writes in parallel (see the module documentation). Returns
/// what it wrote; cases it could not write stay due for the claimed batches that follow.
async fn pipeline(
    store: &Store,
    engine: &Engine,
    account: &ObjectId,
    until: HttpDate,
    simulate: bool,
) -> Result<RunReport, StoreError> {
    let (rows_tx, mut rows_rx) = mpsc::channel::<DueBatch>(1);
    let (prep_tx, mut prep_rx) = mpsc::channel::<Vec<cases::Prepared>>(1);
    let reader = async move {
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let (page, last) = store
                .due_page(account, until.unix(), after, engine.batch.max(1))
                .await?;
            let Some(last) = last else { break };
            after = last;
            if rows_tx.send(page).await.is_err() {
                break;
            }
        }
        Ok::<_, StoreError>(())
    };
    let creditor_column = CASES
        .columns
        .iter()
        .position(|c| c.name == "creditor")
        .ok_or_else(|| StoreError::Document("cases has no creditor column".into()))?;
    let compute = async move {
        let mut rules = RuleBook::new();
        while let Some(batch) = rows_rx.recv().await {
            // The rules of the batch's creditors (read once per run); everything else, the
            // JSON included, is done on a blocking thread so this task keeps the writer fed.
            let mut jobs = Vec::with_capacity(batch.len());
            for (row, columns, rowid) in batch {
                let creditor = match columns.get(creditor_column) {
                    Some(ColumnValue::Text(c)) => ObjectId::parse(c).map_err(|_| {
                        StoreError::Document(format!("a case's creditor is not an id: {c}"))
                    })?,
                    _ => return Err(StoreError::Document("a case without a creditor".into())),
                };
                let (policy, flow) = match rules.cached(&creditor) {
                    Some(r) => r,
                    None => {
                        let mut tx = store.begin().await?;
                        let r = rules.rules(&mut tx, &creditor).await?;
                        tx.commit().await?;
                        r
                    }
                };
                jobs.push((row, columns, rowid, policy, flow));
            }
            let engine = engine.clone();
            let prepared = tokio::task::spawn_blocking(move || {
                jobs.into_iter()
                    .map(|(row, columns, rowid, policy, flow)| {
                        let case: Case = serde_json::from_str(&row.doc).map_err(|e| {
                            StoreError::Document(format!("a stored case does not parse: {e}"))
                        })?;
                        let ctx = Ctx {
                            now: until,
                            rates: &engine.rates,
                            policy: &policy,
                            flow: &flow,
                        };
                        let cmd = Command::RunDue { until, simulate };
                        let mut p = cases::apply(case, row.etag, cmd, &ctx, &engine)?;
                        p.old_columns = Some(columns);
                        p.rowid = Some(rowid);
                        // What is left to do is writing: the case and the letters' orders
                        // (already in their outbox jobs) need not wait in memory for it.
                        p.case = None;
                        p.applied.effects.clear();
                        Ok(p)
                    })
                    .collect::<Result<Vec<_>, MutateError>>()
            })
            .await
            .map_err(|e| StoreError::Document(format!("the flow engine panicked: {e}")))?
            .map_err(|e| StoreError::Document(e.to_string()))?;
            if prep_tx.send(prepared).await.is_err() {
                break;
            }
        }
        Ok::<_, StoreError>(())
    };
    let writer = async {
        let mut report = RunReport::default();
        let mut since_checkpoint = 0i64;
        while let Some(prepared) = prep_rx.recv().await {
            // Now and then let the WAL be copied back whole, so it starts over instead of
            // growing for the length of the run.
            since_checkpoint += prepared.len() as i64;
            if since_checkpoint >= CHECKPOINT_EVERY_CASES {
                store.checkpoint().await?;
                since_checkpoint = 0;
            }
            let mut tx = store.begin().await?;
            match cases::write_all(&mut tx, prepared, until).await {
                Ok(outcomes) => {
                    tx.commit().await?;
                    outcomes.iter().for_each(|o| report.add_case(o));
                }
                // Rolled back (dropped); the claimed batches pick these cases up.
                Err(MutateError::Conflict) => {}
                Err(MutateError::Store(e)) => return Err(e),
                Err(e) => return Err(StoreError::Document(e.to_string())),
            }
        }
        Ok::<_, StoreError>(report)
    };
    let (read, computed, written) = tokio::join!(reader, compute, writer);
    read?;
    computed?;
    written
}

/// After a failed batch: the due cases one transaction each; a case that fails alone is
/// put aside for an hour (and logged) so it cannot stop the others.
async fn run_singly(
    store: &Store,
    engine: &Engine,
    account: &ObjectId,
    until: HttpDate,
    simulate: bool,
) -> Result<(usize, RunReport), StoreError> {
    let mut tx = store.begin().await?;
    let rows = tx.claim_due(account, until.unix(), BATCH).await?;
    tx.commit().await?;
    let mut report = RunReport::default();
    for (row, _) in &rows {
        let id = serde_json::from_str::<serde_json::Value>(&row.doc)
            .ok()
            .and_then(|v| v["_id"].as_str().and_then(|s| ObjectId::parse(s).ok()));
        let Some(id) = id else { continue };
        let scope = crate::scope::Scope {
            account: Some(*account),
            creditors: None,
        };
        let cmd = Command::RunDue { until, simulate };
        let mut tx = store.begin().await?;
        let result = cases::mutate(
            &mut tx,
            &mut RuleBook::new(),
            engine,
            &scope,
            &id,
            until,
            cmd,
        )
        .await;
        match result {
            Ok(o) => {
                tx.commit().await?;
                report.add_case(&o);
            }
            // Changed meanwhile (by an action): still due, it is run again next time.
            Err(MutateError::Conflict) => {}
            Err(e) => {
                drop(tx);
                tracing::error!(case = %id, error = %e, "a case's flow items failed; it is retried in an hour");
                let mut tx = store.begin().await?;
                tx.postpone_case(&id, until.plus_seconds(3600).unix())
                    .await?;
                tx.commit().await?;
            }
        }
    }
    Ok((rows.len(), report))
}

/// Runs the due cases of every account that lives in real time. A sandbox whose clock has
/// been set is left alone: nothing falls due there until its clock moves, and moving it
/// (`POST /sandbox/clock`, `indriva flow run --until`) runs what falls due.
pub async fn run_all(
    store: &Store,
    engine: &Engine,
    clocks: &Clocks,
) -> Result<RunReport, StoreError> {
    let mut total = RunReport::default();
    let until = clocks.real();
    let mut oldest: Option<i64> = None;
    for (account, stored) in store.account_times().await? {
        // A sandbox clock can have been set since the list was read: then its cases must
        // not be run to real time.
        if stored.is_none()
            && store
                .account_clock(&account)
                .await?
                .is_none_or(|c| c.now.is_none())
        {
            merge(
                &mut total,
                run_account(store, engine, &account, until, false).await?,
            );
            if let Some(due) = store.oldest_due(&account).await? {
                oldest = Some(oldest.map_or(due, |o| o.min(due)));
            }
        }
    }
    // How late the oldest due item of a real-time account is (0 when the worker keeps up).
    let lag = oldest.map_or(0, |due| (until.unix() - due).max(0));
    metrics::gauge!("indriva_flow_lag_seconds").set(lag as f64);
    engine.rate_table_warning(until);
    Ok(total)
}
