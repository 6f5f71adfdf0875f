//! Case registration (amili-api.md §4.1, seeds 000 and 001): a creditor registers a customer
//! and one or more overdue debts; each debt opens one case in `initializing`, with a ledger
//! that holds the capital and the fees the customer was already charged.
//!
//! Pure: ids, numbers and the time are given by the caller.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::case::{
    Case, CaseSettings, CaseState, CaseStatus, CustomerStatus, Debt, EventListeners,
    FeesIncludedInCapital, FlowState, Origin, StateChange, StatusChange, Transaction,
    TransactionType,
};
use super::flow::FlowConfig;
use super::ledger::tags;
use super::party::{Address, Creditor};
use super::{HttpDate, Money, ObjectId};

/// Where the case enters the flow.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FirstAction {
    Reminder,
    DebtCollection,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegisteredCustomer {
    pub name: String,
    /// Canonical form (12 digits for people, 10 for organisations).
    pub id_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_company: Option<bool>,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
}

impl RegisteredCustomer {
    /// Replaces everything that names or reaches the person with `pseudonym`.
    pub fn pseudonymise(&mut self, pseudonym: &str) {
        self.name = super::party::PURGED.into();
        self.id_number = pseudonym.into();
        self.customer_number = None;
        self.mobile_number = None;
        self.email = None;
        self.address = self.address.pseudonymised();
    }
}

/// A fee the creditor already charged the customer before handing the debt over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimedFee {
    pub amount: Money,
    pub fee_registration_date: HttpDate,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeesAlreadyClaimed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<ClaimedFee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debt_collection: Option<ClaimedFee>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegisteredDebt {
    pub invoice_number: String,
    pub debt_description: String,
    pub invoice_date: HttpDate,
    pub capital_to_claim: Money,
    pub invoice_due_days_after_invoice_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_included_in_capital_to_claim: Option<FeesIncludedInCapital>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_already_claimed: Option<FeesAlreadyClaimed>,
    /// Indriva: the last time the creditor interrupted limitation itself (a reminder the
    /// debtor received, a payment, an acknowledgement), when after the due date. The claim's
    /// limitation runs from it instead of the due date (preskriptionslag 5 §).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation_interrupted_date: Option<HttpDate>,
    /// Indriva: whether the due date was agreed before the debt arose (räntelagen 3 §).
    /// When absent, a due date after the invoice date was agreed and 0 days (payable on
    /// demand) was not; `false` makes interest run from 30 days after the first demand
    /// (4 §).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date_agreed: Option<bool>,
}

impl RegisteredDebt {
    /// Whether interest runs from the due date (räntelagen 3 §) rather than from 30 days
    /// after the first demand (4 §): as the creditor said, or else whether the invoice gave
    /// any days to pay.
    pub fn due_date_agreed(&self) -> bool {
        self.due_date_agreed
            .unwrap_or(self.invoice_due_days_after_invoice_date > 0)
    }

    /// The fees inside `capital_to_claim`.
    pub fn included_fees(&self) -> Money {
        self.fees_included_in_capital_to_claim
            .as_ref()
            .map(|f| f.invoice_fee.unwrap_or_default() + f.shipment_fee.unwrap_or_default())
            .unwrap_or_default()
    }

    /// The day the invoice fell due: its date plus its due days, moved to the next banking
    /// day when that is a weekend or holiday (lag 1930:173, 2 §).
    pub fn due_date(&self) -> chrono::NaiveDate {
        super::banking::on_or_after(
            self.invoice_date.date()
                + chrono::Duration::days(self.invoice_due_days_after_invoice_date.max(0)),
        )
    }
}

impl CaseRegistration {
    /// A company (or other organisation) owes the debt: the registration's `is_company`, or
    /// else a 10-digit organisation number.
    pub fn debtor_is_company(&self) -> bool {
        self.customer
            .is_company
            .unwrap_or(self.customer.id_number.len() == 10)
    }
}

/// The stored registration: the request as validated (identity number canonical) and what it
/// created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRegistration {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub first_action: FirstAction,
    pub currency: String,
    pub customer: RegisteredCustomer,
    pub debts: Vec<RegisteredDebt>,
    #[serde(rename = "_cases", default)]
    pub cases: Vec<ObjectId>,
    #[serde(rename = "_ocr_numbers", default)]
    pub ocr_numbers: Vec<ObjectId>,
    #[serde(rename = "_ocr_numbers_ocr", default)]
    pub ocr_numbers_ocr: Vec<String>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// An OCR reference record (`_ocr_numbers` holds their ids).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OcrNumber {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub case: ObjectId,
    pub ocr: String,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// The agreement every case is on until agreements are modelled (the seeds' value).
pub const DEFAULT_AGREEMENT_VERSION: &str = "6790c2ec38ebf4814061f0b5";

/// What a new case needs besides the registration.
pub struct CaseContext<'a> {
    pub id: ObjectId,
    pub customer: ObjectId,
    pub creditor: &'a Creditor,
    pub case_settings: CaseSettings,
    pub reference_number: String,
    /// The creditor's flow: the case waits for its first item.
    pub flow: &'a FlowConfig,
    pub now: HttpDate,
}

