//! `GET /case--registrations`.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::CASE_REGISTRATIONS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &CASE_REGISTRATIONS, &scope, query.as_deref()).await
}
