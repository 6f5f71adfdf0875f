//! Notes on a case: an operator writes down what happened outside the system (a phone call,
//! a promise to pay). Who wrote what, and when, is kept with the case and in the audit trail;
//! a note is never edited. The case itself does not change.

use super::{parse_case, transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::domain::ObjectId;
use crate::resources::CASES;
use crate::store::Tx;

pub use crate::store::CaseNote;

/// The longest note (characters).
pub const MAX_CHARS: usize = 4000;

/// Who the audit actor is, for the note's author line.
fn author(actor: &Actor) -> String {
    let a = &actor.audit;
    a.email
        .clone()
        .or_else(|| a.command.clone())
        .or_else(|| a.user.map(|u| format!("API user {}", u.to_hex())))
        .unwrap_or_else(|| a.kind.clone())
}

/// Adds a note to a case within the actor's scope; the note as stored.
pub async fn add(
    app: &App,
    actor: &Actor,
    case: ObjectId,
    text: &str,
) -> Result<CaseNote, ActionError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ActionError::invalid("text", "write the note first"));
    }
    if text.chars().count() > MAX_CHARS {
        return Err(ActionError::invalid(
            "text",
            format!("a note holds at most {MAX_CHARS} characters"),
        ));
    }
    transact(
        &app.store,
        actor,
        &Write {
            app,
            actor,
            case,
            text,
        },
    )
    .await
}

/// A case's notes, oldest first (the case must be within the actor's scope).
pub async fn list(app: &App, actor: &Actor, case: ObjectId) -> Result<Vec<CaseNote>, ActionError> {
    let row = app
        .store
        .get(&CASES, &actor.scope, &case)
        .await?
        .ok_or(ActionError::NotFound("case"))?;
    let c = parse_case(&row)?;
    Ok(app.store.case_notes(&c.account, &case).await?)
}

struct Write<'a> {
    app: &'a App,
    actor: &'a Actor,
    case: ObjectId,
    text: &'a str,
}

impl Attempt for Write<'_> {
    type Output = CaseNote;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<CaseNote, Failure> {
        let row = tx
            .get(&CASES, &self.actor.scope, &self.case)
            .await?
            .ok_or(ActionError::NotFound("case"))?;
        let case = parse_case(&row)?;
        // The note is dated as everything on the account is: on its clock.
        let now = self.app.clocks.time_in(tx, &case.account).await?.now;
        let note = CaseNote {
            id: ObjectId::at(now.unix()),
            account: case.account,
            case: case.id,
            author: author(self.actor),
            text: self.text.to_string(),
            created: now.unix(),
        };
        tx.insert_case_note(&note).await?;
        tx.audit(
            &CASES,
            &case.account.to_hex(),
            &case.id.to_hex(),
            "note_added",
        );
        Ok(note)
    }
}
