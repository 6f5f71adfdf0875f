//! `GET /sandbox/clock` → `{"now": …}`; `POST /sandbox/clock {"now": …}` sets the account's
//! time and runs every flow item due up to then before it answers.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::actions::clock;
use crate::domain::HttpDate;
use crate::eve::validate::{Mode, Rule, Schema};
use crate::http::error::ApiError;
use crate::http::scope::RequestActor;
use crate::http::write::validated_body;
use crate::http::AppState;

pub const SCHEMA: Schema = &[("now", Rule::datetime().required())];

pub use crate::actions::clock::BACKWARDS;

fn answer(body: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub async fn get(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
) -> Result<Response, ApiError> {
    let account = clock::sandbox_account(&state.app, &actor).await?;
    let t = clock::read(&state.app, &account).await?;
    Ok(answer(json!({
        "now": t.now.to_string(),
        "follows_real_time": !t.set,
    })))
}

pub async fn post(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = clock::sandbox_account(&state.app, &actor).await?;
    let (doc, issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = doc
        .get("now")
        .and_then(|v| v.as_str())
        .and_then(|s| HttpDate::parse_lenient(s).ok())
        .ok_or_else(|| ApiError::internal("a validated date does not parse"))?;
    let run = clock::move_to(&state.app, &actor, account, now).await?;
    Ok(answer(json!({
        "_status": "OK",
        "now": now.to_string(),
        "cases_changed": run.cases,
        "flow_items_run": run.items,
        "interest_postings": run.interest_postings,
        "letters_queued": run.letters,
    })))
}
