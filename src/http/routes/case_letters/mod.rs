//! `/case--letters`: the letters the flow sent, with the Eve query layer. A rendered letter
//! carries its PDF as `file` and a signed `url` to download it, valid for at least an hour.

pub mod get;
pub mod list;

use axum::http::HeaderMap;
use sha1::{Digest, Sha1};

use crate::http::AppState;
use crate::media::URL_TTL_SECS;
use crate::store::Row;

/// Adds a signed `url` to a letter with a file. The expiry is rounded to the hour so the
/// document (and its `_etag`) stays the same for an hour; the URL is valid for at least
/// [`URL_TTL_SECS`].
pub fn with_url(state: &AppState, headers: &HeaderMap) -> impl Fn(&mut Row) + Send + Sync {
    let base = crate::http::routes::media::base_url(state, headers);
    let now = state.app.clocks.real().unix();
    let expires = (now / URL_TTL_SECS + 2) * URL_TTL_SECS;
    let signer = state.app.media.signer.clone();
    move |row: &mut Row| {
        let Ok(serde_json::Value::Object(mut doc)) = serde_json::from_str(&row.doc) else {
            return;
        };
        let Some(key) = doc
            .get("file")
            .and_then(|f| f.get("id"))
            .and_then(|k| k.as_str())
            .map(str::to_string)
        else {
            return;
        };
        let url = format!(
            "{base}/media/{key}?{}",
            signer.query(&key, expires, "application/pdf")
        );
        doc.insert("url".into(), serde_json::Value::String(url));
        row.etag = hex::encode(Sha1::digest(format!("{}:{expires}", row.etag).as_bytes()));
        doc.insert("_etag".into(), serde_json::Value::String(row.etag.clone()));
        row.doc = serde_json::Value::Object(doc).to_string();
    }
}
