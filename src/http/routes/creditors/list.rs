//! `GET /creditors`.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::CREDITORS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &CREDITORS, &scope, query.as_deref()).await
}
