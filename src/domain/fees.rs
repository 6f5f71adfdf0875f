//! Statutory collection fees as policy data per creditor (domain-se.md §2, lag (1981:739) om
//! ersättning för inkassokostnader m.m.). The statute sets maximums; what a creditor's cases
//! are charged is its [`FeePolicy`], never more than the maximum.
//!
//! * Reminder fee (påminnelseavgift), at most 60 SEK, only when the creditor declares that
//!   the debtor agreed to it no later than when the debt arose.
//! * Collection fee (inkassoavgift), at most 180 SEK, with the collection letter.
//! * Payment-plan fee (amorteringsplan), at most 170 SEK, once.
//! * Kronofogden: the 300 SEK application fee and at most 380 SEK for the applicant's own work.
//! * Between businesses, when the policy enables it: the fixed 450 SEK late-payment
//!   compensation (förseningsersättning, 4 a §). It absorbs the reminder, collection and
//!   payment-plan fees, the creditor's own included: they are due only to the extent that
//!   they together exceed 450 SEK (4 a § last paragraph). The compensation line is what the
//!   450 adds to the fees already in the ledger, so the group never costs more than
//!   max(450, the fees).
//!
//! A fee the creditor already charged before registration (`fees_already_claimed`) is not
//! charged again.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ledger::{tags, Transaction, TransactionType};
use super::Money;

/// The fees Indriva charges a creditor's debtors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FeePolicy {
    /// Charged with the reminder letter, only when `reminder_fee_agreement` is true.
    pub reminder_fee: Money,
    /// The creditor's terms gave the debtor notice of a reminder fee when the debt arose.
    pub reminder_fee_agreement: bool,
    /// Charged with the collection letter (inkassokrav).
    pub collection_fee: Money,
    /// Charged once when a payment plan is set up.
    pub payment_plan_fee: Money,
    /// Kronofogden's fee for an application for a payment order.
    pub enforcement_application_fee: Money,
    /// The applicant's own work in a payment-order case.
    pub enforcement_own_work_fee: Money,
    /// Claim the 450 SEK late-payment compensation from company debtors.
    pub late_payment_compensation: bool,
}

/// The statutory maximums.
pub const MAX_REMINDER_FEE: Money = Money::from_kronor(60);
pub const MAX_COLLECTION_FEE: Money = Money::from_kronor(180);
pub const MAX_PAYMENT_PLAN_FEE: Money = Money::from_kronor(170);
pub const MAX_ENFORCEMENT_APPLICATION_FEE: Money = Money::from_kronor(300);
pub const MAX_ENFORCEMENT_OWN_WORK_FEE: Money = Money::from_kronor(380);
/// The fixed B2B late-payment compensation (4 a §).
pub const LATE_PAYMENT_COMPENSATION: Money = Money::from_kronor(450);

impl Default for FeePolicy {
    /// The statutory maximums; no reminder fee (it needs an agreement); no B2B compensation.
    fn default() -> Self {
        FeePolicy {
            reminder_fee: MAX_REMINDER_FEE,
            reminder_fee_agreement: false,
            collection_fee: MAX_COLLECTION_FEE,
            payment_plan_fee: MAX_PAYMENT_PLAN_FEE,
            enforcement_application_fee: MAX_ENFORCEMENT_APPLICATION_FEE,
            enforcement_own_work_fee: MAX_ENFORCEMENT_OWN_WORK_FEE,
            late_payment_compensation: false,
        }
    }
}

impl FeePolicy {
    /// Each fee against its maximum; the problems as `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        [
            ("reminder_fee", self.reminder_fee, MAX_REMINDER_FEE),
            ("collection_fee", self.collection_fee, MAX_COLLECTION_FEE),
            (
                "payment_plan_fee",
                self.payment_plan_fee,
                MAX_PAYMENT_PLAN_FEE,
            ),
            (
                "enforcement_application_fee",
                self.enforcement_application_fee,
                MAX_ENFORCEMENT_APPLICATION_FEE,
            ),
            (
                "enforcement_own_work_fee",
                self.enforcement_own_work_fee,
                MAX_ENFORCEMENT_OWN_WORK_FEE,
            ),
        ]
        .into_iter()
        .filter_map(|(field, fee, max)| {
            if fee < Money::ZERO {
                Some((field, "must not be negative".to_string()))
            } else if fee > max {
                Some((
                    field,
                    format!("must not exceed the statutory maximum of {max} SEK"),
                ))
            } else {
                None
            }
        })
        .collect()
    }
}

