//! `GET /accounts`.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::ACCOUNTS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &ACCOUNTS, &scope, query.as_deref()).await
}
