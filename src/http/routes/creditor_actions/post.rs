//! `POST /creditor--payments`, `/creditor--creditings`, `/creditor--cancellations`.
//!
//! Validated, the case found (by id, or by invoice number at the creditor), the command
//! applied through [`cases`], the action stored with its `status`, and the idempotency key
//! recorded: one transaction. When another writer changed the case between read and write
//! (the flow worker, a concurrent action), everything is read and applied again.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::Kind;
use crate::cases::{self, MutateError, RuleBook};
use crate::domain::action::{reasons, ActionStatus, CreditorAction};
use crate::domain::apply::{Command, Refusal};
use crate::domain::case::Case;
use crate::domain::{HttpDate, Money, ObjectId};
use crate::eve::filter::{Filter, Val};
use crate::eve::validate::{must_exist, Issues, Mode};
use crate::http::error::{ApiError, MSG_403};
use crate::http::write::{check_own_account, idempotency_key, validated_body};
use crate::http::AppState;
use crate::registrar::KEY_REUSED;
use crate::resources::CASES;
use crate::store::{prepare_document, KeyRecord, Row, StoreError, Tx, UsedKey};
use crate::tenancy::Scope;

/// How often an action is applied again after losing a race for its case.
const ATTEMPTS: usize = 8;

/// How the request named its case.
enum Target {
    Case(ObjectId),
    Invoice(String),
}

/// The request, parsed.
struct Request {
    kind: Kind,
    creditor: ObjectId,
    target: Target,
    amount: Option<Money>,
    /// The payment's value date (payments), the crediting's date (creditings).
    date: Option<HttpDate>,
    doc: Map<String, Value>,
}

pub async fn handler(
    state: AppState,
    scope: Scope,
    headers: HeaderMap,
    body: Body,
    kind: Kind,
) -> Result<Response, ApiError> {
    let account = scope.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let key = idempotency_key(&headers)?;
    let (doc, mut issues) = validated_body(
        &headers,
        body,
        state.limits.json_body,
        kind.schema(),
        Mode::Insert,
    )
    .await?;
    let request_hash = hex::encode(Sha256::digest(Value::Object(doc.clone()).to_string()));
    check_own_account(&doc, &account, &mut issues);
    let now = state.clocks.now(&state.store, &account).await?;
    let request = parse(kind, doc, now, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let Some(request) = request else {
        return Err(ApiError::internal("a validated action did not parse"));
    };

    let mut attempt = 1;
    loop {
        let mut tx = state.store.begin().await?;
        match run(
            &state,
            &mut tx,
            &scope,
            account,
            &key,
            &request_hash,
            &request,
            now,
        )
        .await
        {
            Ok(response) => {
                tx.commit().await?;
                return Ok(json_answer(StatusCode::CREATED, response));
            }
            Err(Failure::Conflict) if attempt < ATTEMPTS => attempt += 1,
            Err(Failure::Conflict) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "the case kept changing while this action was applied; send it again",
                ))
            }
            Err(Failure::Replay(status, body)) => {
                return match StatusCode::from_u16(status) {
                    Ok(status) => Ok(json_answer(status, body)),
                    Err(_) => Err(ApiError::internal("recorded answer with a bad status")),
                };
            }
            Err(Failure::Rejected(issues)) => return Err(ApiError::insertion_failure(issues)),
            Err(Failure::Api(e)) => return Err(e),
        }
    }
}

enum Failure {
    /// The case changed under the transaction: try again.
    Conflict,
    /// The answer recorded for this idempotency key.
    Replay(u16, String),
    Rejected(Issues),
    Api(ApiError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Api(ApiError::from(e))
    }
}

fn rejected(field: &str, message: impl Into<String>) -> Failure {
    let mut issues = Issues::default();
    issues.add(field, message);
    Failure::Rejected(issues)
}

