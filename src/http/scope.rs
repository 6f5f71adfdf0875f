//! The caller's scope, from the access token in `X-API-Key` (header name case-insensitive).
//! Every handler that touches data takes a [`RequestScope`], and every query it runs is
//! restricted by it in SQL. Missing, unknown or expired tokens are a 401.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use super::routes::authenticates::unauthorized;
use super::AppState;
use crate::auth::keys::token_hash;
use crate::tenancy::Scope;

pub struct RequestScope(pub Scope);

impl FromRequestParts<AppState> for RequestScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let now = state.clocks.real().unix();
        let hash = token_hash(token.trim());
        if let Some(grant) = state.auth.cached(&hash, now) {
            return Ok(RequestScope(grant.scope()));
        }
        match state.store.token(&hash).await? {
            Some(grant) if grant.expires > now => {
                let scope = grant.scope();
                state.auth.remember(hash, grant, now);
                Ok(RequestScope(scope))
            }
            _ => Err(unauthorized()),
        }
    }
}
