//! `POST /case--registrations`. All or nothing, in one transaction: the registration, the
//! customer (upserted per account and identity number), one case per debt in order, and one
//! OCR reference per case. `Idempotency-Key` makes retries safe.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::SCHEMA;
use crate::domain::case::CaseSettings;
use crate::domain::identity::{parse_id_number, IdKind};
use crate::domain::ocr;
use crate::domain::party::{Account, Creditor, Customer};
use crate::domain::registration::{
    open_case, CaseContext, CaseRegistration, OcrNumber, RegisteredCustomer,
};
use crate::domain::{HttpDate, ObjectId};
use crate::eve::sql::Scope;
use crate::eve::validate::{Issues, Mode};
use crate::eve::{Filter, Val};
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_own_account, must_exist, typed, validated_body};
use crate::http::AppState;
use crate::resources::{ACCOUNTS, CASES, CASE_REGISTRATIONS, CREDITORS, CUSTOMERS, OCR_NUMBERS};
use crate::store::{prepare_document, Claim, StoreError, Tx};

pub const INACTIVE_CREDITOR: &str =
    "creditor is not active; an inactive creditor cannot receive case registrations";
pub const KEY_REUSED: &str = "this Idempotency-Key was used with a different request body";

/// The first reference number handed out (the seeds' case has 48640).
const FIRST_REFERENCE_NUMBER: i64 = 100_000;

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
    let request_hash = idempotency_key
        .as_ref()
        .map(|_| hex::encode(Sha256::digest(Value::Object(doc.clone()).to_string())))
        .unwrap_or_default();
    check_own_account(&doc, &account, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = state.clock.now();
    let mut reg = registration(doc, now, &mut issues)?;
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }

    let mut tx = state.store.begin().await?;
    if let Some(key) = &idempotency_key {
        match tx
            .claim_idempotency_key(&account, key, &request_hash, now.unix())
            .await?
        {
            Claim::New => {}
            Claim::Used {
                request_hash: h, ..
            } if h != request_hash => {
                let mut issues = Issues::default();
                issues.add("Idempotency-Key", KEY_REUSED);
                return Err(ApiError::insertion_failure(issues));
            }
            Claim::Used {
                status, response, ..
            } => return replay(status, response),
        }
    }

    let creditor = checked_creditor(&mut tx, &scope, &reg, &mut issues).await?;
    check_open_duplicates(&mut tx, account, &reg, &mut issues).await?;
    let Some(creditor) = creditor.filter(|_| issues.is_empty()) else {
        return Err(ApiError::insertion_failure(issues));
    };

    let account_doc: Account = match tx.get(&ACCOUNTS, &scope, &account).await? {
        Some(row) => serde_json::from_str(&row.doc).map_err(ApiError::internal)?,
        None => return Err(ApiError::forbidden(MSG_403)),
    };
    let customer = upsert_customer(&mut tx, account, &reg.customer, now).await?;
    let (cases, ocrs) = open_cases(
        &mut tx,
        &mut reg,
        &creditor,
        customer,
        &account_doc.case_settings,
        now,
    )
    .await?;

    let reg_doc = prepare_document(&CASE_REGISTRATIONS, &reg)?;
    let body = json!({
        "_updated": now.to_string(),
        "_created": now.to_string(),
        "_etag": reg_doc.etag,
        "_id": reg.id.to_hex(),
        "_status": "OK",
        "_cases": reg.cases,
        "_ocr_numbers": reg.ocr_numbers,
        "_ocr_numbers_ocr": reg.ocr_numbers_ocr,
    })
    .to_string();
    tx.insert(&CASE_REGISTRATIONS, vec![reg_doc]).await?;
    tx.insert(&CASES, cases).await?;
    tx.insert(&OCR_NUMBERS, ocrs).await?;
    if let Some(key) = &idempotency_key {
        tx.complete_idempotency_key(&account, key, 201, &body)
            .await?;
    }
    tx.commit().await?;
    Ok(json_answer(StatusCode::CREATED, body))
}

