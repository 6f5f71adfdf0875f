//! What the agency's bank tells it: an imported bank file and its report, and the payments
//! that could not be put on a case by themselves (`/bank--files`, `/payments--unmatched`).
//! Both belong to the agency, not to a creditor's account.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{HttpDate, Money, ObjectId};

/// The `account` of the agency's own documents: no client account has this id.
pub const AGENCY_ACCOUNT: ObjectId = ObjectId::from_bytes([0; 12]);

/// What became of one payment in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentOutcome {
    /// Settled on the case its OCR reference names.
    Matched,
    /// Settled in part; the rest is an unmatched payment (an overpayment).
    PartlyMatched,
    /// Kept as an unmatched payment.
    Unmatched,
    /// Already imported from another file (same payee, date, deposit and serial number).
    Duplicate,
    /// A deduction (`21`) in the same deposit took the whole payment back: nothing came in.
    Deducted,
}

/// One payment's line in an import report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImportedPayment {
    /// The line of its `20` record in the file.
    pub line: i64,
    pub reference: String,
    pub amount: Money,
    pub outcome: PaymentOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<ObjectId>,
    /// What was settled on cases (the payment's own and its parts').
    pub settled_amount: Money,
    /// What deductions (`21`) of the same deposit took back from this payment.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub deducted_amount: Money,
    /// The parts of a payment split over several references (`22`/`23`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ImportedPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmatched_payment: Option<ObjectId>,
}

/// One part of a split payment in an import report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImportedPart {
    /// The line of its `22`/`23` record; the payment's own line for the part left for the
    /// payment's own reference.
    pub line: i64,
    pub reference: String,
    /// Negative for a `23`; zero when the payer gave no amount.
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<ObjectId>,
    pub settled_amount: Money,
}

/// A deduction (`21`) in an import report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImportedDeduction {
    pub line: i64,
    pub reference: String,
    pub amount: Money,
    /// Bankgirot's deduction code: 1 whole, 2 partial with a rest, 3 partial and final, 0
    /// not given.
    pub code: i64,
    /// The line of the payment in the same deposit it was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_line: Option<i64>,
    /// When no payment of the deposit carries its reference: the negative unmatched payment
    /// kept for an operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmatched_payment: Option<ObjectId>,
}

/// An imported BgMax file and its report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BankFile {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    /// The name it was uploaded under (informative: a file is known by its content).
    pub name: String,
    /// SHA-256 of the file's bytes: the same file imported again adds nothing.
    pub sha256: String,
    pub format: String,
    pub payee_bankgiro: String,
    /// When Bankgirot wrote it (`YYYYMMDDHHMMSSffffff`).
    pub written: String,
    /// A test file (`T`) rather than a production one.
    pub test: bool,
    pub payment_dates: Vec<HttpDate>,
    pub payment_count: i64,
    pub matched_count: i64,
    pub unmatched_count: i64,
    pub duplicate_count: i64,
    pub deduction_count: i64,
    /// Payments less deductions, as the deposits (`15`) say. Always
    /// `settled_amount + unmatched_amount + duplicate_amount`: an import that would not
    /// reconcile is refused.
    pub deposit_amount: Money,
    pub settled_amount: Money,
    /// Kept as unmatched payments: positive rests less deductions no payment carried.
    pub unmatched_amount: Money,
    /// Payments imported before from another file (their money is counted there).
    #[serde(default)]
    pub duplicate_amount: Money,
    /// Every deduction (`21`) of the file.
    #[serde(default)]
    pub deduction_amount: Money,
    pub payments: Vec<ImportedPayment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deductions: Vec<ImportedDeduction>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedStatus {
    Unmatched,
    Matched,
}

/// Why a payment was not put on a case by itself.
pub mod unmatched_reasons {
    /// No OCR reference Bankgirot checked (free text, none, or a failed check).
    pub const NO_OCR: &str = "api.unmatched.no_ocr_reference";
    /// An OCR reference no case has.
    pub const UNKNOWN_OCR: &str = "api.unmatched.unknown_ocr_reference";
    /// The case was closed.
    pub const CASE_CLOSED: &str = "api.unmatched.case_closed";
    /// More than the case owed; this is the rest.
    pub const OVERPAYMENT: &str = "api.unmatched.overpayment";
    /// A split payment whose parts could not all be put on cases (a part without an OCR
    /// reference or case, a negative part, parts adding up to more than was paid).
    pub const SPLIT: &str = "api.unmatched.split_payment";
    /// A deduction (`21`) no payment of its deposit carried: money the bank took back,
    /// negative, for an operator to follow up.
    pub const DEDUCTION: &str = "api.unmatched.deduction";
}

/// A payment (or the rest of one) waiting for a person to put it on a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnmatchedPayment {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub bank_file: ObjectId,
    pub line: i64,
    pub reference: String,
    pub reference_code: i64,
    /// What is still to be put on a case; negative for a deduction.
    pub amount: Money,
    /// What the bank paid in (the whole payment, for an overpayment's rest).
    pub paid_amount: Money,
    pub payment_date: HttpDate,
    pub reason: String,
    /// Every reference the payment carried (its own and its extra references), for a person
    /// matching it by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The case the reference named, when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_name: Option<String>,
    pub payer_bankgiro: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub information: Vec<String>,
    pub status: UnmatchedStatus,
    /// Manual matches so far: the case and what was settled on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<ManualMatch>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManualMatch {
    pub case: ObjectId,
    pub settled_amount: Money,
    pub date: HttpDate,
}
