//! A letter has been typeset and sent: it is marked `rendered` with its PDF, and the
//! limitation break its sending makes (preskriptionslag (1981:130) 5 § 2: the debtor gets a
//! written demand) is recorded on the case, in the transaction that removes its job. A letter
//! that never got this far broke nothing.

use super::{transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::{self, MutateError, RuleBook};
use crate::domain::apply::Command;
use crate::domain::case::MediaRef;
use crate::domain::letter::{CaseLetter, LetterStatus};
use crate::jobs::{new_job, DeleteMedia, Priority, RenderLetter, Run};
use crate::resources::CASE_LETTERS;
use crate::scope::Scope;
use crate::store::{prepare_document, StoreError, Tx};

/// Records that `job`'s letter was typeset into `file`, and finishes the job.
pub async fn rendered(
    app: &App,
    job: &RenderLetter,
    file: Option<MediaRef>,
    run: &Run,
) -> Result<(), ActionError> {
    let actor = Actor::agency(crate::audit::Actor::worker());
    transact(
        &app.store,
        &actor,
        &Rendered {
            app,
            job,
            file,
            run,
        },
    )
    .await
}

struct Rendered<'a> {
    app: &'a App,
    job: &'a RenderLetter,
    file: Option<MediaRef>,
    run: &'a Run,
}

impl Attempt for Rendered<'_> {
    type Output = ();

    async fn run(&self, tx: &mut Tx<'_>) -> Result<(), Failure> {
        let all = Scope::unrestricted();
        // No file: the case is gone (a sandbox reset), and nothing was sent.
        if let Some(file) = &self.file {
            if let Some(row) = tx.get(&CASE_LETTERS, &all, &self.job.letter).await? {
                let mut letter: CaseLetter = serde_json::from_str(&row.doc)
                    .map_err(|e| StoreError::Document(e.to_string()))?;
                let now = self.app.clocks.time_in(tx, &letter.account).await?.now;
                letter.status = LetterStatus::Rendered;
                letter.file = Some(file.clone());
                letter.updated = now.max(letter.updated);
                tx.replace(
                    &CASE_LETTERS,
                    prepare_document(&CASE_LETTERS, &letter)?,
                    &row.etag,
                )
                .await?;
                if let Some(annotation) = &self.job.order.interrupts {
                    let sent = Command::LetterSent {
                        sent: self.job.order.sent,
                        annotation: annotation.clone(),
                    };
                    let book = &mut RuleBook::new();
                    let engine = &self.app.engine;
                    match cases::mutate(tx, book, engine, &all, &self.job.case, now, sent).await {
                        Ok(_) | Err(MutateError::NotFound) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            } else {
                // The letter went while it was typeset (a sandbox reset): its file, with the
                // debtor's name on it, must not stay behind.
                let job = new_job(
                    &DeleteMedia {
                        key: file.id.clone(),
                    },
                    Priority::Now,
                )?;
                crate::jobs::enqueue(tx, &[job], self.app.clocks.real().unix()).await?;
            }
        }
        self.run.finish_in(tx).await?;
        Ok(())
    }
}
