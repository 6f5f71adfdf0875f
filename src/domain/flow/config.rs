//! A flow configuration: which steps a case goes through, in what order, and how long each
//! waits. It is data (JSON): the default Swedish one ships with Indriva
//! (`src/domain/data/flow-default.json`), and a creditor can be given its own. What each
//! step *does* is code ([`Action`], see `steps.rs`); the configuration chooses the steps,
//! their waits and their letters' payment periods.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::case::FlowItem;
use crate::domain::registration::FirstAction;
use crate::domain::{HttpDate, ObjectId};

/// What a step does when its item runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The case is checked and accepted: status `initialized`.
    Initialize,
    /// State `reminder`: a reminder letter (påminnelse), the reminder fee if agreed.
    SendReminder,
    /// State `debt_collection`.
    EnterDebtCollection,
    /// The collection letter (inkassokrav) with the collection fee; interrupts limitation.
    SendCollectionLetter,
    /// A debt statement (skuldbesked) with the updated claim; status `debt_collection_active`.
    SendDebtStatement,
    /// Application to Kronofogden for a payment order: state `enforcement`, its fees.
    ApplyForEnforcement,
    /// Kronofogden's decision (utslag): status `enforcement_active`.
    EnforcementVerdict,
    /// Nothing could be collected: state `debt_surveillance`.
    EnterSurveillance,
    /// A surveillance letter; interrupts limitation.
    SendSurveillanceLetter,
    /// An instalment of a payment plan is due: kept, or the plan is broken.
    CheckPaymentPlan,
}

impl Action {
    /// The letter this action sends, if any.
    pub fn letter(self) -> Option<LetterKind> {
        match self {
            Action::SendReminder => Some(LetterKind::Reminder),
            Action::SendCollectionLetter => Some(LetterKind::DebtCollection),
            Action::SendDebtStatement => Some(LetterKind::DebtStatement),
            Action::SendSurveillanceLetter => Some(LetterKind::DebtSurveillance),
            _ => None,
        }
    }
}

/// The kinds of letter the flow sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LetterKind {
    /// Betalningspåminnelse.
    Reminder,
    /// Inkassokrav.
    DebtCollection,
    /// Skuldbesked.
    DebtStatement,
    /// Efterbevakning: a periodic demand that keeps the claim alive.
    DebtSurveillance,
    /// Avbetalningsplan: the written plan a payment-plan fee is charged for (lag 1981:739,
    /// 3 § 2), sent when the plan is agreed.
    PaymentPlan,
}

impl LetterKind {
    pub const ALL: [LetterKind; 5] = [
        LetterKind::Reminder,
        LetterKind::DebtCollection,
        LetterKind::DebtStatement,
        LetterKind::DebtSurveillance,
        LetterKind::PaymentPlan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LetterKind::Reminder => "reminder",
            LetterKind::DebtCollection => "debt_collection",
            LetterKind::DebtStatement => "debt_statement",
            LetterKind::DebtSurveillance => "debt_surveillance",
            LetterKind::PaymentPlan => "payment_plan",
        }
    }

    /// The shortest payment period a letter of this kind may give (domain-se.md §3.4: at
    /// least 8 days for an inkassokrav; Indriva gives reminders 10).
    pub fn min_payment_days(self) -> i64 {
        match self {
            LetterKind::Reminder => 10,
            _ => 8,
        }
    }
}

/// When the next item runs, counted from when the step that schedules it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Next {
    pub item: String,
    #[serde(default)]
    pub days: i64,
    #[serde(default)]
    pub minutes: i64,
    /// Run at 00:00 of the day reached (after `days`, before `minutes`).
    #[serde(default)]
    pub at_start_of_day: bool,
}

impl Next {
    /// When the item is due if scheduled at `at`.
    pub fn due(&self, at: HttpDate) -> HttpDate {
        let day = at.plus_days(self.days);
        let day = if self.at_start_of_day {
            day.start_of_day()
        } else {
            day
        };
        day.plus_seconds(self.minutes * 60)
    }

    /// The whole wait in seconds when scheduled at the latest moment of a day (the shortest
    /// it can be).
    fn shortest_wait_secs(&self) -> i64 {
        let base = self.days * 86_400 + self.minutes * 60;
        if self.at_start_of_day {
            base - 86_399
        } else {
            base
        }
    }
}

