//! `/webhooks` (Eve semantics, per account): where to send which events, with a signing
//! secret returned once, in the 201 that made it. `/webhook--deliveries`: each event sent to
//! each webhook, with every attempt and the receiver's answers; `POST …/{id}/retry` sends
//! one again. A creditor-bound API user's webhooks hear only its creditor's events, and it
//! sees only its own webhooks and their deliveries.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde_json::{json, Map, Value};

use crate::domain::bank::AGENCY_ACCOUNT;
use crate::domain::webhook::{new_secret, DeliveryStatus, Webhook, WebhookDelivery, EVENTS};
use crate::domain::{HttpDate, ObjectId};
use crate::eve::validate::{must_exist, Issues, Mode, Rule, Schema};
use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::write::{
    check_if_match, check_own_account, deleted, patched, precondition_failed, save_patch, typed,
    validated_body,
};
use crate::http::{eve, AppState};
use crate::resources::{CREDITORS, WEBHOOKS, WEBHOOK_DELIVERIES};
use crate::scope::Scope;
use crate::store::prepare_document;

const EVENT: Rule = Rule::string().allowed(EVENTS);

pub const SCHEMA: Schema = &[
    ("account", Rule::objectid()),
    ("creditor", Rule::objectid()),
    ("url", Rule::string().required().nonempty().maxlength(2000)),
    ("events", Rule::list(&EVENT).required().nonempty()),
    ("active", Rule::boolean()),
    ("description", Rule::string().maxlength(200)),
];

/// The account a caller's webhooks belong to: its own, or for the agency's operators (who
/// are bound to no account and see every account's) the agency's, whose events are the
/// bank's unmatched payments.
fn account_of(scope: &Scope) -> ObjectId {
    scope.account.unwrap_or(AGENCY_ACCOUNT)
}

fn check_fields(doc: &Map<String, Value>, allow_private: bool, issues: &mut Issues) {
    if let Some(url) = doc.get("url").and_then(Value::as_str) {
        if !issues.has("url") {
            if let Err(e) = crate::webhooks::check_url(url, allow_private) {
                issues.add("url", e);
            }
        }
    }
}

fn dedup_events(events: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    events.retain(|e| seen.insert(e.clone()));
}

pub async fn list(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &WEBHOOKS, &scope, query.as_deref()).await
}

pub async fn get(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(&state, &WEBHOOKS, &scope, &id, query.as_deref(), &headers).await
}

/// `POST /webhooks`: 201 with the meta fields and `secret` (`whsec_…`), shown this once.
pub async fn post(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = account_of(&scope);
    let (mut doc, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    check_own_account(&doc, &account, &mut issues);
    check_fields(&doc, state.webhooks.allow_private, &mut issues);
    let mut tx = state.app.store.begin().await?;
    // The creditor: a creditor-bound caller's own; an account-wide caller may name one.
    let given = doc
        .get("creditor")
        .and_then(Value::as_str)
        .and_then(|c| ObjectId::parse(c).ok());
    let creditor = match (&scope.creditors, given) {
        (Some(mine), Some(c)) if mine.contains(&c) => Some(c),
        (Some(mine), None) if mine.len() == 1 => Some(mine[0]),
        (Some(_), None) => {
            issues.add("creditor", "required: name one of your creditors");
            None
        }
        (_, Some(c)) => {
            if tx.get(&CREDITORS, &scope, &c).await?.is_none() {
                issues.add("creditor", must_exist(&c.to_hex(), "creditors"));
            }
            Some(c)
        }
        (None, None) => None,
    };
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = state.app.clocks.time_in(&mut tx, &account).await?.now;
    let id = ObjectId::at(now.unix());
    doc.insert("_id".into(), json!(id.to_hex()));
    doc.insert("account".into(), json!(account.to_hex()));
    match creditor {
        Some(c) => doc.insert("creditor".into(), json!(c.to_hex())),
        None => doc.remove("creditor"),
    };
    doc.entry("active").or_insert(json!(true));
    doc.insert("_created".into(), json!(now.to_string()));
    doc.insert("_updated".into(), json!(now.to_string()));
    let mut hook: Webhook = typed(doc)?;
    dedup_events(&mut hook.events);
    let stored = prepare_document(&WEBHOOKS, &hook)?;
    let etag = stored.etag.clone();
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = new_secret(bytes);
    tx.insert(&WEBHOOKS, vec![stored]).await?;
    tx.insert_webhook_secret(&id, &secret).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "_id": id.to_hex(),
            "_etag": etag,
            "_created": now.to_string(),
            "_updated": now.to_string(),
            "_status": "OK",
            "secret": secret,
        })
        .to_string(),
    )
        .into_response())
}

/// `PATCH /webhooks/{id}` with `If-Match`: `url`, `events`, `active`, `description`.
pub async fn patch(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = account_of(&scope);
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let (patch, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Update).await?;
    let mut tx = state.app.store.begin().await?;
    let row = tx
        .get(&WEBHOOKS, &scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_if_match(&headers, &row.etag)?;
    for field in ["account", "creditor"] {
        if patch.contains_key(field) {
            issues.add(field, "field is read-only");
        }
    }
    check_fields(&patch, state.webhooks.allow_private, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::update_failure(issues));
    }
    let now = state.app.clocks.time_in(&mut tx, &account).await?.now;
    let mut hook: Webhook = patched(&row.doc, patch, now)?;
    dedup_events(&mut hook.events);
    save_patch(tx, &WEBHOOKS, &hook, &row.etag, (id, hook.created, now)).await
}

/// `DELETE /webhooks/{id}` with `If-Match`: nothing more is sent to it (its pending
/// deliveries fail at their next attempt); its deliveries stay readable.
pub async fn delete(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = account_of(&scope);
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let mut tx = state.app.store.begin().await?;
    let Some(row) = tx.get(&WEBHOOKS, &scope, &id).await? else {
        return Ok(deleted());
    };
    check_if_match(&headers, &row.etag)?;
    tx.delete_where(&WEBHOOKS, &account, "id", &id).await?;
    tx.delete_webhook_secret(&id).await?;
    tx.commit().await?;
    Ok(deleted())
}

pub async fn deliveries(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &WEBHOOK_DELIVERIES, &scope, query.as_deref()).await
}

pub async fn delivery(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(
        &state,
        &WEBHOOK_DELIVERIES,
        &scope,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}

/// `POST /webhook--deliveries/{id}/retry`: 202; the delivery is sent again within a
/// second or so, with a fresh retry schedule, whatever its status (a delivered one too).
pub async fn retry(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let mut tx = state.app.store.begin().await?;
    let row = tx
        .get(&WEBHOOK_DELIVERIES, &scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut d: WebhookDelivery = serde_json::from_str(&row.doc).map_err(ApiError::internal)?;
    let now: HttpDate = state.app.clocks.real();
    d.retry(now);
    let stored = prepare_document(&WEBHOOK_DELIVERIES, &d)?;
    let etag = stored.etag.clone();
    if !tx.replace(&WEBHOOK_DELIVERIES, stored, &row.etag).await? {
        return Err(precondition_failed());
    }
    crate::webhooks::send_now(&mut tx, &d, now).await?;
    tx.commit().await?;
    debug_assert_eq!(d.status, DeliveryStatus::Pending);
    Ok((
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "_id": id.to_hex(),
            "_etag": etag,
            "_updated": now.to_string(),
            "_status": "OK",
            "status": d.status.as_str(),
            "next_attempt": now.to_string(),
        })
        .to_string(),
    )
        .into_response())
}
