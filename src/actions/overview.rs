//! The figures an operator's overview shows: open cases and remaining amounts by state, what
//! was registered, paid and closed in a period — within what the actor may see.

use super::{ActionError, Actor};
use crate::app::App;
use crate::domain::ObjectId;
pub use crate::store::{Overview, StateTotal};

/// The totals within the actor's scope, since `since` and for the month from `month_start`
/// (unix seconds). It reads every open case: cache it.
pub async fn read(
    app: &App,
    actor: &Actor,
    since: i64,
    month_start: i64,
) -> Result<Overview, ActionError> {
    Ok(app
        .store
        .console_overview(&actor.scope, since, month_start)
        .await?)
}

/// The account with the most open cases, if any: where the console's overview opens.
pub async fn busiest_account(app: &App) -> Result<Option<ObjectId>, ActionError> {
    Ok(app.store.busiest_account().await?)
}
