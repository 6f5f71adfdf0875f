//! The sandbox clock (the anchor is Stripe's test clocks): an integrator on a sandbox
//! account moves its time forward and watches its cases live through the days in between.
//! `GET`/`POST /sandbox/clock`, and `POST /sandbox/reset` to start over. Accounts that are
//! not sandboxes get 404.

pub mod clock;
pub mod reset;

use crate::domain::ObjectId;
use crate::http::error::{ApiError, MSG_403};
use crate::http::AppState;
use crate::tenancy::Scope;

/// The caller's account, if it is a sandbox (404 otherwise: to an ordinary account these
/// endpoints do not exist).
async fn sandbox_account(state: &AppState, scope: &Scope) -> Result<ObjectId, ApiError> {
    let account = scope.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    if !state.clocks.time(&state.store, &account).await?.sandbox {
        return Err(ApiError::not_found());
    }
    Ok(account)
}
