//! The case ledger: every amount on a case is a signed line in its `transactions`, and every
//! `*_added_*` / `*_remaining_*` figure is derived from those lines, never stored on its own.
//!
//! A line carries two dates: `bank_transaction_date`, when the money moved or the claim arose
//! (a payment's value date, the invoice date of the capital), and `registration_date`, when
//! Indriva booked it. Balances *as of* a date use the first, so a payment booked today but
//! made yesterday counts from yesterday.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{HttpDate, Money, ObjectId};

/// The `description_locale_tag` of each kind of line Indriva books. The registration and
/// payment tags are the seeds' own; the others follow their pattern.
pub mod tags {
    /// The capital of a registered debt (seed 002).
    pub const CASE_REGISTRATION: &str = "api.transaction.case_registration";
    /// Interest posted by the flow (seed 002).
    pub const INTEREST: &str = "api.transaction.case_flow";
    /// A correction of posted interest after a backdated payment lowered what was due.
    pub const INTEREST_CORRECTION: &str = "api.transaction.interest_correction";
    /// A fee the creditor charged before handing the debt over; the suffix is the fee type.
    pub const FEE_ALREADY_CLAIMED: &str = "api.transaction.fee_already_claimed.";
    pub const REMINDER_FEE: &str = "api.transaction.reminder_fee";
    pub const DEBT_COLLECTION_FEE: &str = "api.transaction.debt_collection_fee";
    pub const LATE_PAYMENT_COMPENSATION: &str = "api.transaction.late_payment_compensation";
    pub const PAYMENT_PLAN_FEE: &str = "api.transaction.payment_plan_fee";
    pub const ENFORCEMENT_APPLICATION_FEE: &str = "api.transaction.enforcement_application_fee";
    pub const ENFORCEMENT_OWN_WORK_FEE: &str = "api.transaction.enforcement_own_work_fee";
    /// What remains written off when a case closes with depreciation (seed 002).
    pub const DEPRECIATED: &str = "api.transaction.depreciated";
    /// A payment the debtor made to the creditor, reported by the creditor (seed 002).
    pub const CREDITOR_PAYMENT: &str = "creditor_payment.payment_settled";
    /// A payment the debtor made to the agency.
    pub const DEBTOR_PAYMENT: &str = "api.transaction.payment";
    /// A credit note from the creditor.
    pub const CREDITED: &str = "creditor_crediting.credited";
    /// Money the debtor paid as interest that a backdated payment made no longer owed, moved
    /// to capital: a positive interest line and a negative capital line of the same amount.
    pub const PAYMENT_REALLOCATED: &str = "api.transaction.payment_reallocated";
}

/// The kind of amount a ledger line moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Capital,
    Interest,
    /// Fees and other costs claimed from the debtor.
    Costs,
}

/// Which system booked a ledger line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    CreditorSystem,
    SolicitorSystem,
}

/// One signed line of the case's ledger. Positive lines add to the claim, negative lines
/// (payments, credits, write-offs) reduce it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transaction {
    pub bank_transaction_date: HttpDate,
    pub registration_date: HttpDate,
    pub origin: Origin,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    pub description_locale_tag: String,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_payment: Option<ObjectId>,
}

impl Transaction {
    /// A line booked by Indriva itself (`solicitor_system`), moving money at `at`.
    pub fn booked(kind: TransactionType, tag: &str, amount: Money, at: HttpDate) -> Self {
        Transaction {
            bank_transaction_date: at,
            registration_date: at,
            origin: Origin::SolicitorSystem,
            kind,
            description_locale_tag: tag.to_string(),
            amount,
            payment_method: None,
            creditor_payment: None,
        }
    }

    /// The calendar day the amount counts from.
    pub fn value_date(&self) -> NaiveDate {
        self.bank_transaction_date.date()
    }

    pub fn is(&self, tag: &str) -> bool {
        self.description_locale_tag == tag
    }
}

/// Balances derived from the ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    pub added_capital: Money,
    pub added_interest: Money,
    pub added_costs: Money,
    pub remaining_capital: Money,
    pub remaining_interest: Money,
    pub remaining_costs: Money,
}

impl Balances {
    /// Added amounts are the positive lines per type (a reallocated payment aside);
    /// remaining amounts are all lines per type.
    pub fn from_ledger(lines: &[Transaction]) -> Self {
        Self::of(lines.iter())
    }

    /// The balances counting only lines whose money moved on or before `at`
    /// (`bank_transaction_date`), whenever they were booked.
    pub fn as_of(lines: &[Transaction], at: HttpDate) -> Self {
        Self::of(lines.iter().filter(|t| t.bank_transaction_date <= at))
    }

    fn of<'a>(lines: impl Iterator<Item = &'a Transaction>) -> Self {
        let mut b = Balances::default();
        for t in lines {
            let (added, remaining) = match t.kind {
                TransactionType::Capital => (&mut b.added_capital, &mut b.remaining_capital),
                TransactionType::Interest => (&mut b.added_interest, &mut b.remaining_interest),
                TransactionType::Costs => (&mut b.added_costs, &mut b.remaining_costs),
            };
            // A reallocated payment is money moved between kinds, not an amount added.
            if t.amount.is_positive() && !t.is(tags::PAYMENT_REALLOCATED) {
                *added += t.amount;
            }
            *remaining += t.amount;
        }
        b
    }

    pub fn added_total(&self) -> Money {
        self.added_capital + self.added_interest + self.added_costs
    }

    pub fn remaining_total(&self) -> Money {
        self.remaining_capital + self.remaining_interest + self.remaining_costs
    }
}

