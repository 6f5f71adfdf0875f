//! `GET /media/{key}?expires=…&content_type=…&signature=…`: a file, for whoever holds a URL
//! this server signed within the last hour. No access token is needed (the URL is the
//! credential, as with Amili's Google Cloud Storage URLs); a tampered or expired URL is a 403.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use object_store::ObjectStore;

use crate::http::error::{ApiError, MSG_403};
use crate::http::AppState;

pub async fn handler(
    State(state): State<AppState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (mut expires, mut content_type, mut signature) = (None, None, None);
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "expires" => expires = v.parse::<i64>().ok(),
            "content_type" => content_type = Some(v.into_owned()),
            "signature" => signature = Some(v.into_owned()),
            _ => {}
        }
    }
    let forbidden = || ApiError::forbidden(MSG_403);
    let (Some(expires), Some(content_type), Some(signature)) = (expires, content_type, signature)
    else {
        return Err(forbidden());
    };
    let now = state.app.clocks.real().unix();
    if !state
        .app
        .media
        .signer
        .verify(&key, expires, &content_type, &signature, now)
    {
        return Err(forbidden());
    }
    let ct = HeaderValue::from_str(&content_type).map_err(|_| forbidden())?;
    let got = match state.app.media.store.get(&state.app.media.path(&key)).await {
        Ok(g) => g,
        Err(object_store::Error::NotFound { .. }) => return Err(ApiError::not_found()),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let size = got.meta.size;
    let stream = got.into_stream().map_err(std::io::Error::other);
    let mut resp = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, ct);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(resp)
}
