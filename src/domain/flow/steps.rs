//! What each flow step does when its item runs (domain-se.md §3.6: reminder, collection
//! letter, debt statement, payment order, enforcement, surveillance). Interest has already
//! been posted through the step's time; every step ends by scheduling the next one.

use crate::domain::apply::{Applied, Ctx, Effect, Escalation};
use crate::domain::case::{
    Case, CaseState, CaseStatus, CustomerStatus, Demand, KronofogdenStatus, Service,
};
use crate::domain::fees::FeeEvent;
use crate::domain::limitation::annotations;
use crate::domain::{HttpDate, ObjectId};

use super::{Action, Step};

pub(crate) fn run_step(
    case: &mut Case,
    step: &Step,
    at: HttpDate,
    ctx: &Ctx<'_>,
    out: &mut Applied,
) {
    let flow = ctx.flow;
    let mut next = step.next.as_ref();
    match step.action {
        Action::Initialize => {
            case.customer_status = CustomerStatus::Initialized;
            case.set_status(CaseStatus::Initialized, at);
            let first = case.flow_state().first_action;
            next = step.first_action_items.as_ref().and_then(|m| m.get(&first));
            // The first reminder or demand waits until the claim has fallen due (and the
            // creditor's grace days have passed).
            case.updated = at;
            case.schedule(flow, next, at);
            let earliest = case.first_action_allowed(ctx.policy);
            if let Some(item) = case.next_flow_item.as_mut() {
                item.schedule_to_execute = item.schedule_to_execute.max(earliest);
            }
            return;
        }
        Action::SendReminder => {
            case.enter_state(CaseState::Reminder, CaseStatus::ReminderSent, at);
            case.charge(FeeEvent::ReminderLetter, at, ctx.policy);
            send(case, step, at, ctx, out, annotations::REMINDER_LETTER);
        }
        Action::EnterDebtCollection => {
            case.enter_state(CaseState::DebtCollection, CaseStatus::DebtCollection, at);
            case.debt_collection = Some(ObjectId::at(at.unix()));
            add_service(case, "debt_collection", at);
        }
        Action::SendCollectionLetter => {
            case.charge(FeeEvent::CollectionLetter, at, ctx.policy);
            send(
                case,
                step,
                at,
                ctx,
                out,
                annotations::DEBT_COLLECTION_LETTER,
            );
        }
        Action::SendDebtStatement => {
            case.set_status(CaseStatus::DebtCollectionActive, at);
            send(case, step, at, ctx, out, annotations::DEBT_STATEMENT_LETTER);
        }
        Action::ApplyForEnforcement => {
            match case.escalation(ctx.policy) {
                Escalation::Allowed => {}
                // What is left was never demanded (the debtor paid what the last letter
                // asked): a debt statement demands it, and the application waits as it
                // would after one.
                Escalation::NotDemanded => {
                    if let Some(statement) = flow.step_for(Action::SendDebtStatement) {
                        send(
                            case,
                            statement,
                            at,
                            ctx,
                            out,
                            annotations::DEBT_STATEMENT_LETTER,
                        );
                        case.updated = at;
                        case.schedule(flow, statement.next.as_ref(), at);
                    } else {
                        case.updated = at;
                        case.next_flow_item = None;
                    }
                    return;
                }
                // Too little to take to Kronofogden: debt surveillance instead.
                Escalation::BelowMinimum => {
                    case.updated = at;
                    case.next_flow_item = flow
                        .step_for(Action::EnterSurveillance)
                        .map(|s| flow.item_at(s, at));
                    return;
                }
            }
            // Nothing is filed with Kronofogden by the flow: outside a sandbox account the
            // case waits here for its application to be filed, with no fee and no limitation
            // break; a sandbox account simulates the application and says so.
            if !ctx.policy.in_sandbox {
                case.set_kronofogden(KronofogdenStatus::AwaitingFiling, at);
                case.updated = at;
                case.next_flow_item = None;
                return;
            }
            case.set_kronofogden(KronofogdenStatus::Simulated, at);
            case.enter_state(CaseState::Enforcement, CaseStatus::Enforcement, at);
            case.charge(FeeEvent::EnforcementApplication, at, ctx.policy);
            add_service(case, "enforcement", at);
            case.interrupt_limitation(at, annotations::ENFORCEMENT_APPLICATION, out);
        }
        Action::EnforcementVerdict => {
            case.set_status(CaseStatus::EnforcementActive, at);
            case.interrupt_limitation(at, annotations::ENFORCEMENT_VERDICT, out);
        }
        Action::EnterSurveillance => {
            case.enter_state(
                CaseState::DebtSurveillance,
                CaseStatus::DebtSurveillance,
                at,
            );
            add_service(case, "debt_surveillance", at);
        }
        Action::SendSurveillanceLetter => {
            send(case, step, at, ctx, out, annotations::SURVEILLANCE_LETTER);
        }
        Action::CheckPaymentPlan => {
            check_payment_plan(case, step, at, ctx);
            case.updated = at;
            return;
        }
    }
    case.updated = at;
    case.schedule(flow, next, at);
}

/// Queues the step's letter, which interrupts limitation once it is sent.
fn send(
    case: &mut Case,
    step: &Step,
    at: HttpDate,
    ctx: &Ctx<'_>,
    out: &mut Applied,
    annotation: &str,
) {
    if let Some(kind) = step.action.letter() {
        let days = step.payment_days.unwrap_or(kind.min_payment_days());
        case.record_first_demand(at);
        let mut order = case.letter(kind, at, days, ctx.rates);
        case.demanded(Demand {
            sent: at,
            pay_by: order.pay_by,
            amount: order.total,
        });
        // The break is recorded when the letter has been typeset and sent
        // (`Command::LetterSent`), not now: a letter that never went out breaks nothing.
        order.interrupts = Some(annotation.to_string());
        out.effects.push(Effect::Letter {
            id: ObjectId::at(at.unix()),
            order,
        });
    }
}

fn add_service(case: &mut Case, service: &str, at: HttpDate) {
    if !case.services.iter().any(|s| s.service == service) {
        case.services.push(Service {
            service: service.into(),
            service_date: at,
        });
    }
}

/// An instalment fell due `grace_days` ago: if everything due under the plan by now is
/// paid, the next instalment is checked a month later; otherwise the plan is broken and the
/// flow goes on where it stopped.
fn check_payment_plan(case: &mut Case, step: &Step, at: HttpDate, ctx: &Ctx<'_>) {
    let Some(plan) = case.flow_state().payment_plan else {
        case.break_payment_plan(at);
        return;
    };
    let due_count = plan.instalments_kept + 1;
    let expected = crate::domain::Money::from_ore(plan.monthly_amount.ore() * i64::from(due_count));
    let paid = case.paid_total() - plan.paid_before;
    if paid >= expected {
        let next_due = plan.first_due.plus_months(due_count);
        if let Some(p) = case
            .flow_state
            .as_mut()
            .and_then(|fs| fs.payment_plan.as_mut())
        {
            p.instalments_kept = due_count;
        }
        let grace = step.grace_days.unwrap_or(0);
        case.next_flow_item = Some(
            ctx.flow
                .item_at(step, next_due.plus_days(grace).start_of_day()),
        );
    } else {
        case.break_payment_plan(at);
    }
}