fn json_answer(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The `Idempotency-Key` header: printable ASCII, at most 255 characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
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

/// The first answer to a request, sent again.
fn replay(status: Option<i64>, response: Option<String>) -> Result<Response, ApiError> {
    match (
        status.and_then(|s| StatusCode::from_u16(s as u16).ok()),
        response,
    ) {
        (Some(s), Some(body)) => Ok(json_answer(s, body)),
        _ => Err(ApiError::internal("idempotency key without an answer")),
    }
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

/// The creditor, if it is the caller's and active.
async fn checked_creditor(
    tx: &mut Tx<'_>,
    scope: &Scope,
    reg: &CaseRegistration,
    issues: &mut Issues,
) -> Result<Option<Creditor>, ApiError> {
    let Some(row) = tx.get(&CREDITORS, scope, &reg.creditor).await? else {
        issues.add("creditor", must_exist(&reg.creditor.to_hex(), "creditors"));
        return Ok(None);
    };
    let creditor: Creditor = serde_json::from_str(&row.doc).map_err(ApiError::internal)?;
    if !creditor.is_active {
        issues.add("creditor", INACTIVE_CREDITOR);
    }
    Ok(Some(creditor))
}

/// An invoice number may have only one open case per creditor.
async fn check_open_duplicates(
    tx: &mut Tx<'_>,
    account: ObjectId,
    reg: &CaseRegistration,
    issues: &mut Issues,
) -> Result<(), StoreError> {
    let scope = Scope {
        account: Some(account),
        creditors: Some(vec![reg.creditor]),
    };
    for (i, d) in reg.debts.iter().enumerate() {
        tx.lock_key(&format!("invoice:{}:{}", reg.creditor, d.invoice_number))
            .await?;
        let filter = Filter::And(vec![
            Filter::eq("debt.invoice_number", Val::Str(d.invoice_number.clone())),
            Filter::missing("closed"),
        ]);
        if tx.count(&CASES, &scope, &filter).await? > 0 {
            issues.add(
                &format!("debts.{i}.invoice_number"),
                format!(
                    "invoice number {} already has an open case for this creditor",
                    d.invoice_number
                ),
            );
        }
    }
    Ok(())
}

/// The customer for this account and identity number: updated with the registration's
/// name and contact details if it exists, created if not.
async fn upsert_customer(
    tx: &mut Tx<'_>,
    account: ObjectId,
    c: &RegisteredCustomer,
    now: HttpDate,
) -> Result<ObjectId, ApiError> {
    tx.lock_key(&format!("customer:{account}:{}", c.id_number))
        .await?;
    let scope = Scope {
        account: Some(account),
        creditors: None,
    };
    let filter = Filter::eq("id_number", Val::Str(c.id_number.clone()));
    let existing = tx.find(&CUSTOMERS, &scope, &filter, 1).await?;
    let is_person = match c.is_company {
        Some(company) => !company,
        None => c.id_number.len() == 12,
    };
    match existing.into_iter().next() {
        Some(row) => {
            let mut customer: Customer =
                serde_json::from_str(&row.doc).map_err(ApiError::internal)?;
            customer.name = c.name.clone();
            customer.address = c.address.clone();
            customer.is_person = is_person;
            if c.mobile_number.is_some() {
                customer.mobile_number = c.mobile_number.clone();
            }
            if c.email.is_some() {
                customer.email = c.email.clone();
            }
            if c.customer_number.is_some() {
                customer.customer_number = c.customer_number.clone();
            }
            customer.updated = now;
            let id = customer.id;
            let doc = prepare_document(&CUSTOMERS, &customer)?;
            if !tx.replace(&CUSTOMERS, doc, &row.etag).await? {
                return Err(ApiError::internal("customer changed during its upsert"));
            }
            Ok(id)
        }
        None => {
            let customer = Customer {
                id: ObjectId::at(now.unix()),
                account,
                name: c.name.clone(),
                id_number: c.id_number.clone(),
                is_person,
                customer_number: c.customer_number.clone(),
                address: c.address.clone(),
                mobile_number: c.mobile_number.clone(),
                email: c.email.clone(),
                is_active: true,
                created: now,
                updated: now,
                etag: String::new(),
            };
            tx.insert(&CUSTOMERS, vec![prepare_document(&CUSTOMERS, &customer)?])
                .await?;
            Ok(customer.id)
        }
    }
}

/// One case and one OCR reference per debt, in order; fills the registration's `_cases`,
/// `_ocr_numbers` and `_ocr_numbers_ocr`.
async fn open_cases(
    tx: &mut Tx<'_>,
    reg: &mut CaseRegistration,
    creditor: &Creditor,
    customer: ObjectId,
    case_settings: &CaseSettings,
    now: HttpDate,
) -> Result<(Vec<crate::store::StoredDoc>, Vec<crate::store::StoredDoc>), ApiError> {
    let mut cases = Vec::with_capacity(reg.debts.len());
    let mut ocrs = Vec::with_capacity(reg.debts.len());
    for i in 0..reg.debts.len() {
        let reference = tx
            .next_number("case_reference_number", FIRST_REFERENCE_NUMBER)
            .await?;
        let sequence = tx.next_number("ocr_sequence", 1).await?;
        let case = open_case(
            reg,
            i,
            &CaseContext {
                id: ObjectId::at(now.unix()),
                customer,
                creditor,
                case_settings: case_settings.clone(),
                reference_number: reference.to_string(),
                now,
            },
        );
        let ocr = OcrNumber {
            id: ObjectId::at(now.unix()),
            account: reg.account,
            creditor: reg.creditor,
            case: case.id,
            ocr: ocr::reference(now, sequence.unsigned_abs()),
            created: now,
            updated: now,
            etag: String::new(),
        };
        reg.cases.push(case.id);
        reg.ocr_numbers.push(ocr.id);
        reg.ocr_numbers_ocr.push(ocr.ocr.clone());
        cases.push(prepare_document(&CASES, &case)?);
        ocrs.push(prepare_document(&OCR_NUMBERS, &ocr)?);
    }
    Ok((cases, ocrs))
}
