//! `GET /cases`: the seeds' open-cases and closed-since queries (seed 003).

use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::CASES;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &CASES, &scope, query.as_deref()).await
}
