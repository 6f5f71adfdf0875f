//! `/payments--unmatched`: payments from bank files that could not be put on a case by
//! themselves. `POST /payments--unmatched/{id}/match {"case": …}` puts one on a case by hand
//! (through the case's one change path); what the case does not need stays unmatched.
//! Operators only.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::actions::bank;
use crate::domain::ObjectId;
use crate::eve::validate::{Mode, Rule, Schema};
use crate::http::error::ApiError;
use crate::http::scope::{OperatorScope, RequestActor, RequestScope};
use crate::http::write::validated_body;
use crate::http::{eve, AppState};
use crate::resources::UNMATCHED_PAYMENTS;

pub const MATCH: Schema = &[("case", Rule::objectid().required())];

pub async fn list(
    State(state): State<AppState>,
    _: OperatorScope,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &UNMATCHED_PAYMENTS, &scope, query.as_deref()).await
}

pub async fn get(
    State(state): State<AppState>,
    _: OperatorScope,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(
        &state,
        &UNMATCHED_PAYMENTS,
        &scope,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}

pub async fn match_to_case(
    State(state): State<AppState>,
    _: OperatorScope,
    RequestActor(actor): RequestActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let (doc, issues) =
        validated_body(&headers, body, state.limits.json_body, MATCH, Mode::Insert).await?;
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let case = doc
        .get("case")
        .and_then(Value::as_str)
        .and_then(|s| ObjectId::parse(s).ok())
        .ok_or_else(|| ApiError::internal("a validated case id did not parse"))?;
    let m = bank::match_payment(&state.app, &actor, &id, &case).await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "_id": m.payment.id.to_hex(),
            "_updated": m.payment.updated.to_string(),
            "_etag": m.payment.etag,
            "_status": "OK",
            "status": m.payment.status,
            "settled_amount": m.settled,
            "amount": m.payment.amount,
        })
        .to_string(),
    )
        .into_response())
}
