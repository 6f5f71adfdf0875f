//! The case document, field for field as Amili's `GET /cases/{id}` shows it (seed 002, open
//! and closed examples). Every balance is derived from the `transactions` ledger by
//! [`Case::recompute_balances`], never set by hand.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::ledger::{Balances, Origin, Transaction, TransactionType};
use super::registration::FirstAction;
use super::{HttpDate, Money, ObjectId};

/// Where an open case stands in the collection process (seed 003 "Case States", plus the
/// `initializing` and `invoice` states of amili-api.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Initializing,
    Invoice,
    Reminder,
    DebtCollection,
    Enforcement,
    DebtSurveillance,
    Amortization,
    Dispute,
    Estate,
    BankruptcyEstate,
}

impl CaseState {
    pub const ALL: [CaseState; 10] = [
        CaseState::Initializing,
        CaseState::Invoice,
        CaseState::Reminder,
        CaseState::DebtCollection,
        CaseState::Enforcement,
        CaseState::DebtSurveillance,
        CaseState::Amortization,
        CaseState::Dispute,
        CaseState::Estate,
        CaseState::BankruptcyEstate,
    ];

    /// The state as it is on the wire (`debt_collection`).
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Finer-grained progress within a state; `closed` once the case is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Initializing,
    Initialized,
    Invoice,
    Reminder,
    ReminderSent,
    DebtCollection,
    DebtCollectionActive,
    Enforcement,
    EnforcementActive,
    DebtSurveillance,
    Amortization,
    Dispute,
    Estate,
    BankruptcyEstate,
    Closed,
}

/// Why a case was closed (seed 003 "Close Reasons").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    FullyPaid,
    FullyPaidDepreciation,
    FullyPaidBeforeReminder,
    FullyPaidBeforeDebtCollection,
    CapitalPaidToCreditor,
    Bankruptcy,
    Deceased,
    Recalled,
    Credit,
    Cancellation,
    Dispute,
    WrittenOff,
    DebtRestructuring,
    ResubmitInvoice,
    Migrated,
}

impl CloseReason {
    pub const ALL: [CloseReason; 15] = [
        CloseReason::FullyPaid,
        CloseReason::FullyPaidDepreciation,
        CloseReason::FullyPaidBeforeReminder,
        CloseReason::FullyPaidBeforeDebtCollection,
        CloseReason::CapitalPaidToCreditor,
        CloseReason::Bankruptcy,
        CloseReason::Deceased,
        CloseReason::Recalled,
        CloseReason::Credit,
        CloseReason::Cancellation,
        CloseReason::Dispute,
        CloseReason::WrittenOff,
        CloseReason::DebtRestructuring,
        CloseReason::ResubmitInvoice,
        CloseReason::Migrated,
    ];

