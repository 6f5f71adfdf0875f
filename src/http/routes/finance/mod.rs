//! `/finance--payout-specifications` and `/finance--payouts` (amili-api.md §4.10–§4.11, the
//! alpha shape), read-only with the Eve query layer: the lines each settlement made, and the
//! payouts that group them. Drill down with `where={"payout": "<payout id>"}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::eve::Resource;
use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::{PAYOUTS, PAYOUT_SPECIFICATIONS};

async fn list(
    state: AppState,
    scope: RequestScope,
    query: Option<String>,
    res: &Resource,
) -> Result<Response, ApiError> {
    eve::list(&state, res, &scope.0, query.as_deref()).await
}

async fn item(
    state: AppState,
    scope: RequestScope,
    id: String,
    query: Option<String>,
    headers: HeaderMap,
    res: &Resource,
) -> Result<Response, ApiError> {
    eve::item(&state, res, &scope.0, &id, query.as_deref(), &headers).await
}

pub async fn specifications(
    State(state): State<AppState>,
    scope: RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(state, scope, query, &PAYOUT_SPECIFICATIONS).await
}

pub async fn specification(
    State(state): State<AppState>,
    scope: RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    item(state, scope, id, query, headers, &PAYOUT_SPECIFICATIONS).await
}

pub async fn payouts(
    State(state): State<AppState>,
    scope: RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(state, scope, query, &PAYOUTS).await
}

pub async fn payout(
    State(state): State<AppState>,
    scope: RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    item(state, scope, id, query, headers, &PAYOUTS).await
}