/// The typed request, or the problems with it (added to `issues`).
fn parse(
    kind: Kind,
    doc: Map<String, Value>,
    now: HttpDate,
    issues: &mut Issues,
) -> Option<Request> {
    let target = match (
        doc.get("case").and_then(Value::as_str),
        doc.get("invoice_number").and_then(Value::as_str),
    ) {
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
        (Some(id), None) => ObjectId::parse(id).ok().map(Target::Case),
        (None, Some(n)) => Some(Target::Invoice(n.trim().to_string())),
    };
    let creditor = doc
        .get("creditor")
        .and_then(Value::as_str)
        .and_then(|s| ObjectId::parse(s).ok());
    let amount = doc
        .get("amount")
        .and_then(Value::as_f64)
        .and_then(|a| Money::from_kronor_f64(a).ok());
    let date_field = match kind {
        Kind::Payment => "bank_transaction_date",
        _ => "client_registration_date",
    };
    let date = doc
        .get(date_field)
        .and_then(Value::as_str)
        .and_then(|s| HttpDate::parse_lenient(s).ok());
    if let Some(d) = date {
        if d > now {
            issues.add(date_field, format!("cannot be later than now ({now})"));
        }
    }
    Some(Request {
        kind,
        creditor: creditor?,
        target: target?,
        amount,
        date,
        doc,
    })
}

/// The case a request names, within the caller's scope and at its creditor.
async fn find_case(tx: &mut Tx<'_>, scope: &Scope, r: &Request) -> Result<(Row, Case), Failure> {
    let rows = match &r.target {
        Target::Case(id) => tx
            .get(&CASES, scope, id)
            .await?
            .into_iter()
            .collect::<Vec<_>>(),
        Target::Invoice(number) => {
            let filter = Filter::And(vec![
                Filter::any_of("creditor", vec![Val::Oid(r.creditor)]),
                Filter::any_of("debt.invoice_number", vec![Val::Str(number.clone())]),
            ]);
            tx.find_all(&CASES, scope, &filter, false).await?
        }
    };
    let mut cases = Vec::with_capacity(rows.len());
    for row in rows {
        let case: Case =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        if case.creditor == r.creditor {
            cases.push((row, case));
        }
    }
    // An invoice number can have had a closed case before the open one: the open one wins.
    if cases.len() > 1 && cases.iter().filter(|(_, c)| c.closed.is_none()).count() == 1 {
        cases.retain(|(_, c)| c.closed.is_none());
    }
    if cases.len() == 1 {
        if let Some(found) = cases.pop() {
            return Ok(found);
        }
    }
    Err(match &r.target {
        Target::Case(id) => rejected("case", must_exist(&id.to_hex(), "cases")),
        Target::Invoice(n) if cases.is_empty() => rejected(
            "invoice_number",
            format!("no case of this creditor has invoice number '{n}'"),
        ),
        Target::Invoice(n) => rejected(
            "invoice_number",
            format!(
                "{} cases of this creditor have invoice number '{n}'; name the case by its id",
                cases.len()
            ),
        ),
    })
}

