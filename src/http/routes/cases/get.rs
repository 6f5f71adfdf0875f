//! `GET /cases/{id}`: one case, with `projection` and conditional GET. A case that is due
//! (its flow item, or interest grown since it was last posted) is brought up to date on its
//! account's clock before it is served, so its amounts always include today's interest
//! even when the worker is behind.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::domain::ObjectId;
use crate::eve::Projection;
use crate::http::error::ApiError;
use crate::http::eve::EveParams;
use crate::http::scope::RequestActor;
use crate::http::{eve, AppState};

pub async fn handler(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let scope = &actor.scope;
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    // A bad projection is a 400 before anything is read.
    Projection::parse(EveParams::parse(query.as_deref()).projection.as_deref())?;
    let (row, due) = state
        .app
        .store
        .get_case_with_due(scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let Some(due) = due else {
        return eve::item_from_row(row, query.as_deref(), &headers);
    };
    // The case's own account: an agency operator's scope names none.
    let account = match scope.account {
        Some(a) => a,
        None => case_account(&row)?,
    };
    let cached = state
        .app
        .clocks
        .time_cached(&state.app.store, &account)
        .await?;
    if due > cached.now.unix() {
        return eve::item_from_row(row, query.as_deref(), &headers);
    }
    // About to write: the account's time as it is now, not as cached (a sandbox clock can
    // have been set back to an earlier date since, after a reset).
    let time = state.app.clocks.time(&state.app.store, &account).await?;
    if due > time.now.unix() {
        return eve::item_from_row(row, query.as_deref(), &headers);
    }
    if let Err(e) = crate::actions::run_due::run(&state.app, &actor, id, time).await {
        // The worker will get to it; serve what is stored.
        tracing::warn!(case = %id, error = %e, "could not bring a case up to date on read");
    }
    let (row, _) = state
        .app
        .store
        .get_case_with_due(scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    eve::item_from_row(row, query.as_deref(), &headers)
}

/// The `account` of a stored case.
fn case_account(row: &crate::store::Row) -> Result<ObjectId, ApiError> {
    #[derive(serde::Deserialize)]
    struct Owner {
        account: ObjectId,
    }
    serde_json::from_str::<Owner>(&row.doc)
        .map(|o| o.account)
        .map_err(ApiError::internal)
}
