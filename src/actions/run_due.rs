//! Bringing one case up to date: the flow items and interest postings due on its account's
//! clock are run now rather than when the worker gets to it (a case read while due is served
//! with today's interest). The worker does the same for every due case in bulk
//! ([`crate::cases::flow`]).

use super::{parse_case, transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::flow::{run_account, RunReport};
use crate::cases::{self, RuleBook};
use crate::clocks::AccountTime;
use crate::domain::apply::Command;
use crate::domain::ObjectId;
use crate::resources::CASES;
use crate::store::Tx;

/// Runs what is due on case `id` by `time` (its account's time: a set sandbox clock runs
/// each item at its own time). Whether the case changed.
pub async fn run(
    app: &App,
    actor: &Actor,
    id: ObjectId,
    time: AccountTime,
) -> Result<bool, ActionError> {
    transact(
        &app.store,
        actor,
        &RunDue {
            app,
            actor,
            id,
            time,
        },
    )
    .await
}

struct RunDue<'a> {
    app: &'a App,
    actor: &'a Actor,
    id: ObjectId,
    time: AccountTime,
}

impl Attempt for RunDue<'_> {
    type Output = bool;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<bool, Failure> {
        let row = tx
            .get(&CASES, &self.actor.scope, &self.id)
            .await?
            .ok_or(ActionError::NotFound("case"))?;
        let case = parse_case(&row)?;
        let cmd = Command::RunDue {
            until: self.time.now,
            simulate: self.time.set,
        };
        let p = cases::prepare(
            tx,
            &mut RuleBook::new(),
            &self.app.engine,
            case,
            row.etag,
            self.time.now,
            cmd,
        )
        .await?;
        let changed = p.applied.changed;
        cases::write(tx, p, self.time.now).await?;
        Ok(changed)
    }
}

/// Runs what is due on every case of `account` (`indriva flow run`): by the account's own
/// time, or by `until` — a sandbox account's clock is moved there first (forward only); an
/// account in real time cannot be run ahead of it.
pub async fn account(
    app: &App,
    actor: &Actor,
    account: ObjectId,
    until: Option<crate::domain::HttpDate>,
) -> Result<RunReport, ActionError> {
    actor.require_agency()?;
    let t = app.clocks.time(&app.store, &account).await?;
    match until {
        None => Ok(run_account(&app.store, &app.engine, &account, t.now, t.set).await?),
        Some(u) if t.sandbox => super::clock::move_to(app, actor, account, u).await,
        Some(u) if u > app.clocks.real() => Err(ActionError::invalid(
            "until",
            format!("account {account} lives in real time: it cannot run ahead of now"),
        )),
        Some(u) => Ok(run_account(&app.store, &app.engine, &account, u, false).await?),
    }
}
