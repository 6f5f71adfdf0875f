//! `/authenticates/api-code` (amili-api.md §2): exchange a signed JWT (GET) or, from an
//! allowed network, a plain API code (POST) for an access token.

pub mod get;
pub mod post;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{keys, ApiCredential};
use crate::domain::HttpDate;
use crate::http::error::ApiError;
use crate::http::AppState;

pub const BAD_CREDENTIALS: &str = "Please provide proper credentials";

pub fn unauthorized() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS)
}

pub fn rate_limited() -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded")
}

/// Issues a new access token for `cred`: 256 random bits, stored only as a hash.
pub async fn issue(state: &AppState, cred: &ApiCredential) -> Result<Response, ApiError> {
    let now = state.app.clocks.real().unix();
    let token = keys::random_token();
    let expires = now + state.auth.settings.token_ttl_secs;
    state
        .app
        .store
        .insert_token(
            &keys::token_hash(&token),
            &cred.api_code,
            &cred.stored(),
            expires,
            now,
        )
        .await?;
    let expires = HttpDate::from_unix(expires)
        .unwrap_or(HttpDate::EPOCH)
        .to_string();
    tracing::info!(user = %cred.user, account = %cred.account, "access token issued");
    Ok(axum::Json(json!({"_status": "OK", "token": token, "expires": expires})).into_response())
}