    /// "Paid" reasons result in a payout; the others are losses (seed 003).
    pub fn is_paid(&self) -> bool {
        matches!(
            self,
            CloseReason::FullyPaid
                | CloseReason::FullyPaidDepreciation
                | CloseReason::FullyPaidBeforeReminder
                | CloseReason::FullyPaidBeforeDebtCollection
                | CloseReason::CapitalPaidToCreditor
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Initializing,
    Initialized,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeesIncludedInCapital {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_fee: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_fee: Option<Money>,
}

/// The debt as registered by the creditor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Debt {
    pub invoice_date: HttpDate,
    pub invoice_due_days_after_invoice_date: i64,
    pub capital_to_claim: Money,
    pub debt_description: String,
    pub invoice_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debt_reference: Option<String>,
    pub payout_reference: String,
    pub interest_days_after_invoice_date: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_capital: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_included_in_capital_to_claim: Option<FeesIncludedInCapital>,
    /// Indriva: `false` when no due date was agreed before the debt arose (räntelagen 4 §):
    /// interest then runs only from 30 days after the first demand. Absent means `true`
    /// (3 §: interest from the due date).
    #[serde(default = "agreed", skip_serializing_if = "is_agreed")]
    pub due_date_agreed: bool,
    /// Indriva: when the first letter demanding the claim (with notice that interest will
    /// be charged) was sent, for a claim with no due date agreed in advance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_demand_date: Option<HttpDate>,
}

fn agreed() -> bool {
    true
}

fn is_agreed(v: &bool) -> bool {
    *v
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InterestRateSettings {
    pub reference_rate: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseSettings {
    pub interest_rate: InterestRateSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateChange {
    pub state: CaseState,
    pub state_date: HttpDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusChange {
    pub status: CaseStatus,
    pub status_date: HttpDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MediaRef {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// The next step the case flow will take, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlowItem {
    pub item: String,
    pub schedule_to_execute: HttpDate,
    pub flow_config: ObjectId,
    pub is_failed: bool,
    pub waiting_for: String,
    pub moved_to_next_state: bool,
    pub flow_config_name_locale: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Service {
    pub service: String,
    pub service_date: HttpDate,
}

/// When the claim becomes time-barred, and the last event that interrupted limitation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Limitation {
    pub break_date: HttpDate,
    pub limitation_date: HttpDate,
    pub locale_annotation: String,
}

/// Present exactly when the case is closed; `close_date` is always set (the store's
/// `closed_at` column relies on it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Closed {
    pub close_date: HttpDate,
    pub reason: CloseReason,
}

/// Reserved for future listeners; always an empty object today.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventListeners {}

/// A collection case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Case {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub debt: Debt,
    pub creditor: ObjectId,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    pub account: ObjectId,
    pub agreement_version: ObjectId,
    pub case_registration: ObjectId,
    pub case_settings: CaseSettings,
    pub creditor_name: String,
    pub currency: String,
    pub customer: ObjectId,
    pub customer_id_number: String,
    pub customer_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    pub customer_status: CustomerStatus,
    pub debtor: ObjectId,
    pub debtor_id_number: String,
    pub debtor_name: String,
    pub latest_state_date: HttpDate,
    pub local_added_capital_amount: Money,
    pub local_added_costs_amount: Money,
    pub local_added_interest_amount: Money,
    pub local_added_transaction_amount: Money,
    pub local_remaining_capital_amount: Money,
    pub local_remaining_costs_amount: Money,
    pub local_remaining_interest_amount: Money,
    pub local_remaining_transaction_amount: Money,
    pub state: CaseState,
    pub state_history: Vec<StateChange>,
    pub status: CaseStatus,
    pub status_history: Vec<StatusChange>,
    pub total_added_capital_amount: Money,
    pub total_added_costs_amount: Money,
    pub total_added_interest_amount: Money,
    pub total_added_transaction_amount: Money,
    pub total_remaining_capital_amount: Money,
    pub total_remaining_costs_amount: Money,
    pub total_remaining_interest_amount: Money,
    pub total_remaining_transaction_amount: Money,
    pub transactions: Vec<Transaction>,
    pub reference_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_invoice: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_flow_item: Option<FlowItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debt_collection: Option<ObjectId>,
    pub services: Vec<Service>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation: Option<Limitation>,
    #[serde(default)]
    pub event_listeners: EventListeners,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Closed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_flow_item_on_close: Option<FlowItem>,
    /// Indriva's own flow bookkeeping (not in Amili's documents); absent on cases written
    /// before the flow engine, which then get [`FlowState::derived`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_state: Option<FlowState>,
}

/// What the flow engine needs to know about a case beyond Amili's fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlowState {
    /// Where the registration asked the case to enter the flow.
    pub first_action: FirstAction,
    /// A company (or other organisation) owes the debt: 10 years of limitation, and the B2B
    /// late-payment compensation can apply. From the registration's `is_company`, else from
    /// the kind of identity number.
    pub debtor_is_company: bool,
    /// The flow item a dispute, an estate, a bankruptcy or a payment plan put on hold; it
    /// runs again when the hold ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hold: Option<FlowItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_plan: Option<PaymentPlan>,
    /// The respites (anstånd) given, in order: the creditor's limits count them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub respites: Vec<RespiteGiven>,
    /// The last letter that demanded payment: what it asked for and by when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<Demand>,
    /// The flow reached the application to Kronofogden: filed for real (`awaiting_filing`
    /// until it is), or simulated in a sandbox account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kronofogden: Option<KronofogdenStep>,
    /// The limitation date a `case.limitation_approaching` warning was raised for: a case
    /// nothing will interrupt (held, or waiting for filing) came within
    /// `LIMITATION_WARNING_DAYS` of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limitation_warned: Option<HttpDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KronofogdenStep {
    pub status: KronofogdenStatus,
    /// When the flow reached the application.
    pub since: HttpDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KronofogdenStatus {
    /// A real account: the flow stopped here; no fee is charged and limitation is not
    /// interrupted until the application is filed.
    AwaitingFiling,
    /// A sandbox account: the application and the verdict are simulated (fees, limitation
    /// breaks), and the case says so.
    Simulated,
}

/// What a letter demanded: paid in full by `pay_by`, it settles the claim (as the creditor's
/// policy says for interest after the letter), and nothing escalates for what it did not ask.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Demand {
    pub sent: HttpDate,
    pub pay_by: HttpDate,
    pub amount: Money,
}

/// A respite given: in which state, for how many days, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RespiteGiven {
    pub state: CaseState,
    pub days: i64,
    pub date: HttpDate,
}

impl FlowState {
    /// For a case without a stored flow state: a debt-collection registration, and a
    /// company when the identity number is a 10-digit organisation number.
    pub fn derived(customer_id_number: &str) -> FlowState {
        FlowState {
            first_action: FirstAction::DebtCollection,
            debtor_is_company: customer_id_number.len() == 10,
            on_hold: None,
            payment_plan: None,
            respites: Vec::new(),
            demand: None,
            kronofogden: None,
            limitation_warned: None,
        }
    }
}

/// An agreed payment plan (amorteringsplan): `monthly_amount` due on `first_due` and on the
/// same day of every following month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentPlan {
    pub monthly_amount: Money,
    pub first_due: HttpDate,
    /// Payments made before the plan started (not counted towards it).
    pub paid_before: Money,
    /// Instalments judged kept so far.
    pub instalments_kept: u32,
}

impl Case {
    /// Sets every `local_*` / `total_*` amount from the ledger. A single-debt case has no
    /// linked cases, so `total_*` equals `local_*`.
    pub fn recompute_balances(&mut self) {
        let b = Balances::from_ledger(&self.transactions);
        self.local_added_capital_amount = b.added_capital;
        self.local_added_interest_amount = b.added_interest;
        self.local_added_costs_amount = b.added_costs;
        self.local_added_transaction_amount = b.added_total();
        self.local_remaining_capital_amount = b.remaining_capital;
        self.local_remaining_interest_amount = b.remaining_interest;
        self.local_remaining_costs_amount = b.remaining_costs;
        self.local_remaining_transaction_amount = b.remaining_total();
        self.total_added_capital_amount = b.added_capital;
        self.total_added_interest_amount = b.added_interest;
        self.total_added_costs_amount = b.added_costs;
        self.total_added_transaction_amount = b.added_total();
        self.total_remaining_capital_amount = b.remaining_capital;
        self.total_remaining_interest_amount = b.remaining_interest;
        self.total_remaining_costs_amount = b.remaining_costs;
        self.total_remaining_transaction_amount = b.remaining_total();
    }

    /// Moves the case to a new state, recording it in both histories.
    pub fn enter_state(&mut self, state: CaseState, status: CaseStatus, at: HttpDate) {
        if self.state != state || self.state_history.is_empty() {
            self.state_history.push(StateChange {
                state,
                state_date: at,
            });
            self.latest_state_date = at;
        }
        self.state = state;
        self.set_status(status, at);
    }

    pub fn set_status(&mut self, status: CaseStatus, at: HttpDate) {
        self.status = status;
        self.status_history.push(StatusChange {
            status,
            status_date: at,
        });
    }

    /// Closes the case; the pending flow item (or the one a hold parked) is kept as
    /// `next_flow_item_on_close`.
    pub fn close(&mut self, reason: CloseReason, at: HttpDate) {
        self.closed = Some(Closed {
            close_date: at,
            reason,
        });
        let parked = self.flow_state.as_mut().and_then(|fs| fs.on_hold.take());
        self.next_flow_item_on_close = self.next_flow_item.take().or(parked);
        self.set_status(CaseStatus::Closed, at);
        self.updated = at;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The closed case of seed 002, verbatim.
    pub const SEED_CLOSED_CASE: &str = include_str!("../../tests/fixtures/seed_closed_case.json");

    pub const SEED_OPEN_CASE: &str = include_str!("../../tests/fixtures/seed_open_case.json");

    /// Amili renders some whole amounts as `2000` and others as `14.0`; compare numbers by
    /// value.
    fn numbers_as_f64(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
            Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
            Value::Object(o) => {
                Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect())
            }
            other => other,
        }
    }

    #[test]
    fn the_seed_cases_round_trip_through_the_typed_model() {
        for seed in [SEED_OPEN_CASE, SEED_CLOSED_CASE] {
            let raw: serde_json::Value = serde_json::from_str(seed).unwrap();
            let case: Case = serde_json::from_value(raw.clone()).unwrap();
            let mut back = serde_json::to_value(&case).unwrap();
            if raw.get("event_listeners").is_none() {
                // Indriva always renders the (empty) event_listeners object.
                back.as_object_mut()
                    .unwrap()
                    .shift_remove("event_listeners");
            }
            assert_eq!(numbers_as_f64(back), numbers_as_f64(raw));
        }
    }

    #[test]
    fn balances_are_derived_from_the_ledger() {
        let mut case: Case = serde_json::from_str(SEED_CLOSED_CASE).unwrap();
        case.total_remaining_capital_amount = Money::from_kronor(99);
        case.recompute_balances();
        assert_eq!(case.local_added_capital_amount, Money::from_kronor(2000));
        assert_eq!(case.local_added_interest_amount, Money::from_kronor(14));
        assert_eq!(
            case.local_added_transaction_amount,
            Money::from_kronor(2014)
        );
        assert_eq!(case.total_remaining_capital_amount, Money::ZERO);
        assert_eq!(case.total_remaining_transaction_amount, Money::ZERO);
    }
}
