//! `GET /case--letters/{id}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::CASE_LETTERS;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let decorate = super::with_url(&state, &headers);
    eve::item_decorated(
        &state,
        &CASE_LETTERS,
        &scope,
        &id,
        query.as_deref(),
        &headers,
        &decorate,
    )
    .await
}