/// One step of the flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The item name a case's `next_flow_item` shows while it waits for this step.
    pub item: String,
    pub action: Action,
    /// What the case waits for until this step runs (`next_flow_item.waiting_for`).
    pub waiting_for: String,
    #[serde(default)]
    pub moved_to_next_state: bool,
    /// For steps that send a letter: the days the debtor is given to pay or object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_days: Option<i64>,
    /// For the payment-plan check: days after an instalment's due date before it is judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_days: Option<i64>,
    /// The step after this one; none ends the flow (the case then waits for payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Next>,
    /// For the initialize step: the next step by the registration's `first_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_action_items: Option<BTreeMap<FirstAction, Next>>,
}

/// A flow configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// `next_flow_item.flow_config_name_locale`.
    pub name_locale: String,
    #[serde(default)]
    pub description: String,
    /// The first item of every new case, counted from its registration.
    pub start: Next,
    pub steps: Vec<Step>,
}

static DEFAULT: LazyLock<FlowConfig> = LazyLock::new(|| {
    let c: FlowConfig = serde_json::from_str(include_str!("../data/flow-default.json"))
        .unwrap_or_else(|e| unreachable!("the default flow configuration parses: {e}"));
    debug_assert!(c.problems().is_empty(), "{:?}", c.problems());
    c
});

