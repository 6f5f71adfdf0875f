//! The forecast: the steps a case will take if nothing is paid, with their dates, the fees
//! they add and the claim (interest to that day included) after each. Computed by running
//! the engine forward on a copy of the case, so it is exactly what the flow will do under
//! today's rules and rates.

use schemars::JsonSchema;
use serde::Serialize;

use super::apply::{Command, Ctx, Effect};
use super::case::{Case, CaseState, CaseStatus};
use super::flow::LetterKind;
use super::{HttpDate, Money};

/// One step ahead.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ForecastStep {
    pub item: String,
    pub date: HttpDate,
    pub state: CaseState,
    pub status: CaseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub letter: Option<LetterKind>,
    /// Fees the step charges.
    pub fees_added: Money,
    /// Interest due through the step's day, not yet paid.
    pub interest: Money,
    /// What the debtor owes after the step.
    pub total: Money,
}

/// Up to `max_steps` steps the case takes from `ctx.now` if nothing is paid, none later than
/// `horizon`.
pub fn forecast(
    case: &Case,
    ctx: &Ctx<'_>,
    horizon: HttpDate,
    max_steps: usize,
) -> Vec<ForecastStep> {
    let mut c = case.clone();
    let mut out = Vec::new();
    while out.len() < max_steps {
        let Some(item) = c.next_flow_item.clone() else {
            break;
        };
        if item.is_failed || item.schedule_to_execute > horizon || c.closed.is_some() {
            break;
        }
        let at = item.schedule_to_execute.max(ctx.now);
        let costs_before = c.total_added_costs_amount;
        let step_ctx = Ctx {
            now: at,
            rates: ctx.rates,
            policy: ctx.policy,
            flow: ctx.flow,
        };
        let Ok(applied) = c.apply(
            Command::RunDue {
                until: at,
                simulate: true,
            },
            &step_ctx,
        ) else {
            break;
        };
        if applied.items_run == 0 {
            break;
        }
        let letter = applied.effects.iter().find_map(|e| match e {
            Effect::Letter { order, .. } => Some(order.kind),
            _ => None,
        });
        out.push(ForecastStep {
            item: item.item,
            date: at,
            state: c.state,
            status: c.status,
            letter,
            fees_added: c.total_added_costs_amount - costs_before,
            interest: c.total_remaining_interest_amount,
            total: c.total_remaining_transaction_amount,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::flow::FlowConfig;
    use crate::domain::interest::RateTable;
    use crate::domain::policy::CreditorPolicy;

    #[test]
    fn the_seed_case_is_forecast_to_kronofogden_and_surveillance() {
        let mut case: Case =
            serde_json::from_str(crate::domain::case::tests::SEED_OPEN_CASE).unwrap();
        let now = HttpDate::parse_lenient("Wed, 03 Sep 2025 09:10:17 GMT").unwrap();
        let policy = CreditorPolicy {
            in_sandbox: true,
            ..CreditorPolicy::default()
        };
        let ctx = Ctx {
            now,
            rates: RateTable::swedish(),
            policy: &policy,
            flow: FlowConfig::default_swedish(),
        };
        // A real account's forecast ends where the application waits to be filed.
        let real = CreditorPolicy::default();
        let waiting = forecast(
            &case,
            &Ctx {
                policy: &real,
                ..ctx
            },
            now.plus_years(2),
            10,
        );
        let last = waiting.last().unwrap();
        assert_eq!(last.item, "case--enforcements__application");
        assert_eq!(last.fees_added, Money::ZERO);
        assert_eq!(waiting.len(), 2);
        let before = case.clone();
        let steps = forecast(&case, &ctx, now.plus_years(2), 10);
        assert_eq!(case, before, "the case itself is not changed");
        let items: Vec<&str> = steps.iter().map(|s| s.item.as_str()).collect();
        assert_eq!(
            &items[..4],
            &[
                "case--debt-collections__debt_statement",
                "case--enforcements__application",
                "case--enforcements__verdict",
                "case--enforcements__status_check"
            ]
        );
        assert_eq!(steps[0].date.to_string(), "Fri, 19 Sep 2025 00:00:00 GMT");
        assert_eq!(steps[0].letter, Some(LetterKind::DebtStatement));
        assert_eq!(steps[1].state, CaseState::Enforcement);
        assert_eq!(steps[1].fees_added, Money::from_kronor(680));
        assert_eq!(steps[3].state, CaseState::DebtSurveillance);
        // interest grows step by step; the total is capital + interest + fees
        assert!(steps.windows(2).all(|w| w[0].interest <= w[1].interest));
        let last = steps.last().unwrap();
        assert_eq!(
            last.total,
            Money::from_kronor(2000) + Money::from_kronor(680) + last.interest
        );
        // the forecast ends at the horizon
        assert!(steps.iter().all(|s| s.date <= now.plus_years(2)));
        case.next_flow_item = None;
        assert!(forecast(&case, &ctx, now.plus_years(2), 10).is_empty());
    }
}
