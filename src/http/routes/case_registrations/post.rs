//! `POST /case--registrations`. All or nothing, in one transaction: the registration, the
//! customer (upserted per account and identity number), one case per debt in order, and one
//! OCR reference per case, written by the [`crate::registrar`]. `Idempotency-Key` makes
//! retries safe.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::SCHEMA;
use crate::domain::identity::{parse_id_number, IdKind};
use crate::domain::registration::CaseRegistration;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::validate::{Issues, Mode};
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_own_account, idempotency_key, typed, validated_body};
use crate::http::AppState;
use crate::registrar::{Idempotency, Outcome, Submission};

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = scope.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let idempotency_key = idempotency_key(&headers)?;
    let (doc, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    let idempotency = idempotency_key.map(|key| Idempotency {
        key,
        request_hash: hex::encode(Sha256::digest(Value::Object(doc.clone()).to_string())),
    });
    check_own_account(&doc, &account, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = state.clocks.now(&state.store, &account).await?;
    let registration = registration(doc, now, &mut issues)?;
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }

    let submission = Submission {
        scope,
        account,
        idempotency,
        registration,
        now,
        actor: crate::audit::current(),
    };
    match state.registrar.register(submission).await? {
        Outcome::Created(body) => Ok(json_answer(StatusCode::CREATED, body)),
        Outcome::Replayed { status, body } => match StatusCode::from_u16(status) {
            Ok(status) => Ok(json_answer(status, body)),
            Err(_) => Err(ApiError::internal("recorded answer with a bad status")),
        },
        Outcome::Rejected(issues) => Err(ApiError::insertion_failure(issues)),
        Outcome::UnknownAccount => Err(ApiError::forbidden(MSG_403)),
    }
}

fn json_answer(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The typed registration, with the identity number checked and made canonical, and the
/// rules that span fields (`is_company`, fees within the capital, invoice numbers once).
fn registration(
    mut doc: Map<String, Value>,
    now: HttpDate,
    issues: &mut Issues,
) -> Result<CaseRegistration, ApiError> {
    let id = ObjectId::at(now.unix());
    for (k, v) in [
        ("_id", json!(id.to_hex())),
        ("_created", json!(now.to_string())),
        ("_updated", json!(now.to_string())),
    ] {
        doc.insert(k.into(), v);
    }
    let mut reg: CaseRegistration = typed(doc)?;
    match parse_id_number(&reg.customer.id_number, now.date()) {
        Ok(n) => {
            if n.kind == IdKind::Organization && reg.customer.is_company == Some(false) {
                issues.add(
                    "customer.is_company",
                    "an organisationsnummer identifies a company; is_company cannot be false",
                );
            }
            reg.customer.id_number = n.canonical;
        }
        Err(msg) => issues.add("customer.id_number", msg),
    }
    let mut seen = std::collections::HashSet::new();
    for (i, d) in reg.debts.iter().enumerate() {
        if d.included_fees() > d.capital_to_claim {
            issues.add(
                &format!("debts.{i}.fees_included_in_capital_to_claim"),
                "the fees included cannot exceed capital_to_claim",
            );
        }
        if !seen.insert(d.invoice_number.as_str()) {
            issues.add(
                &format!("debts.{i}.invoice_number"),
                format!(
                    "invoice number {} appears more than once in this registration",
                    d.invoice_number
                ),
            );
        }
    }
    Ok(reg)
}
