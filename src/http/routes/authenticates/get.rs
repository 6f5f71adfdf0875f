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
    // Failures are limited per address and per API code; a valid signature is never refused
    // (it proves the private key, and a code's failures are anyone's to cause). Past a limit a
    // failure is 429 instead of 401.
    let limiter = &state.auth.limiter;
    let address_blocked = limiter.blocked(&ip_key, now);
    let fail = |code: Option<&str>, why: &str| {
        let code_blocked = code.is_some_and(|c| limiter.blocked(&format!("code:{c}"), now));
        limiter.fail(&ip_key, now);
        if let Some(code) = code {
            limiter.fail(&format!("code:{code}"), now);
        }
        // The reason is logged, never the token.
        tracing::info!(reason = why, "authentication failed");
        if address_blocked || code_blocked {
            rate_limited()
        } else {
            unauthorized()
        }
    };
    let Some(jwt) = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) else {
        return Err(fail(None, "no X-API-Key"));
    };
    let Ok(api_code) = jwt::unverified_api_code(jwt) else {
        return Err(fail(None, "not a JWT"));
    };
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
