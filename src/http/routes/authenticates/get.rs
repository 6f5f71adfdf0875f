//! `GET /authenticates/api-code` with `X-API-Key: <JWT>`.

use axum::extract::{Request, State};
use axum::response::Response;

use super::{issue, rate_limited, unauthorized};
use crate::auth::client_ip;
use crate::auth::jwt::{self, PublicKey};
use crate::http::error::ApiError;
use crate::http::AppState;

pub async fn handler(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    let now = state.app.clocks.real().unix();
    let ip_key = format!(
        "ip:{}",
        client_ip(&parts)
            .map(|ip| ip.to_string())
            .unwrap_or_default()
    );
    let limiter = &state.auth.limiter;
    if limiter.blocked(&ip_key, now) {
        return Err(rate_limited());
    }
    let fail = |code: Option<&str>, why: &str| {
        limiter.fail(&ip_key, now);
        if let Some(code) = code {
            limiter.fail(&format!("code:{code}"), now);
        }
        // The reason is logged, never the token.
        tracing::info!(reason = why, "authentication failed");
        unauthorized()
    };
    let Some(jwt) = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) else {
        return Err(fail(None, "no X-API-Key"));
    };
    let Ok(api_code) = jwt::unverified_api_code(jwt) else {
        return Err(fail(None, "not a JWT"));
    };
    if limiter.blocked(&format!("code:{api_code}"), now) {
        return Err(rate_limited());
    }
    let Some(cred) = state
        .app
        .store
        .api_credential(&api_code)
        .await?
        .and_then(|c| crate::auth::ApiCredential::from_stored(&api_code, c))
    else {
        return Err(fail(Some(&api_code), "unknown api code"));
    };
    let key =
        PublicKey::from_pem(&cred.public_key_pem, cred.algorithm).map_err(ApiError::internal)?;
    if let Err(e) = jwt::verify(jwt, cred.algorithm, &key, now) {
        return Err(fail(Some(&api_code), &e.to_string()));
    }
    issue(&state, &cred).await
}
