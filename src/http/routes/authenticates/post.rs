//! `POST /authenticates/api-code` with `{"api_code": "…"}`: Amili's static-IP method, allowed
//! only from the configured networks (loopback by default).

use axum::extract::{Request, State};
use axum::response::Response;

use super::{issue, rate_limited, unauthorized};
use crate::auth::client_ip;
use crate::http::error::ApiError;
use crate::http::{body, AppState};

pub async fn handler(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let now = state.app.clocks.real().unix();
    let ip = client_ip(&parts);
    let ip_key = format!("ip:{}", ip.map(|ip| ip.to_string()).unwrap_or_default());
    // As for the signed method: failures are limited per address and per code, and past a
    // limit answered 429; a valid code (128 random bits) is never refused.
    let address_blocked = state.auth.limiter.blocked(&ip_key, now);
    let json = body::json_object(&parts.headers, body, state.limits.json_body).await?;
    let allowed = ip.is_some_and(|ip| {
        state
            .auth
            .settings
            .static_ip_networks
            .iter()
            .any(|n| n.contains(&ip))
    });
    let api_code = json
        .get("api_code")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if !allowed {
        state.auth.limiter.fail(&ip_key, now);
        tracing::info!(
            reason = "address not allowed for the api code method",
            "authentication failed"
        );
        return Err(if address_blocked {
            rate_limited()
        } else {
            unauthorized()
        });
    }
    let code_key = format!("code:{api_code}");
    let code_blocked = state.auth.limiter.blocked(&code_key, now);
    match state
        .app
        .store
        .api_credential(&api_code)
        .await?
        .and_then(|c| crate::auth::ApiCredential::from_stored(&api_code, c))
    {
        Some(cred) if !api_code.is_empty() => issue(&state, &cred).await,
        _ => {
            state.auth.limiter.fail(&ip_key, now);
            state.auth.limiter.fail(&code_key, now);
            tracing::info!(reason = "unknown api code", "authentication failed");
            Err(if address_blocked || code_blocked {
                rate_limited()
            } else {
                unauthorized()
            })
        }
    }
}