impl FlowConfig {
    /// The default Swedish flow (id `665e138e8dd7c7b8996f2a7e`, as in the seeds).
    pub fn default_swedish() -> &'static FlowConfig {
        &DEFAULT
    }

    pub fn step(&self, item: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.item == item)
    }

    /// The step that performs `action` (the first, if several do).
    pub fn step_for(&self, action: Action) -> Option<&Step> {
        self.steps.iter().find(|s| s.action == action)
    }

    /// The case's `next_flow_item` for `next`, scheduled from `at`.
    pub fn item(&self, next: &Next, at: HttpDate) -> Option<FlowItem> {
        let step = self.step(&next.item)?;
        Some(self.item_at(step, next.due(at)))
    }

    /// The `next_flow_item` for `step`, due at `due`.
    pub fn item_at(&self, step: &Step, due: HttpDate) -> FlowItem {
        FlowItem {
            item: step.item.clone(),
            schedule_to_execute: due,
            flow_config: self.id,
            is_failed: false,
            waiting_for: step.waiting_for.clone(),
            moved_to_next_state: step.moved_to_next_state,
            flow_config_name_locale: self.name_locale.clone(),
        }
    }

    /// What makes this configuration unusable or unlawful, as `(where, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut names = HashSet::new();
        for s in &self.steps {
            if !names.insert(s.item.as_str()) {
                out.push((s.item.clone(), "the item appears more than once".into()));
            }
        }
        let check_next = |from: &str, n: &Next, out: &mut Vec<(String, String)>| {
            if !names.contains(n.item.as_str()) {
                out.push((
                    from.into(),
                    format!("the next item {} is not a step", n.item),
                ));
            }
            if n.days < 0 || n.minutes < 0 {
                out.push((from.into(), "waits cannot be negative".into()));
            }
        };
        check_next("start", &self.start, &mut out);
        for s in &self.steps {
            if let Some(n) = &s.next {
                check_next(&s.item, n, &mut out);
                if n.item == s.item && n.shortest_wait_secs() < 86_400 {
                    out.push((
                        s.item.clone(),
                        "a step that repeats itself must wait at least a day".into(),
                    ));
                }
            }
            if let Some(by) = &s.first_action_items {
                for n in by.values() {
                    check_next(&s.item, n, &mut out);
                }
            }
            match (s.action, &s.first_action_items) {
                (Action::Initialize, None) => out.push((
                    s.item.clone(),
                    "the initialize step needs first_action_items for reminder and debt_collection"
                        .into(),
                )),
                (Action::Initialize, Some(by)) if by.len() < 2 => out.push((
                    s.item.clone(),
                    "first_action_items needs both reminder and debt_collection".into(),
                )),
                _ => {}
            }
            if let Some(kind) = s.action.letter() {
                let min = kind.min_payment_days();
                match s.payment_days {
                    Some(d) if d >= min => {
                        // Never escalate before the letter's deadline has passed.
                        if let Some(n) = &s.next {
                            if n.item != s.item && n.shortest_wait_secs() <= d * 86_400 {
                                out.push((
                                    s.item.clone(),
                                    format!(
                                        "the next step must wait longer than the letter's {d} days to pay"
                                    ),
                                ));
                            }
                        }
                    }
                    _ => out.push((
                        s.item.clone(),
                        format!(
                            "a {} letter gives at least {min} days to pay (payment_days)",
                            kind.as_str()
                        ),
                    )),
                }
            }
        }
        if self.step(&self.start.item).map(|s| s.action) != Some(Action::Initialize) {
            out.push((
                "start".into(),
                "the flow must start with an initialize step".into(),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_flow_is_valid_and_has_the_seeds_names() {
        let c = FlowConfig::default_swedish();
        assert_eq!(c.problems(), Vec::<(String, String)>::new());
        assert_eq!(c.id.to_hex(), "665e138e8dd7c7b8996f2a7e");
        assert_eq!(c.name_locale, "api.flow_config.default");
        let ds = c.step("case--debt-collections__debt_statement").unwrap();
        assert_eq!(
            ds.waiting_for,
            "api.wait.waiting_for_debt_collection_payment"
        );
        assert!(ds.moved_to_next_state);
        // Seed 002: the collection letter of 3 Sep schedules the statement for 19 Sep 00:00.
        let letter = c.step("case--debt-collections__send_letter").unwrap();
        let at = HttpDate::parse_lenient("Wed, 03 Sep 2025 09:10:17 GMT").unwrap();
        let item = c.item(letter.next.as_ref().unwrap(), at).unwrap();
        assert_eq!(
            item.schedule_to_execute.to_string(),
            "Fri, 19 Sep 2025 00:00:00 GMT"
        );
        assert_eq!(item.item, "case--debt-collections__debt_statement");
        // every action is used once or more
        for a in [
            Action::Initialize,
            Action::SendReminder,
            Action::EnterDebtCollection,
            Action::SendCollectionLetter,
            Action::SendDebtStatement,
            Action::ApplyForEnforcement,
            Action::EnforcementVerdict,
            Action::EnterSurveillance,
            Action::SendSurveillanceLetter,
            Action::CheckPaymentPlan,
        ] {
            assert!(c.step_for(a).is_some(), "{a:?}");
        }
    }

    fn with(edit: impl FnOnce(&mut FlowConfig)) -> Vec<String> {
        let mut c = FlowConfig::default_swedish().clone();
        edit(&mut c);
        c.problems().into_iter().map(|(_, m)| m).collect()
    }

    #[test]
    fn unlawful_or_broken_flows_are_refused() {
        // an inkassokrav with less than 8 days to pay
        let p = with(|c| {
            c.steps[4].payment_days = Some(5);
        });
        assert!(p.iter().any(|m| m.contains("at least 8 days")), "{p:?}");
        // escalating before the deadline
        let p = with(|c| {
            if let Some(n) = c.steps[4].next.as_mut() {
                n.days = 3;
            }
        });
        assert!(p.iter().any(|m| m.contains("wait longer")), "{p:?}");
        // a dangling item
        let p = with(|c| {
            c.steps[1].next = Some(Next {
                item: "nowhere".into(),
                days: 30,
                minutes: 0,
                at_start_of_day: false,
            });
        });
        assert!(p.iter().any(|m| m.contains("nowhere")), "{p:?}");
        // a step repeating itself without waiting
        let p = with(|c| {
            if let Some(n) = c.steps[9].next.as_mut() {
                n.days = 0;
            }
        });
        assert!(p.iter().any(|m| m.contains("repeats itself")), "{p:?}");
        // a reminder with 7 days
        let p = with(|c| c.steps[1].payment_days = Some(7));
        assert!(p.iter().any(|m| m.contains("at least 10 days")), "{p:?}");
    }

    #[test]
    fn waits_count_days_minutes_and_midnights() {
        let at = HttpDate::parse_lenient("Wed, 03 Sep 2025 09:10:17 GMT").unwrap();
        let n = |days, minutes, sod| Next {
            item: String::new(),
            days,
            minutes,
            at_start_of_day: sod,
        };
        assert_eq!(
            n(0, 5, false).due(at).to_string(),
            "Wed, 03 Sep 2025 09:15:17 GMT"
        );
        assert_eq!(
            n(1, 0, true).due(at).to_string(),
            "Thu, 04 Sep 2025 00:00:00 GMT"
        );
        assert_eq!(
            n(1, 30, true).due(at).to_string(),
            "Thu, 04 Sep 2025 00:30:00 GMT"
        );
    }
}
