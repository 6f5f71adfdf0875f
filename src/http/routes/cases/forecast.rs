//! `GET /cases/{id}/forecast`: the steps the case will take if nothing is paid, with their
//! dates, fees and the claim after each (interest to that day included), under the
//! creditor's current rules. Looks two years ahead, at most 20 steps.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::cases::RuleBook;
use crate::domain::apply::Ctx;
use crate::domain::case::Case;
use crate::domain::forecast::forecast;
use crate::domain::ObjectId;
use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::AppState;
use crate::resources::CASES;

const HORIZON_YEARS: i32 = 2;
const MAX_STEPS: usize = 20;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = ObjectId::parse(&id).map_err(|_| ApiError::not_found())?;
    let row = state
        .app
        .store
        .get(&CASES, &scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let case: Case = serde_json::from_str(&row.doc).map_err(ApiError::internal)?;
    let now = state
        .app
        .clocks
        .now(&state.app.store, &case.account)
        .await?;
    let mut tx = state.app.store.begin().await?;
    let (policy, flow) = RuleBook::new().rules(&mut tx, &case.creditor).await?;
    tx.commit().await?;
    let ctx = Ctx {
        now,
        rates: &state.app.engine.rates,
        policy: &policy,
        flow: &flow,
    };
    let steps = forecast(&case, &ctx, now.plus_years(HORIZON_YEARS), MAX_STEPS);
    let body = json!({
        "case": case.id,
        "as_of": now.to_string(),
        "state": case.state,
        "status": case.status,
        "closed": case.closed.is_some(),
        "total_remaining_transaction_amount": case.total_remaining_transaction_amount,
        "steps": steps,
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}
