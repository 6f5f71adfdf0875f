//! `GET /case--registrations/{id}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::CASE_REGISTRATIONS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(
        &state,
        &CASE_REGISTRATIONS,
        &scope,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}
