//! A sandbox account's clock (docs/sandbox.md): moved forward, it runs every flow item and
//! interest posting that falls due on the way before it answers; reset, the account's cases
//! and everything hanging off them are deleted so the clock may again be set to any date.

use super::{transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::flow::{run_account, RunReport};
use crate::clocks::AccountTime;
use crate::domain::{HttpDate, ObjectId};
use crate::jobs::{new_job, DeleteMedia, Job, Priority, RenderLetter};
use crate::store::Tx;

pub const BACKWARDS: &str = "the clock of a sandbox account with cases only moves forward; POST /sandbox/reset to start over";

/// How far one move may take the clock of a sandbox account with cases: ten years and a
/// day (a company's claim's limitation period, with the day it ends), so a call's work is
/// bounded. Longer is a 422; move in steps.
pub const MAX_MOVE_DAYS: i64 = 3653;

/// Letters of a sandbox account that may wait to be typeset before its clock refuses to move
/// (409, try again): what moves queue is rendered before more is queued.
pub const MAX_LETTERS_WAITING: i64 = 10_000;

/// The account whose clock the actor may use: its own, if it is a sandbox.
pub async fn sandbox_account(app: &App, actor: &Actor) -> Result<ObjectId, ActionError> {
    let account = actor.own_account()?;
    let t = app.clocks.time(&app.store, &account).await?;
    if !t.sandbox {
        return Err(ActionError::NotFound("sandbox clock"));
    }
    Ok(account)
}

/// The account's time.
pub async fn read(app: &App, account: &ObjectId) -> Result<AccountTime, ActionError> {
    Ok(app.clocks.time(&app.store, account).await?)
}

/// Sets `account`'s clock to `to` and runs everything that falls due up to then, each item
/// at its own time. A clock with cases behind it does not go back: an issue on `now`.
///
/// The work is bounded: at most [`MAX_MOVE_DAYS`] per move, none while more than
/// [`MAX_LETTERS_WAITING`] letters wait to be typeset. The clock is stored with a note that
/// its cases are still to be run to it; the note is cleared when the run ends, and a run a
/// crash cut short is finished by the worker ([`finish_interrupted_moves`]).
pub async fn move_to(
    app: &App,
    actor: &Actor,
    account: ObjectId,
    to: HttpDate,
) -> Result<RunReport, ActionError> {
    let waiting = app
        .store
        .count_jobs(Some(&account.to_hex()), Some(RenderLetter::NAME))
        .await?;
    if waiting > MAX_LETTERS_WAITING {
        return Err(ActionError::Busy(format!(
            "{waiting} letters of this account are still being typeset; move the clock again \
             when no more than {MAX_LETTERS_WAITING} wait"
        )));
    }
    transact(&app.store, actor, &Move { app, account, to }).await?;
    app.clocks.forget(&account);
    let run = run_to(app, &account, to).await?;
    tracing::info!(account = %account, now = %to, cases = run.cases, items = run.items, "sandbox clock moved");
    Ok(run)
}

/// Runs the account's cases to `to` and notes that the move is finished.
async fn run_to(app: &App, account: &ObjectId, to: HttpDate) -> Result<RunReport, ActionError> {
    let run = run_account(&app.store, &app.engine, account, to, true).await?;
    app.store.finished_run(account, to.unix()).await?;
    Ok(run)
}

/// How long a move's run is left to the request that made it before the worker finishes it.
pub const UNFINISHED_AFTER_SECS: i64 = 300;

/// Finishes the clock moves whose runs did not end (the server stopped mid-run): each
/// account's cases are run to the time its clock was moved to. The worker calls this when
/// it starts (`all`: every unfinished move) and then at every turn for moves made more than
/// [`UNFINISHED_AFTER_SECS`] ago. A move still running on another request is harmless to run
/// beside: a case is claimed by one run at a time, and running it twice does nothing the
/// second time.
pub async fn finish_interrupted_moves(app: &App, all: bool) -> Result<RunReport, ActionError> {
    let mut total = RunReport::default();
    let made_by = if all {
        i64::MAX
    } else {
        app.clocks.real().unix() - UNFINISHED_AFTER_SECS
    };
    for (account, until) in app.store.unfinished_runs(made_by).await? {
        let Some(until) = HttpDate::from_unix(until) else {
            continue;
        };
        let run = run_to(app, &account, until).await?;
        if run.cases > 0 {
            tracing::info!(account = %account, now = %until, cases = run.cases, "finished an interrupted sandbox clock move");
        }
        total.add(&run);
    }
    Ok(total)
}

struct Move<'a> {
    app: &'a App,
    account: ObjectId,
    to: HttpDate,
}

impl Attempt for Move<'_> {
    type Output = ();

    async fn run(&self, tx: &mut Tx<'_>) -> Result<(), Failure> {
        let real = self.app.clocks.real().unix();
        let from = tx
            .account_clock(&self.account)
            .await?
            .and_then(|c| c.now)
            .unwrap_or(real);
        if self.to.unix() - from > MAX_MOVE_DAYS * 86_400
            && tx.account_has_cases(&self.account).await?
        {
            return Err(ActionError::invalid(
                "now",
                format!(
                    "a move takes the clock of a sandbox account with cases at most {MAX_MOVE_DAYS} days (ten years) ahead of its time ({}); move it in steps",
                    HttpDate::from_unix(from).map_or_else(String::new, |d| d.to_string())
                ),
            )
            .into());
        }
        let moved = tx
            .move_account_clock(&self.account, self.to.unix(), real)
            .await?;
        if moved {
            Ok(())
        } else {
            Err(ActionError::invalid("now", BACKWARDS).into())
        }
    }
}

/// What a reset deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reset {
    pub cases: u64,
    /// Letters' PDFs and uploaded invoices, deleted by jobs after the commit.
    pub files: usize,
}

/// Deletes the sandbox account's cases and everything hanging off them (registrations, OCR
/// references, letters and their files, uploaded invoices, customers, actions, payout lines,
/// waiting jobs, idempotency keys). Creditors, users and credentials stay. Only an
/// account-wide API user may.
pub async fn reset(app: &App, actor: &Actor, account: ObjectId) -> Result<Reset, ActionError> {
    if actor.scope.creditors.is_some() {
        return Err(ActionError::Forbidden(
            "only an account-wide API user may reset the sandbox".into(),
        ));
    }
    let reset = transact(&app.store, actor, &Wipe { app, account }).await?;
    app.clocks.forget(&account);
    Ok(reset)
}

struct Wipe<'a> {
    app: &'a App,
    account: ObjectId,
}

impl Attempt for Wipe<'_> {
    type Output = Reset;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Reset, Failure> {
        let files = tx.account_media_keys(&self.account).await?;
        let cases = tx.delete_account_cases(&self.account).await?;
        let jobs = files
            .iter()
            .map(|key| new_job(&DeleteMedia { key: key.clone() }, Priority::Now))
            .collect::<Result<Vec<_>, _>>()?;
        crate::jobs::enqueue(tx, &jobs, self.app.clocks.real().unix()).await?;
        Ok(Reset {
            cases,
            files: files.len(),
        })
    }
}