/// A moment in the flow that can carry fees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeeEvent {
    ReminderLetter,
    CollectionLetter,
    PaymentPlan,
    EnforcementApplication,
}

/// The cost lines (amount, tag) to book at a fee event, given what the ledger already holds.
pub fn charges(
    event: FeeEvent,
    policy: &FeePolicy,
    ledger: &[Transaction],
    debtor_is_company: bool,
) -> Vec<(Money, &'static str)> {
    let posted = |tag: &str| -> Money { super::ledger::total_tagged(ledger, tag) };
    let has = |tag: &str| ledger.iter().any(|t| t.is(tag));
    let already = |fee: &str| -> Money {
        let tag = format!("{}{fee}", tags::FEE_ALREADY_CLAIMED);
        posted(&tag)
    };
    // The fees the 450 SEK compensation absorbs, as far as the ledger holds them: the
    // creditor's own and the reminder, collection and plan fees charged so far. (A fee the
    // compensation swallowed whole left no line and is not counted again: while the group
    // costs exactly 450 that can only lower a later fee, and only when the creditor's own
    // fees are more than 40 SEK.)
    let absorbed = posted(tags::REMINDER_FEE)
        + posted(tags::DEBT_COLLECTION_FEE)
        + posted(tags::PAYMENT_PLAN_FEE)
        + already("reminder")
        + already("debt_collection");
    let compensation = policy.late_payment_compensation && debtor_is_company;
    // 4 a § last paragraph: a fee is due only for what the absorbed fees exceed 450 SEK.
    // Once the group (the compensation and the fees it absorbs) costs more than 450, the
    // fees have passed it and a new one is due in full.
    let group = absorbed + posted(tags::LATE_PAYMENT_COMPENSATION);
    let beyond_compensation = |fee: Money| {
        if group > LATE_PAYMENT_COMPENSATION {
            fee
        } else {
            (absorbed + fee - LATE_PAYMENT_COMPENSATION).clamp(Money::ZERO, fee)
        }
    };
    let mut out = Vec::new();
    match event {
        FeeEvent::ReminderLetter | FeeEvent::CollectionLetter => {
            // The compensation is claimed with the first demand, reminder or collection,
            // less the fees already in the ledger that it absorbs.
            if compensation && !has(tags::LATE_PAYMENT_COMPENSATION) {
                let topped_up = (LATE_PAYMENT_COMPENSATION - absorbed).max(Money::ZERO);
                if topped_up > Money::ZERO {
                    out.push((topped_up, tags::LATE_PAYMENT_COMPENSATION));
                }
            }
            let (fee, tag, claimed) = match event {
                FeeEvent::ReminderLetter => (
                    if policy.reminder_fee_agreement {
                        policy.reminder_fee
                    } else {
                        Money::ZERO
                    },
                    tags::REMINDER_FEE,
                    already("reminder"),
                ),
                _ => (
                    policy.collection_fee,
                    tags::DEBT_COLLECTION_FEE,
                    already("debt_collection"),
                ),
            };
            // Charged once, and not when the creditor charged it before registration.
            if fee <= Money::ZERO || has(tag) || claimed > Money::ZERO {
                return out;
            }
            let owed = if compensation {
                beyond_compensation(fee)
            } else {
                fee
            };
            if owed > Money::ZERO {
                out.push((owed, tag));
            }
        }
        FeeEvent::PaymentPlan => {
            let fee = policy.payment_plan_fee;
            if !has(tags::PAYMENT_PLAN_FEE) && fee > Money::ZERO {
                // Absorbed once the compensation is claimed (or the fees already pass it).
                let absorbing = compensation
                    && (has(tags::LATE_PAYMENT_COMPENSATION)
                        || absorbed >= LATE_PAYMENT_COMPENSATION);
                let owed = if absorbing {
                    beyond_compensation(fee)
                } else {
                    fee
                };
                if owed > Money::ZERO {
                    out.push((owed, tags::PAYMENT_PLAN_FEE));
                }
            }
        }
        FeeEvent::EnforcementApplication => {
            for (fee, tag) in [
                (
                    policy.enforcement_application_fee,
                    tags::ENFORCEMENT_APPLICATION_FEE,
                ),
                (
                    policy.enforcement_own_work_fee,
                    tags::ENFORCEMENT_OWN_WORK_FEE,
                ),
            ] {
                if !has(tag) && fee > Money::ZERO {
                    out.push((fee, tag));
                }
            }
        }
    }
    out
}

