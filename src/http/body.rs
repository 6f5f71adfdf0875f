//! Request bodies as Eve reads them (eve-wire.md §3.1): JSON only, with a size limit.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use serde_json::{Map, Value};

use super::error::{ApiError, MSG_400};
use crate::eve::literal::{inexact_numbers, Inexact};

/// Largest JSON body accepted by default, in bytes.
pub const DEFAULT_JSON_LIMIT: usize = 1024 * 1024;

/// The body as a JSON object. A missing or non-JSON `Content-Type` is Eve's
/// "Unknown or no Content-Type header supplied"; malformed JSON is a 400; too large a 413.
pub async fn json_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    Ok(json_object_literal(headers, body, limit).await?.0)
}

/// Like [`json_object`], with the numbers whose written value a double cannot keep
/// (`1.000000000000000000001`), for the caller to refuse at their paths.
pub async fn json_object_literal(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(Map<String, Value>, Vec<Inexact>), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" {
        return Err(ApiError::bad_request(
            "Unknown or no Content-Type header supplied",
        ));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        unreadable(
            &e,
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "The data value transmitted exceeds the capacity limit.",
            ),
        )
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(o)) => Ok((o, inexact_numbers(&bytes))),
        _ => Err(ApiError::bad_request(MSG_400)),
    }
}

/// The answer to a body that could not be read: 408 when the client did not send it in time
/// (`--body-timeout-secs`), else `otherwise`.
pub fn unreadable(e: &(dyn std::error::Error + 'static), otherwise: ApiError) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(t) = c.downcast_ref::<super::serve::BodyTimeout>() {
            return timed_out(t);
        }
        cause = c.source();
    }
    // Some wrappers (multipart parsing) keep the cause only in their message.
    if e.to_string().contains(super::serve::BODY_TIMEOUT_TEXT) {
        return ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "The request body was not received in time.",
        );
    }
    otherwise
}

fn timed_out(t: &super::serve::BodyTimeout) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        format!(
            "The request body was not received within {} s.",
            t.0.as_secs()
        ),
    )
}
