//! Accounts and creditors (amili-api.md §3, §4.12–§4.13).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::case::CaseSettings;
use super::{HttpDate, ObjectId};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Address {
    pub address_line_1: String,
    pub zip_code: String,
    pub city: String,
    pub country: String,
}

/// A client relationship; owns creditors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Account {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub organization_no: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_debt_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_address: Option<Address>,
    pub case_settings: CaseSettings,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseConfig {
    pub vat_area: String,
    pub commission_excluded_vat: bool,
    pub payout_capital_by_invoice: bool,
    pub payout_interest_by_invoice: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PayoutAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bankgiro: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PayoutDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sek: Option<PayoutAccount>,
}

/// The invoicing business whose claims are collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Creditor {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub name: String,
    pub organization_no: String,
    pub is_active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_debt_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_config: Option<CaseConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub default_letter_locale: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_details: Option<PayoutDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_address: Option<Address>,
    pub always_use_standard_debt_description: bool,
    pub added_to_erp_system: bool,
    pub creditor_number: i64,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}
