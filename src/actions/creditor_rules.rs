//! A creditor's rules as the flow applies them: its policy (fees, interest, allocation,
//! respites, payouts) and the flow configuration it names.

use std::sync::Arc;

use super::{ActionError, Actor};
use crate::app::App;
use crate::cases::RuleBook;
use crate::domain::flow::FlowConfig;
use crate::domain::policy::CreditorPolicy;
use crate::domain::ObjectId;
use crate::resources::CREDITORS;

/// The policy and flow configuration of `creditor`, which must be within the actor's scope.
pub async fn read(
    app: &App,
    actor: &Actor,
    creditor: &ObjectId,
) -> Result<(Arc<CreditorPolicy>, Arc<FlowConfig>), ActionError> {
    if app
        .store
        .get(&CREDITORS, &actor.scope, creditor)
        .await?
        .is_none()
    {
        return Err(ActionError::NotFound("creditor"));
    }
    let mut tx = app.store.begin().await?;
    let rules = RuleBook::new().rules(&mut tx, creditor).await?;
    tx.commit().await?;
    Ok(rules)
}
