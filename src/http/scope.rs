//! The caller's scope, from the access token in `X-API-Key` (header name case-insensitive).
//! Every handler that touches data takes a [`RequestScope`], and every query it runs is
//! restricted by it in SQL. Missing, unknown or expired tokens are a 401.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use super::routes::authenticates::unauthorized;
use super::AppState;
use crate::auth::keys::token_hash;
use crate::auth::{ConsoleGrant, Grant};
use crate::scope::Scope;

pub struct RequestScope(pub Scope);

impl FromRequestParts<AppState> for RequestScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestScope(grant(parts, state).await?.scope()))
    }
}

/// The caller as a use case sees it ([`crate::actions::Actor`]): its scope and who it is
/// in the audit trail.
pub struct RequestActor(pub crate::actions::Actor);

impl FromRequestParts<AppState> for RequestActor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let grant = grant(parts, state).await?;
        Ok(RequestActor(crate::actions::Actor::of_grant(
            &grant,
            crate::audit::current(),
        )))
    }
}

/// An agency operator (an API user created with `--operator`): the only callers of the
/// agency's own resources (bank files, unmatched payments). Anyone else gets a 403.
pub struct OperatorScope;

impl FromRequestParts<AppState> for OperatorScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if grant(parts, state).await?.is_operator() {
            Ok(OperatorScope)
        } else {
            Err(ApiError::forbidden(
                "only the agency's operators may use this resource",
            ))
        }
    }
}

/// The grant of the request's access token (or of the console's operator).
async fn grant(parts: &Parts, state: &AppState) -> Result<Grant, ApiError> {
    if let Some(c) = parts.extensions.get::<ConsoleGrant>() {
        c.grant.identify(Some(&c.email));
        return Ok(c.grant.clone());
    }
    let token = parts
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let now = state.app.clocks.real().unix();
    let hash = token_hash(token.trim());
    if let Some(grant) = state.auth.cached(&hash, now) {
        grant.identify(None);
        return Ok(grant);
    }
    match state.app.store.token(&hash).await?.map(Grant::from) {
        Some(grant) if grant.expires > now => {
            state.auth.remember(hash, grant.clone(), now);
            grant.identify(None);
            Ok(grant)
        }
        _ => Err(unauthorized()),
    }
}