/// One attempt: everything the request writes, in `tx` (committed by the caller).
#[allow(clippy::too_many_arguments)]
async fn run(
    state: &AppState,
    tx: &mut Tx<'_>,
    scope: &Scope,
    account: ObjectId,
    key: &Option<String>,
    request_hash: &str,
    r: &Request,
    now: HttpDate,
) -> Result<String, Failure> {
    if let Some(key) = key {
        tx.lock_keys(&[format!("idempotency:{account}:{key}")])
            .await?;
        let used = tx.used_idempotency_keys(&[(account, key.clone())]).await?;
        if let Some(u) = used.get(&(account, key.clone())) {
            if u.request_hash != request_hash {
                return Err(rejected("Idempotency-Key", KEY_REUSED));
            }
            return Err(Failure::Replay(u.status, u.response.clone()));
        }
    }
    let (row, case) = find_case(tx, scope, r).await?;
    let id = ObjectId::at(now.unix());
    let command = match r.kind {
        Kind::Payment => Command::CreditorPayment {
            id,
            amount: r.amount.unwrap_or(Money::ZERO),
            paid: r.date.unwrap_or(now),
        },
        Kind::Crediting => Command::Crediting {
            amount: r.amount.unwrap_or(Money::ZERO),
            date: r.date.unwrap_or(now),
        },
        Kind::Cancellation => Command::Cancel,
    };
    let case_id = case.id;
    let invoice_number = case.debt.invoice_number.clone();
    let reference_number = case.reference_number.clone();
    let prepared = cases::prepare(
        tx,
        &mut RuleBook::new(),
        &state.engine,
        case,
        row.etag,
        now,
        command,
    )
    .await;
    let (status, reason, settled) = match prepared {
        Ok(p) => {
            let (settled, excess) = (p.applied.settled, p.applied.excess);
            match cases::write(tx, p, now).await {
                Ok(_) => {}
                Err(MutateError::Conflict) => return Err(Failure::Conflict),
                Err(MutateError::Store(e)) => return Err(e.into()),
                Err(e) => return Err(Failure::Api(ApiError::internal(e))),
            }
            if excess > Money::ZERO {
                (ActionStatus::Warning, reasons::EXCEEDS_CAPITAL, settled)
            } else {
                (ActionStatus::Completed, reasons::COMPLETED, settled)
            }
        }
        Err(MutateError::Refused(Refusal::Closed)) => {
            (ActionStatus::Warning, reasons::CASE_CLOSED, Money::ZERO)
        }
        Err(MutateError::Refused(other)) => {
            return Err(rejected("case", other.to_string()));
        }
        Err(MutateError::Conflict) => return Err(Failure::Conflict),
        Err(MutateError::Store(e)) => return Err(e.into()),
        Err(MutateError::NotFound) => {
            return Err(rejected("case", must_exist(&case_id.to_hex(), "cases")))
        }
    };

    let text = |f: &str| r.doc.get(f).and_then(Value::as_str).map(str::to_string);
    let action = CreditorAction {
        id,
        account,
        creditor: r.creditor,
        case: case_id,
        invoice_number: text("invoice_number"),
        currency: text("currency"),
        amount: r.amount,
        bank_transaction_date: (r.kind == Kind::Payment).then_some(r.date).flatten(),
        client_registration_date: match r.kind {
            Kind::Cancellation => None,
            Kind::Payment => Some(
                text("client_registration_date")
                    .and_then(|s| HttpDate::parse_lenient(&s).ok())
                    .unwrap_or(now),
            ),
            Kind::Crediting => Some(r.date.unwrap_or(now)),
        },
        creditor_payment_reference: text("creditor_payment_reference"),
        credit_invoice: text("credit_invoice"),
        creditor_reference: text("creditor_reference"),
        file_import_report: None,
        origin: "creditor_system".into(),
        settled_amount: (r.kind != Kind::Cancellation).then_some(settled),
        status,
        status_reason_locale: reason.into(),
        case_invoice_number: invoice_number,
        case_reference_number: reference_number,
        created: now,
        updated: now,
        etag: String::new(),
    };
    let stored = prepare_document(r.kind.resource(), &action)?;
    let response = json!({
        "_updated": now.to_string(),
        "_created": now.to_string(),
        "_etag": stored.etag,
        "_id": id.to_hex(),
        "_status": "OK",
        r.kind.status_field(): status,
    })
    .to_string();
    tx.insert(r.kind.resource(), vec![stored]).await?;
    if let Some(key) = key {
        let used = UsedKey {
            request_hash: request_hash.to_string(),
            status: 201,
            response: response.clone(),
        };
        tx.record_idempotency_keys(&[KeyRecord {
            account: &account,
            key,
            used: &used,
            created: now.unix(),
        }])
        .await?;
    }
    Ok(response)
}

fn json_answer(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
