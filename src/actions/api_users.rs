//! API users an operator makes and revokes for a creditor (the console; `indriva admin
//! api-user` does the same from the command line through [`crate::tenancy`]).

use super::{transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::domain::party::{Creditor, User};
use crate::domain::{HttpDate, ObjectId};
use crate::resources::USERS;
use crate::store::{prepare_document, StoreError, Tx};
use crate::tenancy::{self, ApiKey, NewApiUser};

/// Makes an API user for `creditor` (which must be within the actor's scope), with a new
/// ES256 key pair: the private key is in the outcome, and nowhere else.
pub async fn create(
    app: &App,
    actor: &Actor,
    creditor: &Creditor,
    name: &str,
) -> Result<NewApiUser, ActionError> {
    if !actor.scope.admits(&creditor.account, &creditor.id) {
        return Err(ActionError::NotFound("creditor"));
    }
    let now = app.clocks.now(&app.store, &creditor.account).await?;
    transact(
        &app.store,
        actor,
        &Create {
            creditor,
            name,
            now,
        },
    )
    .await
}

struct Create<'a> {
    creditor: &'a Creditor,
    name: &'a str,
    now: HttpDate,
}

impl Attempt for Create<'_> {
    type Output = NewApiUser;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<NewApiUser, Failure> {
        Ok(tenancy::create_api_user(
            tx,
            self.creditor.account,
            Some(self.creditor),
            self.name,
            ApiKey::Generate,
            self.now,
        )
        .await?)
    }
}

/// Disables an API user and revokes its code and tokens (the caller drops the tokens it
/// has cached). A creditor's operator may revoke only that creditor's users.
pub async fn revoke(app: &App, actor: &Actor, user: ObjectId) -> Result<User, ActionError> {
    transact(&app.store, actor, &Revoke { app, actor, user }).await
}

struct Revoke<'a> {
    app: &'a App,
    actor: &'a Actor,
    user: ObjectId,
}

impl Attempt for Revoke<'_> {
    type Output = User;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<User, Failure> {
        let row = tx
            .get(&USERS, &self.actor.scope, &self.user)
            .await?
            .ok_or(ActionError::NotFound("API user"))?;
        let mut user: User =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        if let Some(mine) = &self.actor.scope.creditors {
            if !user.creditor.is_some_and(|c| mine.contains(&c)) {
                return Err(ActionError::NotFound("API user").into());
            }
        }
        let now = self.app.clocks.time_in(tx, &user.account).await?.now;
        user.is_enabled = false;
        user.updated = now;
        tx.revoke_user_credentials(&user.account, &user.id).await?;
        let doc = prepare_document(&USERS, &user)?;
        user.etag = doc.etag.clone();
        if !tx.replace(&USERS, doc, &row.etag).await? {
            return Err(Failure::Conflict);
        }
        Ok(user)
    }
}
