//! A sandbox account's clock (docs/sandbox.md): moved forward, it runs every flow item and
//! interest posting that falls due on the way before it answers; reset, the account's cases
//! and everything hanging off them are deleted so the clock may again be set to any date.

use super::{transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::flow::{run_account, RunReport};
use crate::clocks::AccountTime;
use crate::domain::{HttpDate, ObjectId};
use crate::jobs::{new_job, DeleteMedia, Priority};
use crate::store::Tx;

pub const BACKWARDS: &str = "the clock of a sandbox account with cases only moves forward; POST /sandbox/reset to start over";

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
pub async fn move_to(
    app: &App,
    actor: &Actor,
    account: ObjectId,
    to: HttpDate,
) -> Result<RunReport, ActionError> {
    transact(&app.store, actor, &Move { app, account, to }).await?;
    app.clocks.forget(&account);
    let run = run_account(&app.store, &app.engine, &account, to, true).await?;
    tracing::info!(account = %account, now = %to, cases = run.cases, items = run.items, "sandbox clock moved");
    Ok(run)
}

struct Move<'a> {
    app: &'a App,
    account: ObjectId,
    to: HttpDate,
}

impl Attempt for Move<'_> {
    type Output = ();

    async fn run(&self, tx: &mut Tx<'_>) -> Result<(), Failure> {
        let moved = tx
            .move_account_clock(&self.account, self.to.unix(), self.app.clocks.real().unix())
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
