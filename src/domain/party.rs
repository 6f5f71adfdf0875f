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

/// What a pseudonymised name (or address line) reads.
pub const PURGED: &str = "(purged)";

impl Address {
    /// The address with nothing but its country left.
    pub fn pseudonymised(&self) -> Address {
        Address {
            address_line_1: PURGED.into(),
            zip_code: PURGED.into(),
            city: PURGED.into(),
            country: self.country.clone(),
        }
    }
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

/// Where payouts in one currency go: at least one account type is set on an active creditor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PayoutAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bankgiro: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plusgiro: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clearing_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
}

impl PayoutAccount {
    /// Whether an account to pay to is given (bankgiro, plusgiro, bank account or IBAN).
    pub fn has_account(&self) -> bool {
        self.bankgiro.is_some()
            || self.plusgiro.is_some()
            || self.account_number.is_some()
            || self.iban.is_some()
    }
}

/// Payout accounts per currency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PayoutDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sek: Option<PayoutAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eur: Option<PayoutAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nok: Option<PayoutAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkk: Option<PayoutAccount>,
}

impl PayoutDetails {
    pub fn has_account(&self) -> bool {
        [&self.sek, &self.eur, &self.nok, &self.dkk]
            .into_iter()
            .flatten()
            .any(PayoutAccount::has_account)
    }
}

/// The invoicing business whose claims are collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Creditor {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub name: String,
    /// A Swedish organisation number; exactly one of this and `non_swedish_organization_no`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_swedish_organization_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_template: Option<ObjectId>,
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

impl Creditor {
    /// Amili's activation rule (amili-api.md §4.12): an active creditor needs a standard debt
    /// description, sender and invoice addresses and a payout account. Returns the fields
    /// that are missing, as `(field, message)`.
    pub fn activation_problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = vec![];
        if !self.is_active {
            return out;
        }
        if self
            .standard_debt_description
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            out.push(("standard_debt_description", REQUIRED_WHEN_ACTIVE));
        }
        if self.sender_address.is_none() {
            out.push(("sender_address", REQUIRED_WHEN_ACTIVE));
        }
        if self.invoice_address.is_none() {
            out.push(("invoice_address", REQUIRED_WHEN_ACTIVE));
        }
        if !self
            .payout_details
            .as_ref()
            .is_some_and(PayoutDetails::has_account)
        {
            out.push((
                "payout_details",
                "an active creditor needs a payout account (bankgiro, plusgiro, account_number or iban) in at least one currency",
            ));
        }
        out
    }
}

pub const REQUIRED_WHEN_ACTIVE: &str = "required field when is_active is true";

/// The kinds of access group (amili-api.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessGroupType {
    /// Everything across all creditors of the account.
    AccountAdmin,
    /// Users and settings of one creditor.
    Admin,
    /// Day-to-day work on one creditor's cases.
    User,
    /// Grants API permissions.
    ApiUser,
}

impl AccessGroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessGroupType::AccountAdmin => "account_admin",
            AccessGroupType::Admin => "admin",
            AccessGroupType::User => "user",
            AccessGroupType::ApiUser => "api_user",
        }
    }
}

/// An access group; created automatically with its account or creditor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccessGroup {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    /// The creditor of a creditor-level group (`admin`, `user`); absent on account-level ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<ObjectId>,
    #[serde(rename = "type")]
    pub kind: AccessGroupType,
    pub name: String,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EmailData {
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataAccess {
    pub access_group: ObjectId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationRef {
    pub application: ObjectId,
}

/// A user (amili-api.md §4.16). API users are users in the account's `api_user` group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    /// Indriva: the creditor this user is confined to (all its access groups belong to that
    /// creditor); absent for account-wide users. Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<ObjectId>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_data: Option<EmailData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_oauth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_subscriber: Option<String>,
    #[serde(default)]
    pub data_access: Vec<DataAccess>,
    pub is_enabled: bool,
    #[serde(default)]
    pub applications: Vec<ApplicationRef>,
    #[serde(default)]
    pub log_invoice_registrations: bool,
    #[serde(default)]
    pub log_case_registrations: bool,
    #[serde(default)]
    pub log_creditor_payments: bool,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// A debtor (amili-api.md §4.15); one per account and identity number, kept up to date by
/// registrations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Customer {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub name: String,
    pub id_number: String,
    pub is_person: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub is_active: bool,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

impl Customer {
    /// Replaces everything that names or reaches the person with a pseudonym, once none of
    /// its cases is kept (docs/security.md, "Personal data").
    pub fn pseudonymise(&mut self, now: HttpDate) {
        self.name = PURGED.into();
        self.id_number = format!("purged-{}", self.id);
        self.customer_number = None;
        self.mobile_number = None;
        self.email = None;
        self.address = self.address.pseudonymised();
        self.is_active = false;
        self.updated = now;
    }
}

impl Creditor {
    /// A creditor as the seeds show it (amili-api.md §4.12 example), active.
    pub fn as_in_the_seeds(
        id: ObjectId,
        account: ObjectId,
        name: &str,
        organization_no: &str,
        number: i64,
        now: HttpDate,
    ) -> Creditor {
        let addr = Address {
            address_line_1: "Redaregatan 50".into(),
            zip_code: "25236".into(),
            city: "Helsingborg".into(),
            country: "SE".into(),
        };
        Creditor {
            id,
            account,
            name: name.into(),
            organization_no: Some(organization_no.into()),
            non_swedish_organization_no: None,
            agreement_template: None,
            is_active: true,
            standard_debt_description: Some("Standard skuldbeskrivning på Konto".into()),
            agreement_address: Some(addr.clone()),
            case_config: Some(CaseConfig {
                vat_area: "sweden".into(),
                commission_excluded_vat: false,
                payout_capital_by_invoice: true,
                payout_interest_by_invoice: false,
            }),
            description: Some("Generella tester".into()),
            default_letter_locale: "sv".into(),
            payout_details: Some(PayoutDetails {
                sek: Some(PayoutAccount {
                    bankgiro: Some("12312312".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            sender_address: Some(addr.clone()),
            invoice_address: Some(addr),
            always_use_standard_debt_description: false,
            added_to_erp_system: false,
            creditor_number: number,
            created: now,
            updated: now,
            etag: String::new(),
        }
    }
}
