//! `POST /creditor--payments`, `/creditor--creditings`, `/creditor--cancellations`: the body
//! validated and parsed, then [`actions::creditor_action`], then its answer.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::actions::creditor_action::{self, Input, Kind};
use crate::actions::{Actor, CaseRef, Idempotency};
use crate::domain::{HttpDate, Money, ObjectId};
use crate::eve::validate::{Issues, Mode};
use crate::http::error::{ApiError, MSG_403};
use crate::http::write::{check_own_account, idempotency_key, validated_body};
use crate::http::AppState;

pub async fn handler(
    state: AppState,
    actor: Actor,
    headers: HeaderMap,
    body: Body,
    kind: Kind,
) -> Result<Response, ApiError> {
    let account = actor.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let key = idempotency_key(&headers)?;
    let (doc, mut issues) = validated_body(
        &headers,
        body,
        state.limits.json_body,
        super::schema(kind),
        Mode::Insert,
    )
    .await?;
    let idempotency = key.map(|k| Idempotency::of(k, &Value::Object(doc.clone())));
    check_own_account(&doc, &account, &mut issues);
    let input = parse(kind, &doc, idempotency, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let Some(input) = input else {
        return Err(ApiError::internal("a validated action did not parse"));
    };
    let outcome = creditor_action::run(&state.app, &actor, input).await?;
    let answer = outcome.answer();
    let status = StatusCode::from_u16(answer.status)
        .map_err(|_| ApiError::internal("recorded answer with a bad status"))?;
    Ok((
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body.clone(),
    )
        .into_response())
}

/// The typed request, or the problems with it (added to `issues`).
fn parse(
    kind: Kind,
    doc: &Map<String, Value>,
    idempotency: Option<Idempotency>,
    issues: &mut Issues,
) -> Option<Input> {
    let text = |f: &str| doc.get(f).and_then(Value::as_str).map(str::to_string);
    let case = match (text("case"), text("invoice_number")) {
        (Some(_), Some(_)) => {
            issues.add(
                "invoice_number",
                "give either case or invoice_number, not both",
            );
            None
        }
        (None, None) => {
            if !issues.has("case") && !issues.has("invoice_number") {
                issues.add("case", "required field (or invoice_number)");
            }
            None
        }
        (Some(id), None) => ObjectId::parse(&id).ok().map(CaseRef::Id),
        (None, Some(n)) => Some(CaseRef::InvoiceNumber(n.trim().to_string())),
    };
    let date = |f: &str| text(f).and_then(|s| HttpDate::parse_lenient(&s).ok());
    Some(Input {
        kind,
        creditor: text("creditor").and_then(|s| ObjectId::parse(&s).ok())?,
        case: case?,
        amount: doc
            .get("amount")
            .and_then(Value::as_f64)
            .and_then(|a| Money::from_kronor_f64(a).ok()),
        date: date(kind.date_field()),
        registered: (kind == Kind::Payment)
            .then(|| date("client_registration_date"))
            .flatten(),
        currency: text("currency"),
        creditor_payment_reference: text("creditor_payment_reference"),
        credit_invoice: text("credit_invoice"),
        creditor_reference: text("creditor_reference"),
        idempotency,
    })
}
