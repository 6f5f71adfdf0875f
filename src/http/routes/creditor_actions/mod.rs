//! `/creditor--payments`, `/creditor--creditings` and `/creditor--cancellations`
//! (amili-api.md §4.6–§4.8, alpha shape): what a creditor does to one of its cases. Each POST
//! names the case by `case` or by `invoice_number` (+ `creditor`); the use case
//! ([`crate::actions::creditor_action`]) applies it and stores it. `Idempotency-Key` makes
//! retries safe.

pub mod post;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

pub use crate::actions::creditor_action::Kind;
use crate::eve::validate::{Rule, Schema};
use crate::http::error::ApiError;
use crate::http::scope::{RequestActor, RequestScope};
use crate::http::{eve, AppState};
use crate::schemas::amount;

/// The body schema of each action.
pub fn schema(kind: Kind) -> Schema {
    match kind {
        Kind::Payment => PAYMENT,
        Kind::Crediting => CREDITING,
        Kind::Cancellation => CANCELLATION,
    }
}

const ORIGIN: Rule = Rule::string().required().allowed(&["creditor_system"]);
const INVOICE_NUMBER: Rule = Rule::string().nonempty().maxlength(100);
const REFERENCE: Rule = Rule::string().maxlength(200);

const PAYMENT: Schema = &[
    ("account", Rule::objectid()),
    ("creditor", Rule::objectid().required()),
    ("case", Rule::objectid()),
    ("invoice_number", INVOICE_NUMBER),
    ("currency", Rule::string().required().allowed(&["SEK"])),
    ("amount", Rule::number().required().check(amount)),
    ("bank_transaction_date", Rule::datetime().required()),
    ("client_registration_date", Rule::datetime()),
    ("creditor_payment_reference", REFERENCE),
    ("file_import_report", Rule::objectid().readonly()),
    ("origin", ORIGIN),
];

const CREDITING: Schema = &[
    ("account", Rule::objectid()),
    ("creditor", Rule::objectid().required()),
    ("case", Rule::objectid()),
    ("invoice_number", INVOICE_NUMBER),
    ("currency", Rule::string().required().allowed(&["SEK"])),
    ("amount", Rule::number().required().check(amount)),
    ("credit_invoice", REFERENCE),
    ("client_registration_date", Rule::datetime()),
    ("creditor_reference", REFERENCE),
    ("file_import_report", Rule::objectid().readonly()),
    ("origin", ORIGIN),
];

const CANCELLATION: Schema = &[
    ("creditor", Rule::objectid().required()),
    ("case", Rule::objectid()),
    ("invoice_number", INVOICE_NUMBER),
    ("file_import_report", Rule::objectid().readonly()),
    ("origin", ORIGIN),
];

async fn list(
    state: AppState,
    scope: RequestScope,
    query: Option<String>,
    kind: Kind,
) -> Result<Response, ApiError> {
    eve::list(&state, kind.resource(), &scope.0, query.as_deref()).await
}

async fn item(
    state: AppState,
    scope: RequestScope,
    id: String,
    query: Option<String>,
    headers: HeaderMap,
    kind: Kind,
) -> Result<Response, ApiError> {
    eve::item(
        &state,
        kind.resource(),
        &scope.0,
        &id,
        query.as_deref(),
        &headers,
    )
    .await
}

macro_rules! action_handlers {
    ($module:ident, $kind:expr) => {
        pub mod $module {
            use super::*;

            pub async fn list(
                State(state): State<AppState>,
                scope: RequestScope,
                RawQuery(query): RawQuery,
            ) -> Result<Response, ApiError> {
                super::list(state, scope, query, $kind).await
            }

            pub async fn get(
                State(state): State<AppState>,
                scope: RequestScope,
                Path(id): Path<String>,
                RawQuery(query): RawQuery,
                headers: HeaderMap,
            ) -> Result<Response, ApiError> {
                super::item(state, scope, id, query, headers, $kind).await
            }

            pub async fn post(
                State(state): State<AppState>,
                RequestActor(actor): RequestActor,
                headers: HeaderMap,
                body: axum::body::Body,
            ) -> Result<Response, ApiError> {
                super::post::handler(state, actor, headers, body, $kind).await
            }
        }
    };
}

action_handlers!(payments, Kind::Payment);
action_handlers!(creditings, Kind::Crediting);
action_handlers!(cancellations, Kind::Cancellation);