/// The sum of the lines carrying `tag`.
pub fn total_tagged(lines: &[Transaction], tag: &str) -> Money {
    lines.iter().filter(|t| t.is(tag)).map(|t| t.amount).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(kind: TransactionType, ore: i64, day: i64) -> Transaction {
        let at = HttpDate::from_ymd_hms(2025, 1, 1, 12, 0, 0)
            .unwrap()
            .plus_days(day);
        Transaction::booked(kind, "t", Money::from_ore(ore), at)
    }

    fn arb_line() -> impl Strategy<Value = Transaction> {
        (0..3u8, -1_000_000i64..1_000_000, 0i64..400).prop_map(|(k, ore, day)| {
            let kind = [
                TransactionType::Capital,
                TransactionType::Interest,
                TransactionType::Costs,
            ][k as usize];
            line(kind, ore, day)
        })
    }

    proptest! {
        /// The identities every case's figures rely on, for any ledger.
        #[test]
        fn balance_identities_hold_for_any_ledger(
            lines in proptest::collection::vec(arb_line(), 0..40),
            split in 0usize..40,
            cut in 0i64..400,
        ) {
            let b = Balances::from_ledger(&lines);
            // the totals, from the lines themselves: everything booked, and what was added
            let all: Money = lines.iter().map(|t| t.amount).sum();
            let positive: Money =
                lines.iter().filter(|t| t.amount.is_positive()).map(|t| t.amount).sum();
            prop_assert_eq!(b.remaining_total(), all);
            prop_assert_eq!(b.added_total(), positive);
            // remaining is the signed sum per type; added the positive part
            for kind in [TransactionType::Capital, TransactionType::Interest, TransactionType::Costs] {
                let of = |pos_only: bool| -> Money {
                    lines.iter()
                        .filter(|t| t.kind == kind && (!pos_only || t.amount.is_positive()))
                        .map(|t| t.amount)
                        .sum()
                };
                let (added, remaining) = match kind {
                    TransactionType::Capital => (b.added_capital, b.remaining_capital),
                    TransactionType::Interest => (b.added_interest, b.remaining_interest),
                    TransactionType::Costs => (b.added_costs, b.remaining_costs),
                };
                prop_assert_eq!(added, of(true));
                prop_assert_eq!(remaining, of(false));
                prop_assert!(remaining <= added);
            }
            // a ledger split in two adds up to the whole
            let split = split.min(lines.len());
            let (l, r) = lines.split_at(split);
            let (bl, br) = (Balances::from_ledger(l), Balances::from_ledger(r));
            prop_assert_eq!(bl.added_total() + br.added_total(), b.added_total());
            prop_assert_eq!(bl.remaining_total() + br.remaining_total(), b.remaining_total());
            // as of a date: exactly the lines that moved by then, in any booking order
            let at = HttpDate::from_ymd_hms(2025, 1, 1, 12, 0, 0).unwrap().plus_days(cut);
            let moved: Vec<Transaction> =
                lines.iter().filter(|t| t.bank_transaction_date <= at).cloned().collect();
            prop_assert_eq!(Balances::as_of(&lines, at), Balances::from_ledger(&moved));
            let mut reversed = lines.clone();
            reversed.reverse();
            prop_assert_eq!(Balances::as_of(&reversed, at), Balances::as_of(&lines, at));
            prop_assert_eq!(
                Balances::as_of(&lines, at.plus_days(1000)),
                b
            );
        }
    }

    #[test]
    fn a_backdated_payment_counts_from_its_value_date() {
        // Seed 002: capital 2000 on 7 Jul; interest 14 posted 3 Sep 08:00:17; the creditor
        // reports on 3 Sep 11:18:58 a payment made at 08:00:00 that day.
        let d = |s: &str| HttpDate::parse_lenient(s).unwrap();
        let mut lines = vec![
            Transaction::booked(
                TransactionType::Capital,
                tags::CASE_REGISTRATION,
                Money::from_kronor(2000),
                d("Mon, 07 Jul 2025 00:00:00 GMT"),
            ),
            Transaction::booked(
                TransactionType::Interest,
                tags::INTEREST,
                Money::from_kronor(14),
                d("Wed, 03 Sep 2025 08:00:17 GMT"),
            ),
        ];
        let mut payment = Transaction::booked(
            TransactionType::Capital,
            tags::CREDITOR_PAYMENT,
            Money::from_kronor(-2000),
            d("Wed, 03 Sep 2025 08:00:00 GMT"),
        );
        payment.registration_date = d("Wed, 03 Sep 2025 11:18:58 GMT");
        lines.push(payment);
        // Just after the payment, before the interest posting: nothing of the capital is left.
        let mid = Balances::as_of(&lines, d("Wed, 03 Sep 2025 08:00:10 GMT"));
        assert_eq!(mid.remaining_capital, Money::ZERO);
        assert_eq!(mid.remaining_interest, Money::ZERO);
        let end = Balances::from_ledger(&lines);
        assert_eq!(end.remaining_capital, Money::ZERO);
        assert_eq!(end.remaining_interest, Money::from_kronor(14));
        assert_eq!(end.added_total(), Money::from_kronor(2014));
        assert_eq!(total_tagged(&lines, tags::INTEREST), Money::from_kronor(14));
    }
}
