//! `/case--respites` (amili-api.md §4.9, respite / anstånd): `POST /case--respites/{case_id}`
//! with `{"days": 1–30, "origin": "creditor_system"}` postpones the case's next flow item by
//! that many days, within the limits its creditor's policy sets (respites per case and per
//! state, days per respite); beyond them, 422. `GET /case--respites[/{id}]` lists them.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::cases::{self, MutateError, RuleBook};
use crate::domain::action::{reasons, ActionStatus, CaseRespite};
use crate::domain::apply::Command;
use crate::domain::case::Case;
use crate::domain::ObjectId;
use crate::eve::validate::{Issues, Mode, Rule, Schema};
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::validated_body;
use crate::http::{eve, AppState};
use crate::resources::{CASES, CASE_RESPITES};
use crate::store::{prepare_document, StoreError};

pub const SCHEMA: Schema = &[
    ("days", Rule::integer().required().min(1.0).max(30.0)),
    (
        "origin",
        Rule::string().required().allowed(&["creditor_system"]),
    ),
];

/// How often a respite is applied again after losing a race for its case.
const ATTEMPTS: usize = 8;

pub async fn list(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &CASE_RESPITES, &scope, query.as_deref()).await
}

pub async fn get(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(
        &state,
        &CASE_RESPITES,
        &scope,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}

pub async fn post(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = scope.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let case_id = ObjectId::parse(&case_id).map_err(|_| ApiError::not_found())?;
    let (doc, issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let days = doc.get("days").and_then(Value::as_i64).unwrap_or(0);
    let now = state.clocks.now(&state.store, &account).await?;
    let mut attempt = 1;
    loop {
        let mut tx = state.store.begin().await?;
        let row = tx
            .get(&CASES, &scope, &case_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let case: Case = serde_json::from_str(&row.doc)
            .map_err(|e| ApiError::from(StoreError::Document(e.to_string())))?;
        let before = case.next_flow_item.clone();
        let cmd = Command::Respite { days };
        let prepared = cases::prepare(
            &mut tx,
            &mut RuleBook::new(),
            &state.engine,
            case,
            row.etag,
            now,
            cmd,
        )
        .await;
        let p = match prepared {
            Ok(p) => p,
            Err(MutateError::Refused(refusal)) => {
                let mut issues = Issues::default();
                issues.add("days", refusal.to_string());
                return Err(ApiError::insertion_failure(issues));
            }
            Err(e) => return Err(ApiError::internal(e)),
        };
        let after = p.case.as_ref().and_then(|c| c.next_flow_item.clone());
        let (Some(before), Some(after)) = (before, after) else {
            return Err(ApiError::internal("a respite without a flow item"));
        };
        let case = p
            .case
            .as_ref()
            .ok_or_else(|| ApiError::internal("no case"))?;
        let respite = CaseRespite {
            id: ObjectId::at(now.unix()),
            account,
            creditor: case.creditor,
            case: case.id,
            days,
            origin: "creditor_system".into(),
            item: before.item.clone(),
            schedule_before: before.schedule_to_execute,
            schedule_after: after.schedule_to_execute,
            status: ActionStatus::Completed,
            status_reason_locale: reasons::COMPLETED.into(),
            case_invoice_number: case.debt.invoice_number.clone(),
            case_reference_number: case.reference_number.clone(),
            created: now,
            updated: now,
            etag: String::new(),
        };
        match cases::write(&mut tx, p, now).await {
            Ok(_) => {}
            Err(MutateError::Conflict) if attempt < ATTEMPTS => {
                attempt += 1;
                continue;
            }
            Err(MutateError::Conflict) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "the case kept changing while the respite was given; send it again",
                ))
            }
            Err(e) => return Err(ApiError::internal(e)),
        }
        let stored = prepare_document(&CASE_RESPITES, &respite)?;
        let body = json!({
            "_updated": now.to_string(),
            "_created": now.to_string(),
            "_etag": stored.etag,
            "_id": respite.id.to_hex(),
            "_status": "OK",
            "_respite_status": ActionStatus::Completed,
        })
        .to_string();
        tx.insert(&CASE_RESPITES, vec![stored]).await?;
        tx.commit().await?;
        return Ok((
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response());
    }
}
