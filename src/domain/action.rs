//! What a creditor did to a case (amili-api.md §4.6–§4.9): a payment the debtor made to the
//! creditor directly, a crediting, a cancellation, a respite. Each is stored as its own
//! document with what came of it, after its command went through the case's one change path.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{HttpDate, Money, ObjectId};

/// How an action went (alpha docs: `completed` | `warning` | `error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Applied as asked.
    Completed,
    /// Applied in part, or not at all because there was nothing to apply it to (a closed
    /// case, more than the remaining capital); `status_reason_locale` says which.
    Warning,
    /// Not applied.
    Error,
}

/// The reasons an action is not simply `completed` (`status_reason_locale`).
pub mod reasons {
    pub const COMPLETED: &str = "api.creditor_action.completed";
    pub const CASE_CLOSED: &str = "api.creditor_action.case_closed";
    pub const EXCEEDS_CAPITAL: &str = "api.creditor_action.amount_exceeds_remaining_capital";
    pub const RESPITE_LIMIT: &str = "api.creditor_action.respite_limit";
    pub const NO_FLOW_ITEM: &str = "api.creditor_action.no_flow_item";
}

/// A creditor payment, crediting or cancellation, as `/creditor--payments`,
/// `/creditor--creditings` and `/creditor--cancellations` store it. The fields an action
/// does not take are absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CreditorAction {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub case: ObjectId,
    /// The invoice number the request named the case by, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_transaction_date: Option<HttpDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_registration_date: Option<HttpDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_payment_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_invoice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_import_report: Option<ObjectId>,
    pub origin: String,
    /// Payments and creditings: the part applied to the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_amount: Option<Money>,
    pub status: ActionStatus,
    pub status_reason_locale: String,
    pub case_invoice_number: String,
    pub case_reference_number: String,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// A respite (anstånd) given to a case: `/case--respites`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRespite {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub case: ObjectId,
    pub days: i64,
    pub origin: String,
    /// The flow item postponed, and when it was due before and after.
    pub item: String,
    pub schedule_before: HttpDate,
    pub schedule_after: HttpDate,
    pub status: ActionStatus,
    pub status_reason_locale: String,
    pub case_invoice_number: String,
    pub case_reference_number: String,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}
