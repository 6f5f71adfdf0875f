//! A respite (anstånd, amili-api.md §4.9): the case's next flow item is postponed by 1–30
//! days, within the limits its creditor's policy sets (respites per case and per state, days
//! per respite). Stored as a `/case--respites` document in the same transaction.

use serde_json::json;

use super::{parse_case, refusal_issues, transact, ActionError, Actor, Answer, Attempt, Failure};
use crate::app::App;
use crate::cases::{self, MutateError, RuleBook};
use crate::domain::action::{reasons, ActionStatus, CaseRespite};
use crate::domain::apply::Command;
use crate::domain::{HttpDate, ObjectId};
use crate::resources::{CASES, CASE_RESPITES};
use crate::store::{prepare_document, StoreError, Tx};

/// A respite asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Input {
    pub case: ObjectId,
    pub days: i64,
}

/// The respite as stored, and the 201 answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub respite: CaseRespite,
    pub answer: Answer,
}

/// Gives the respite. A case outside the actor's scope is [`ActionError::NotFound`]; one
/// the creditor's limits refuse (or with nothing to postpone) is an issue on `days`.
pub async fn run(app: &App, actor: &Actor, input: Input) -> Result<Outcome, ActionError> {
    let account = actor.own_account()?;
    let now = app.clocks.now(&app.store, &account).await?;
    transact(
        &app.store,
        actor,
        &Give {
            app,
            actor,
            account,
            input,
            now,
        },
    )
    .await
}

struct Give<'a> {
    app: &'a App,
    actor: &'a Actor,
    account: ObjectId,
    input: Input,
    now: HttpDate,
}

impl Attempt for Give<'_> {
    type Output = Outcome;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Outcome, Failure> {
        let now = self.now;
        let row = tx
            .get(&CASES, &self.actor.scope, &self.input.case)
            .await?
            .ok_or(ActionError::NotFound("case"))?;
        let case = parse_case(&row)?;
        let before = case.next_flow_item.clone();
        let cmd = Command::Respite {
            days: self.input.days,
        };
        let p = match cases::prepare(
            tx,
            &mut RuleBook::new(),
            &self.app.engine,
            case,
            row.etag,
            now,
            cmd,
        )
        .await
        {
            Ok(p) => p,
            Err(MutateError::Refused(refusal)) => {
                return Err(ActionError::Invalid(refusal_issues("days", &refusal)).into())
            }
            Err(e) => return Err(e.into()),
        };
        let case = p
            .case
            .as_ref()
            .ok_or_else(|| StoreError::Document("a respite without its case".into()))?;
        let (Some(before), Some(after)) = (before, case.next_flow_item.clone()) else {
            return Err(StoreError::Document("a respite without a flow item".into()).into());
        };
        let respite = CaseRespite {
            id: ObjectId::at(now.unix()),
            account: self.account,
            creditor: case.creditor,
            case: case.id,
            days: self.input.days,
            origin: "creditor_system".into(),
            item: before.item.clone(),
            schedule_before: before.schedule_to_execute,
            schedule_after: after.schedule_to_execute,
            status: ActionStatus::Completed,
            status_reason_locale: reasons::COMPLETED.into(),
            case_invoice_number: case.debt.invoice_number.clone(),
            case_reference_number: case.reference_number.clone(),
            created: now,
            updated: now,
            etag: String::new(),
        };
        cases::write(tx, p, now).await?;
        let stored = prepare_document(&CASE_RESPITES, &respite)?;
        let answer = Answer {
            status: 201,
            body: json!({
                "_updated": now.to_string(),
                "_created": now.to_string(),
                "_etag": stored.etag,
                "_id": respite.id.to_hex(),
                "_status": "OK",
                "_respite_status": ActionStatus::Completed,
            })
            .to_string(),
        };
        let respite = CaseRespite {
            etag: stored.etag.clone(),
            ..respite
        };
        tx.insert(&CASE_RESPITES, vec![stored]).await?;
        Ok(Outcome { respite, answer })
    }
}
