//! Media (amili-api.md §4.5): `POST /media--upload/{reference_id}` stores a file and attaches
//! it to a document; `GET /media/{key}` serves it to whoever holds the signed URL.

pub mod download;
pub mod upload;

use axum::http::{header, HeaderMap};

use crate::http::AppState;

/// The base of the URLs this server hands out.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
        ),
    }
}
