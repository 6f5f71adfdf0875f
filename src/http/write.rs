//! The generic Eve write behaviour (eve-wire.md §3–§4), reused by every resource that takes
//! POST, PATCH or DELETE: reading and validating the body, the `If-Match` rules, merging a
//! PATCH into the stored document, and the 201/200/204 answers.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::body::json_object_literal;
use super::error::{ApiError, MSG_412, MSG_428};
use crate::domain::{HttpDate, ObjectId};
use crate::eve::literal;
use crate::eve::validate::{expand_dotted, must_exist, validate, Issues, Mode, Schema};
use crate::eve::Resource;
use crate::store::{prepare_document, Tx};

/// The meta fields Eve answers a write with.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: ObjectId,
    pub created: HttpDate,
    pub updated: HttpDate,
    pub etag: String,
}

/// A JSON request body, dotted keys expanded, validated against `schema`. Type coercions are
/// applied in place; the problems found are returned with the body so the caller can add its
/// own (database and domain rules) before deciding.
pub async fn validated_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    schema: Schema,
    mode: Mode,
) -> Result<(Map<String, Value>, Issues), ApiError> {
    let (mut doc, inexact) = json_object_literal(headers, body, limit).await?;
    expand_dotted(&mut doc);
    let mut issues = validate(schema, &mut doc, mode);
    for n in inexact {
        issues.add(&n.path, literal::message(&n.literal));
    }
    Ok((doc, issues))
}

/// A body's `account` must be the caller's; another account's id gets the same message as
/// one that does not exist.
pub fn check_own_account(doc: &Map<String, Value>, account: &ObjectId, issues: &mut Issues) {
    if let Some(a) = doc.get("account").and_then(Value::as_str) {
        if !issues.has("account") && a != account.to_hex() {
            issues.add("account", must_exist(a, "accounts"));
        }
    }
}

/// `If-Match` on PATCH and DELETE: missing → 428, different → 412. Compared like
/// `If-None-Match`: a leading `W/` and the quotes are dropped; `*` is not special.
pub fn check_if_match(headers: &HeaderMap, stored_etag: &str) -> Result<(), ApiError> {
    let given = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::new(StatusCode::PRECONDITION_REQUIRED, MSG_428))?;
    if given.trim().trim_start_matches("W/").replace('"', "") != stored_etag {
        return Err(precondition_failed());
    }
    Ok(())
}

pub fn precondition_failed() -> ApiError {
    ApiError::new(StatusCode::PRECONDITION_FAILED, MSG_412)
}

/// Merges a PATCH into a stored document: nested objects are merged, everything else is
/// replaced (Eve's `MERGE_NESTED_DOCUMENTS`).
pub fn merge(stored: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        match (stored.get_mut(&k), v) {
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            (_, v) => {
                stored.insert(k, v);
            }
        }
    }
}

/// A stored document with a PATCH merged in and `_updated` set to `now`, as the typed model.
pub fn patched<T: DeserializeOwned>(
    stored_json: &str,
    patch: Map<String, Value>,
    now: HttpDate,
) -> Result<T, ApiError> {
    let mut doc: Map<String, Value> =
        serde_json::from_str(stored_json).map_err(ApiError::internal)?;
    merge(&mut doc, patch);
    doc.insert("_updated".into(), json!(now.to_string()));
    typed(doc)
}

/// Writes a patched document if the stored one still has `expected_etag` (else 412),
/// commits, and answers the PATCH.
pub async fn save_patch<T: Serialize>(
    mut tx: Tx<'_>,
    res: &Resource,
    doc: &T,
    expected_etag: &str,
    meta: (ObjectId, HttpDate, HttpDate),
) -> Result<Response, ApiError> {
    let stored = prepare_document(res, doc)?;
    let etag = stored.etag.clone();
    if !tx.replace(res, stored, expected_etag).await? {
        return Err(precondition_failed());
    }
    tx.commit().await?;
    let (id, created, updated_at) = meta;
    Ok(updated(&Meta {
        id,
        created,
        updated: updated_at,
        etag,
    }))
}

/// Builds the typed document from validated JSON; a failure here is a bug (validation let
/// through something the model cannot hold), hence a 500.
pub fn typed<T: DeserializeOwned>(doc: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(doc)).map_err(ApiError::internal)
}

fn meta_body(m: &Meta) -> String {
    json!({
        "_updated": m.updated.to_string(),
        "_created": m.created.to_string(),
        "_etag": m.etag,
        "_id": m.id.to_hex(),
        "_status": "OK",
    })
    .to_string()
}

fn with_etag(mut resp: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// `201 Created` with the meta fields (Eve's `BANDWIDTH_SAVER`).
pub fn created(m: &Meta) -> Response {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        meta_body(m),
    )
        .into_response()
}

/// `200 OK` after a PATCH: the meta fields and the new `ETag`.
pub fn updated(m: &Meta) -> Response {
    with_etag(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            meta_body(m),
        )
            .into_response(),
        &m.etag,
    )
}

/// `204 No Content` after a DELETE (Eve still names JSON as the content type).
pub fn deleted() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::CONTENT_TYPE, "application/json")],
    )
        .into_response()
}

/// The `Idempotency-Key` header: printable ASCII, at most 255 characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str().map(str::trim) {
        Ok(k) if !k.is_empty() && k.len() <= 255 => Ok(Some(k.to_string())),
        _ => Err(ApiError::bad_request(
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_merge_nested_documents_and_replace_the_rest() {
        let mut stored = json!({"a": {"x": 1, "y": 2}, "b": [1, 2], "c": "old"})
            .as_object()
            .cloned()
            .unwrap();
        let patch = json!({"a": {"y": 3}, "b": [9], "d": true})
            .as_object()
            .cloned()
            .unwrap();
        merge(&mut stored, patch);
        assert_eq!(
            Value::Object(stored),
            json!({"a": {"x": 1, "y": 3}, "b": [9], "c": "old", "d": true})
        );
    }

    #[test]
    fn if_match_is_required_and_compared_without_quotes() {
        let mut h = HeaderMap::new();
        assert_eq!(
            check_if_match(&h, "abc").unwrap_err().status,
            StatusCode::PRECONDITION_REQUIRED
        );
        h.insert(header::IF_MATCH, HeaderValue::from_static("W/\"abc\""));
        assert!(check_if_match(&h, "abc").is_ok());
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(
            check_if_match(&h, "abc").unwrap_err().status,
            StatusCode::PRECONDITION_FAILED
        );
    }
}
