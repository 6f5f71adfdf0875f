//! What an agency agreed with a creditor about how its cases are worked: the fees, the order
//! in which payments settle a claim, and the flow configuration. Set by the agency's operator
//! (`indriva admin creditor policy`), never by the creditor's integration.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::allocation::AllocationOrder;
use super::fees::FeePolicy;
use super::flow::FlowConfig;
use super::ObjectId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreditorPolicy {
    pub fees: FeePolicy,
    /// The order in which a debtor's payment settles costs, interest and capital.
    pub allocation_order: AllocationOrder,
    /// The flow configuration new and running cases follow.
    pub flow_config: ObjectId,
    /// How much respite (anstånd) the creditor may give a case.
    pub respite: RespitePolicy,
    /// How often the creditor is paid out: `daily`, `weekly` or `monthly`.
    pub payout_frequency: PayoutFrequency,
    /// Weekly: the weekday (`monday` … `sunday`); monthly: the day of the month (`1`–`28`).
    pub payout_day: String,
    /// A payout smaller than this waits for the next run (kronor).
    pub minimum_payout_amount: super::Money,
    /// Days after an invoice's due date before the first reminder or demand may be sent
    /// (0: the day after the due date). Never before: lag (1981:739) om skydd mot
    /// obehörig inkassoverksamhet, 4 §, covers only a claim that has fallen due.
    pub grace_days: i64,
    /// When a debtor pays what a letter demanded by its pay-by date, the interest that ran
    /// after the letter's date: `write_off` (the case closes fully paid) or `demand` (a new
    /// letter asks for it; nothing escalates for it until then).
    pub interest_after_demand: AfterDemand,
    /// No application to Kronofogden for less than this (kronor): a smaller remainder goes
    /// to debt surveillance instead.
    pub minimum_enforcement_amount: super::Money,
    /// The creditor's account is a sandbox: set from the account whenever the rules are read,
    /// never stored or sent. Only there does the flow simulate Kronofogden's steps; a real
    /// account's case waits for its application to be filed.
    #[serde(skip)]
    #[schemars(skip)]
    pub in_sandbox: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AfterDemand {
    WriteOff,
    Demand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutFrequency {
    Daily,
    Weekly,
    Monthly,
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl CreditorPolicy {
    /// Whether the scheduled payout run pays this creditor on `day`.
    pub fn payout_due(&self, day: chrono::NaiveDate) -> bool {
        use chrono::Datelike;
        match self.payout_frequency {
            PayoutFrequency::Daily => true,
            PayoutFrequency::Weekly => WEEKDAYS[day.weekday().num_days_from_monday() as usize]
                .eq_ignore_ascii_case(self.payout_day.trim()),
            PayoutFrequency::Monthly => self.payout_day.trim().parse::<u32>() == Ok(day.day()),
        }
    }
}

/// Limits on respites: days per respite, respites per case and per state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RespitePolicy {
    /// The most days one respite may give (the API allows 1–30).
    pub max_days: i64,
    /// The most respites over a case's life.
    pub max_per_case: u32,
    /// The most respites while the case is in one state (reminder, debt collection, …).
    pub max_per_state: u32,
}

impl Default for RespitePolicy {
    fn default() -> Self {
        RespitePolicy {
            max_days: 30,
            max_per_case: 3,
            max_per_state: 1,
        }
    }
}

impl Default for CreditorPolicy {
    fn default() -> Self {
        CreditorPolicy {
            fees: FeePolicy::default(),
            allocation_order: AllocationOrder::default(),
            flow_config: FlowConfig::default_swedish().id,
            respite: RespitePolicy::default(),
            payout_frequency: PayoutFrequency::Weekly,
            payout_day: "friday".into(),
            minimum_payout_amount: super::Money::from_ore(10_000),
            grace_days: 0,
            interest_after_demand: AfterDemand::WriteOff,
            minimum_enforcement_amount: super::Money::from_kronor(100),
            in_sandbox: false,
        }
    }
}

impl CreditorPolicy {
    /// The sandbox creditor's policy: no collection fee, so that seed 002's case has the
    /// ledger Amili's guide shows (capital 2000, interest 14, costs 0).
    pub fn sandbox() -> Self {
        CreditorPolicy {
            fees: FeePolicy {
                collection_fee: super::Money::ZERO,
                ..FeePolicy::default()
            },
            in_sandbox: true,
            ..CreditorPolicy::default()
        }
    }

    /// Problems as `(field, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fees
            .problems()
            .into_iter()
            .map(|(f, m)| (format!("fees.{f}"), m))
            .collect();
        if let Some(m) = self.allocation_order.problem() {
            out.push(("allocation_order".into(), m));
        }
        let day_ok = match self.payout_frequency {
            PayoutFrequency::Daily => true,
            PayoutFrequency::Weekly => WEEKDAYS
                .iter()
                .any(|d| d.eq_ignore_ascii_case(self.payout_day.trim())),
            PayoutFrequency::Monthly => self
                .payout_day
                .trim()
                .parse::<u32>()
                .is_ok_and(|d| (1..=28).contains(&d)),
        };
        if !day_ok {
            out.push((
                "payout_day".into(),
                "a weekday (monday … sunday) for weekly payouts, 1–28 for monthly ones".into(),
            ));
        }
        if !(0..=90).contains(&self.grace_days) {
            out.push(("grace_days".into(), "0 to 90 days".into()));
        }
        if self.minimum_enforcement_amount < super::Money::ZERO {
            out.push((
                "minimum_enforcement_amount".into(),
                "must not be negative".into(),
            ));
        }
        if self.minimum_payout_amount < super::Money::ZERO {
            out.push((
                "minimum_payout_amount".into(),
                "must not be negative".into(),
            ));
        }
        if !(1..=30).contains(&self.respite.max_days) {
            out.push(("respite.max_days".into(), "must be from 1 to 30".into()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn payout_days_are_read_as_numbers_and_names() {
        let day = NaiveDate::from_ymd_opt(2025, 9, 5).unwrap(); // a Friday
        let monthly = |d: &str| CreditorPolicy {
            payout_frequency: PayoutFrequency::Monthly,
            payout_day: d.into(),
            ..CreditorPolicy::default()
        };
        assert!(monthly("5").payout_due(day));
        assert!(monthly("05").payout_due(day));
        assert!(!monthly("6").payout_due(day));
        assert!(monthly("05").problems().is_empty());
        assert!(!monthly("31").problems().is_empty());
        let weekly = CreditorPolicy {
            payout_day: "Friday".into(),
            ..CreditorPolicy::default()
        };
        assert!(weekly.payout_due(day));
        assert!(weekly.problems().is_empty());
    }
}
