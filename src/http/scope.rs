//! The caller's scope, extracted once per request. Every query a handler runs is restricted
//! by it in SQL. Until authentication exists every caller is unrestricted; authentication
//! replaces this one extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::eve::sql::Scope;

pub struct RequestScope(pub Scope);

impl<S: Send + Sync> FromRequestParts<S> for RequestScope {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestScope(Scope::unrestricted()))
    }
}
