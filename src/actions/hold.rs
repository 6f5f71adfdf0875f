//! Holding a case (a dispute, an estate, a bankruptcy: nothing more happens until it is
//! resolved) and resuming it, from where it was. Amili's integrators have no call for this;
//! the agency's operators do it in the console.

use super::{parse_case, transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::{self, RuleBook};
use crate::domain::apply::{Command, Hold};
use crate::domain::case::Case;
use crate::domain::{HttpDate, ObjectId};
use crate::resources::CASES;
use crate::store::{StoreError, Tx};

/// Puts the case on hold (`Some`) or resumes it (`None`); the case as written. A refusal
/// (already on hold, not on hold, closed) is an issue on `case`.
pub async fn run(
    app: &App,
    actor: &Actor,
    case: ObjectId,
    hold: Option<Hold>,
) -> Result<Case, ActionError> {
    transact(
        &app.store,
        actor,
        &Change {
            app,
            actor,
            case,
            hold,
        },
    )
    .await
}

struct Change<'a> {
    app: &'a App,
    actor: &'a Actor,
    case: ObjectId,
    hold: Option<Hold>,
}

impl Attempt for Change<'_> {
    type Output = Case;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Case, Failure> {
        let row = tx
            .get(&CASES, &self.actor.scope, &self.case)
            .await?
            .ok_or(ActionError::NotFound("case"))?;
        let case = parse_case(&row)?;
        let now: HttpDate = self.app.clocks.time_in(tx, &case.account).await?.now;
        let cmd = match self.hold {
            Some(h) => Command::Hold(h),
            None => Command::Resume,
        };
        let p = cases::prepare(
            tx,
            &mut RuleBook::new(),
            &self.app.engine,
            case,
            row.etag,
            now,
            cmd,
        )
        .await?;
        let outcome = cases::write(tx, p, now).await?;
        Ok(outcome
            .case
            .ok_or_else(|| StoreError::Document("a held case vanished".into()))?)
    }
}