fn constant_id(hex: &str) -> ObjectId {
    ObjectId::parse(hex).unwrap_or_else(|_| unreachable!("constant id"))
}

/// Opens the case for `reg.debts[index]`.
///
/// The ledger gets the capital (`capital_to_claim`, fees included in it kept as its
/// breakdown) dated the invoice date, and one cost line per fee already claimed, dated when
/// it was charged. Balances are derived from those lines.
pub fn open_case(reg: &CaseRegistration, index: usize, ctx: &CaseContext<'_>) -> Case {
    let d = &reg.debts[index];
    let now = ctx.now;
    let included = d.included_fees();
    let mut transactions = vec![Transaction {
        bank_transaction_date: d.invoice_date,
        registration_date: now,
        origin: Origin::CreditorSystem,
        kind: TransactionType::Capital,
        description_locale_tag: tags::CASE_REGISTRATION.into(),
        amount: d.capital_to_claim,
        payment_method: None,
        creditor_payment: None,
    }];
    if let Some(fees) = &d.fees_already_claimed {
        for (tag, fee) in [
            ("reminder", &fees.reminder),
            ("debt_collection", &fees.debt_collection),
        ] {
            if let Some(fee) = fee {
                transactions.push(Transaction {
                    bank_transaction_date: fee.fee_registration_date,
                    registration_date: now,
                    origin: Origin::CreditorSystem,
                    kind: TransactionType::Costs,
                    description_locale_tag: format!("{}{tag}", tags::FEE_ALREADY_CLAIMED),
                    amount: fee.amount,
                    payment_method: None,
                    creditor_payment: None,
                });
            }
        }
    }
    let mut case = Case {
        id: ctx.id,
        debt: Debt {
            invoice_date: d.invoice_date,
            invoice_due_days_after_invoice_date: d.invoice_due_days_after_invoice_date,
            capital_to_claim: d.capital_to_claim,
            debt_description: d.debt_description.clone(),
            invoice_number: d.invoice_number.clone(),
            debt_reference: None,
            payout_reference: d.invoice_number.clone(),
            interest_days_after_invoice_date: d.invoice_due_days_after_invoice_date,
            initial_capital: (included != Money::ZERO).then(|| d.capital_to_claim - included),
            fees_included_in_capital_to_claim: d.fees_included_in_capital_to_claim.clone(),
            due_date_agreed: d.due_date_agreed(),
            first_demand_date: None,
        },
        creditor: reg.creditor,
        created: now,
        etag: String::new(),
        updated: now,
        account: reg.account,
        agreement_version: constant_id(DEFAULT_AGREEMENT_VERSION),
        case_registration: reg.id,
        case_settings: ctx.case_settings.clone(),
        creditor_name: ctx.creditor.name.clone(),
        currency: reg.currency.clone(),
        customer: ctx.customer,
        customer_id_number: reg.customer.id_number.clone(),
        customer_name: reg.customer.name.clone(),
        customer_number: reg.customer.customer_number.clone(),
        customer_status: CustomerStatus::Initializing,
        debtor: ctx.customer,
        debtor_id_number: reg.customer.id_number.clone(),
        debtor_name: reg.customer.name.clone(),
        latest_state_date: now,
        local_added_capital_amount: Money::ZERO,
        local_added_costs_amount: Money::ZERO,
        local_added_interest_amount: Money::ZERO,
        local_added_transaction_amount: Money::ZERO,
        local_remaining_capital_amount: Money::ZERO,
        local_remaining_costs_amount: Money::ZERO,
        local_remaining_interest_amount: Money::ZERO,
        local_remaining_transaction_amount: Money::ZERO,
        state: CaseState::Initializing,
        state_history: vec![StateChange {
            state: CaseState::Initializing,
            state_date: now,
        }],
        status: CaseStatus::Initializing,
        status_history: vec![StatusChange {
            status: CaseStatus::Initializing,
            status_date: now,
        }],
        total_added_capital_amount: Money::ZERO,
        total_added_costs_amount: Money::ZERO,
        total_added_interest_amount: Money::ZERO,
        total_added_transaction_amount: Money::ZERO,
        total_remaining_capital_amount: Money::ZERO,
        total_remaining_costs_amount: Money::ZERO,
        total_remaining_interest_amount: Money::ZERO,
        total_remaining_transaction_amount: Money::ZERO,
        transactions,
        reference_number: ctx.reference_number.clone(),
        original_invoice: None,
        next_flow_item: ctx.flow.item(&ctx.flow.start, now),
        debt_collection: None,
        services: vec![],
        limitation: Some(super::limitation::at_registration(
            d.due_date(),
            d.limitation_interrupted_date,
            reg.debtor_is_company(),
        )),
        event_listeners: EventListeners::default(),
        closed: None,
        next_flow_item_on_close: None,
        flow_state: Some(FlowState {
            first_action: reg.first_action,
            debtor_is_company: reg.debtor_is_company(),
            on_hold: None,
            payment_plan: None,
            respites: Vec::new(),
            demand: None,
            kronofogden: None,
            limitation_warned: None,
        }),
    };
    case.recompute_balances();
    case
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::case::InterestRateSettings;

    /// Seed 001's registration body.
    pub fn seed_001() -> CaseRegistration {
        let now = HttpDate::parse_lenient("Wed, 03 Sep 2025 07:56:11 GMT").unwrap();
        CaseRegistration {
            id: ObjectId::parse("68b7f49cb8903ae30ebb85ec").unwrap(),
            account: ObjectId::parse("674dbeaf08847b9501cc9132").unwrap(),
            creditor: ObjectId::parse("674dbeb208847b9501cc9138").unwrap(),
            first_action: FirstAction::DebtCollection,
            currency: "SEK".into(),
            customer: RegisteredCustomer {
                name: "ACME Inc.".into(),
                id_number: "5560269986".into(),
                is_company: Some(true),
                address: Address {
                    address_line_1: "Storgatan 42".into(),
                    zip_code: "12345".into(),
                    city: "Stockholm".into(),
                    country: "SE".into(),
                },
                mobile_number: None,
                email: None,
                customer_number: None,
            },
            debts: vec![RegisteredDebt {
                invoice_number: "INV-2025-003".into(),
                debt_description: "Services".into(),
                invoice_date: HttpDate::parse_lenient("Mon, 07 Jul 2025 00:00:00 GMT").unwrap(),
                capital_to_claim: Money::from_kronor(2050),
                invoice_due_days_after_invoice_date: 31,
                fees_included_in_capital_to_claim: Some(FeesIncludedInCapital {
                    invoice_fee: Some(Money::from_kronor(50)),
                    shipment_fee: None,
                }),
                fees_already_claimed: Some(FeesAlreadyClaimed {
                    reminder: Some(ClaimedFee {
                        amount: Money::from_kronor(60),
                        fee_registration_date: HttpDate::parse_lenient(
                            "Mon, 11 Aug 2025 00:00:00 GMT",
                        )
                        .unwrap(),
                    }),
                    debt_collection: None,
                }),
                limitation_interrupted_date: None,
                due_date_agreed: None,
            }],
            cases: vec![],
            ocr_numbers: vec![],
            ocr_numbers_ocr: vec![],
            created: now,
            updated: now,
            etag: String::new(),
        }
    }

    #[test]
    fn a_registered_debt_opens_an_initializing_case_with_its_ledger() {
        let reg = seed_001();
        let creditor = crate::domain::party::Creditor::as_in_the_seeds(
            reg.creditor,
            reg.account,
            "Amili Integration Team",
            "1122334455",
            2_000_037,
            reg.created,
        );
        let case = open_case(
            &reg,
            0,
            &CaseContext {
                id: ObjectId::parse("68b7f49c7b02934caddab092").unwrap(),
                customer: ObjectId::parse("67ea693a65e2ae992e484c4e").unwrap(),
                creditor: &creditor,
                case_settings: CaseSettings {
                    interest_rate: InterestRateSettings {
                        reference_rate: true,
                    },
                },
                reference_number: "48640".into(),
                flow: FlowConfig::default_swedish(),
                now: reg.created,
            },
        );
        assert_eq!(case.state, CaseState::Initializing);
        assert_eq!(case.status, CaseStatus::Initializing);
        assert_eq!(case.state_history.len(), 1);
        assert_eq!(case.status_history.len(), 1);
        assert_eq!(case.customer_id_number, "5560269986");
        assert_eq!(case.debtor, case.customer);
        assert_eq!(case.debt.payout_reference, "INV-2025-003");
        assert_eq!(case.debt.interest_days_after_invoice_date, 31);
        // Capital 2050 of which 50 is the invoice fee; the 60 reminder fee is a cost line.
        assert_eq!(case.local_added_capital_amount, Money::from_kronor(2050));
        assert_eq!(case.debt.initial_capital, Some(Money::from_kronor(2000)));
        assert_eq!(case.local_added_costs_amount, Money::from_kronor(60));
        assert_eq!(case.local_added_interest_amount, Money::ZERO);
        assert_eq!(
            case.total_remaining_transaction_amount,
            Money::from_kronor(2110)
        );
        assert_eq!(case.transactions.len(), 2);
        assert_eq!(
            case.transactions[1].description_locale_tag,
            "api.transaction.fee_already_claimed.reminder"
        );
        assert_eq!(
            case.transactions[1].bank_transaction_date,
            HttpDate::parse_lenient("Mon, 11 Aug 2025 00:00:00 GMT").unwrap()
        );
        let first = case.next_flow_item.as_ref().unwrap();
        assert_eq!(first.item, "case--registrations__initialize");
        assert_eq!(first.schedule_to_execute, reg.created.plus_seconds(300));
        let fs = case.flow_state.as_ref().unwrap();
        assert_eq!(fs.first_action, FirstAction::DebtCollection);
        assert!(fs.debtor_is_company);
    }
}