/// The lines for [`charges`], booked at `at`.
pub fn lines(
    event: FeeEvent,
    policy: &FeePolicy,
    ledger: &[Transaction],
    debtor_is_company: bool,
    at: super::HttpDate,
) -> Vec<Transaction> {
    charges(event, policy, ledger, debtor_is_company)
        .into_iter()
        .map(|(amount, tag)| Transaction::booked(TransactionType::Costs, tag, amount, at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::HttpDate;

    fn at() -> HttpDate {
        HttpDate::from_ymd_hms(2025, 9, 3, 9, 0, 0).unwrap()
    }

    fn claimed(fee: &str, kr: i64) -> Transaction {
        Transaction::booked(
            TransactionType::Costs,
            &format!("{}{fee}", tags::FEE_ALREADY_CLAIMED),
            Money::from_kronor(kr),
            at(),
        )
    }

    fn kr(v: i64) -> Money {
        Money::from_kronor(v)
    }

    #[test]
    fn the_default_policy_charges_the_statutory_maximums() {
        let p = FeePolicy::default();
        assert!(p.problems().is_empty());
        // no reminder fee without an agreement
        assert!(charges(FeeEvent::ReminderLetter, &p, &[], false).is_empty());
        let agreed = FeePolicy {
            reminder_fee_agreement: true,
            ..FeePolicy::default()
        };
        assert_eq!(
            charges(FeeEvent::ReminderLetter, &agreed, &[], false),
            vec![(kr(60), tags::REMINDER_FEE)]
        );
        assert_eq!(
            charges(FeeEvent::CollectionLetter, &p, &[], false),
            vec![(kr(180), tags::DEBT_COLLECTION_FEE)]
        );
        assert_eq!(
            charges(FeeEvent::PaymentPlan, &p, &[], false),
            vec![(kr(170), tags::PAYMENT_PLAN_FEE)]
        );
        assert_eq!(
            charges(FeeEvent::EnforcementApplication, &p, &[], false),
            vec![
                (kr(300), tags::ENFORCEMENT_APPLICATION_FEE),
                (kr(380), tags::ENFORCEMENT_OWN_WORK_FEE)
            ]
        );
    }

    #[test]
    fn a_fee_is_charged_once_and_never_after_the_creditor_charged_it() {
        let p = FeePolicy {
            reminder_fee_agreement: true,
            ..FeePolicy::default()
        };
        let booked = lines(FeeEvent::CollectionLetter, &p, &[], false, at());
        assert!(charges(FeeEvent::CollectionLetter, &p, &booked, false).is_empty());
        // seed 001: the creditor already charged the 60 SEK reminder fee
        assert!(charges(
            FeeEvent::ReminderLetter,
            &p,
            &[claimed("reminder", 60)],
            false
        )
        .is_empty());
        assert!(charges(
            FeeEvent::CollectionLetter,
            &p,
            &[claimed("debt_collection", 180)],
            false
        )
        .is_empty());
        let plan = lines(FeeEvent::PaymentPlan, &p, &[], false, at());
        assert!(charges(FeeEvent::PaymentPlan, &p, &plan, false).is_empty());
    }

    #[test]
    fn companies_pay_450_instead_of_reminder_and_collection_fees() {
        let p = FeePolicy {
            reminder_fee_agreement: true,
            late_payment_compensation: true,
            ..FeePolicy::default()
        };
        // 60 + 180 = 240 does not exceed 450: only the compensation.
        let first = lines(FeeEvent::ReminderLetter, &p, &[], true, at());
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].amount, kr(450));
        assert!(first[0].is(tags::LATE_PAYMENT_COMPENSATION));
        assert!(charges(FeeEvent::CollectionLetter, &p, &first, true).is_empty());
        // A person is not a business: ordinary fees.
        assert_eq!(
            charges(FeeEvent::CollectionLetter, &p, &[], false),
            vec![(kr(180), tags::DEBT_COLLECTION_FEE)]
        );
        // Fees are recoverable for the part beyond 450: the creditor already charged 300,
        // so the compensation adds 150 and of our 180 only 30 is due: 480 in all.
        let over = vec![claimed("reminder", 300)];
        assert_eq!(
            charges(FeeEvent::CollectionLetter, &p, &over, true),
            vec![
                (kr(150), tags::LATE_PAYMENT_COMPENSATION),
                (kr(30), tags::DEBT_COLLECTION_FEE)
            ]
        );
    }

    /// The group of absorbed fees and the compensation, as booked in `ledger`.
    fn group(ledger: &[Transaction]) -> Money {
        ledger
            .iter()
            .filter(|t| !t.is(tags::ENFORCEMENT_APPLICATION_FEE))
            .filter(|t| !t.is(tags::ENFORCEMENT_OWN_WORK_FEE))
            .map(|t| t.amount)
            .sum()
    }

    /// Runs a company's case through every fee event on `ledger`.
    fn company_case(p: &FeePolicy, mut ledger: Vec<Transaction>) -> Vec<Transaction> {
        for event in [
            FeeEvent::ReminderLetter,
            FeeEvent::CollectionLetter,
            FeeEvent::PaymentPlan,
            FeeEvent::EnforcementApplication,
        ] {
            let new = lines(event, p, &ledger, true, at());
            ledger.extend(new);
        }
        ledger
    }

    #[test]
    fn the_compensation_absorbs_the_creditors_fees_and_the_plan_fee() {
        // Lag (1981:739) 4 a § last paragraph (issue 22 item 7).
        let p = FeePolicy {
            reminder_fee_agreement: true,
            late_payment_compensation: true,
            ..FeePolicy::default()
        };
        let total = |l: &[Transaction]| l.iter().map(|t| t.amount).sum::<Money>();
        // Nothing from the creditor: 450 + Kronofogden's 300 + 380.
        let plain = company_case(&p, vec![]);
        assert_eq!(total(&plain), kr(1130));
        assert!(
            !plain.iter().any(|t| t.is(tags::PAYMENT_PLAN_FEE)),
            "170 absorbed"
        );
        // The creditor's 60 reminder fee (seed 001): 60 + 390, not 60 + 450.
        let reminded = company_case(&p, vec![claimed("reminder", 60)]);
        assert_eq!(total(&reminded), kr(1130));
        assert_eq!(group(&reminded), kr(450));
        // The creditor's 180 collection fee: 180 + 270.
        let collected = company_case(&p, vec![claimed("debt_collection", 180)]);
        assert_eq!(total(&collected), kr(1130));
        // The creditor's 300: 300 + 150 + 30 (collection) + 170 (plan, all beyond 450).
        let over = company_case(&p, vec![claimed("reminder", 300)]);
        assert_eq!(group(&over), kr(300 + 150 + 30 + 170));
        // The creditor's own fees beyond 450 already: no compensation line, our fees in full.
        let beyond = company_case(&p, vec![claimed("reminder", 500)]);
        assert!(!beyond.iter().any(|t| t.is(tags::LATE_PAYMENT_COMPENSATION)));
        assert_eq!(
            group(&beyond),
            kr(500 + 180 + 170),
            "the creditor charged the reminder fee"
        );
    }

    #[test]
    fn fees_above_the_statutory_maximum_are_refused() {
        let p = FeePolicy {
            collection_fee: kr(200),
            reminder_fee: kr(-1),
            ..FeePolicy::default()
        };
        let fields: Vec<&str> = p.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["reminder_fee", "collection_fee"]);
    }
}
