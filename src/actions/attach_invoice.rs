//! Uploading a file (amili-api.md §4.5): stored in the media store, and — for a case's
//! `original_invoice` — attached to the case through its change path. The file is stored
//! before the case is changed and removed again if the change fails, so a failed request
//! leaves neither a reference nor a file; the file it replaces is deleted by a job once the
//! change is committed.

use object_store::ObjectStore;

use super::{parse_case, transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::{self, RuleBook};
use crate::domain::apply::Command;
use crate::domain::case::MediaRef;
use crate::domain::ObjectId;
use crate::resources::CASES;
use crate::store::Tx;

/// A file to store, its type read from its bytes (`crate::media::sniff`).
#[derive(Clone, Debug)]
pub struct Upload {
    /// The name the client gave it.
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Where it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Stored only (`domain` `media--files`), named after the case.
    File(ObjectId),
    /// The case's `original_invoice`.
    OriginalInvoice(ObjectId),
}

/// The stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub content_type: &'static str,
}

/// Stores `file` under `domain` for the case `target` names (within the actor's scope).
pub async fn run(
    app: &App,
    actor: &Actor,
    domain: &str,
    target: Target,
    file: Upload,
) -> Result<Stored, ActionError> {
    let content_type = file.content_type;
    let case = match target {
        Target::File(c) | Target::OriginalInvoice(c) => c,
    };
    if app.store.get(&CASES, &actor.scope, &case).await?.is_none() {
        return Err(ActionError::NotFound("case"));
    }
    let key = format!(
        "{domain}/{case}-{}",
        hex::encode(rand::random::<[u8; 16]>())
    );
    let path = app.media.path(&key);
    let size = file.bytes.len() as i64;
    app.media
        .store
        .put(&path, file.bytes.into())
        .await
        .map_err(|e| crate::store::StoreError::Document(format!("storing the file: {e}")))?;
    if let Target::OriginalInvoice(case) = target {
        let media = MediaRef {
            id: key.clone(),
            filename: file.filename,
            content_type: content_type.into(),
            size,
        };
        let attached = transact(
            &app.store,
            actor,
            &Attach {
                app,
                actor,
                case,
                media,
            },
        )
        .await;
        if let Err(e) = attached {
            if let Err(d) = app.media.store.delete(&path).await {
                tracing::error!(error = %d, "could not remove an upload after a failed update");
            }
            return Err(e);
        }
    }
    Ok(Stored { key, content_type })
}

struct Attach<'a> {
    app: &'a App,
    actor: &'a Actor,
    case: ObjectId,
    media: MediaRef,
}

impl Attempt for Attach<'_> {
    type Output = ();

    async fn run(&self, tx: &mut Tx<'_>) -> Result<(), Failure> {
        let row = tx
            .get(&CASES, &self.actor.scope, &self.case)
            .await?
            .ok_or(ActionError::NotFound("case"))?;
        let case = parse_case(&row)?;
        let now = self.app.clocks.time_in(tx, &case.account).await?.now;
        let cmd = Command::AttachOriginalInvoice(self.media.clone());
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
        cases::write(tx, p, now).await?;
        Ok(())
    }
}
