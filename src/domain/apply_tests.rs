//! The flow engine, command by command, without a database: seed 002's case from
//! registration to `fully_paid_depreciation`, the whole default flow, holds, payments and
//! payment plans.

use super::*;
use crate::domain::case::{CaseSettings, CustomerStatus, InterestRateSettings, Limitation};
use crate::domain::fees::FeePolicy;
use crate::domain::registration::{open_case, CaseContext, CaseRegistration};

fn d(s: &str) -> HttpDate {
    HttpDate::parse_lenient(s).unwrap()
}

fn kr(v: i64) -> Money {
    Money::from_kronor(v)
}

/// Seed 002's registration: seed 001's customer, 2 000 SEK, no fees.
fn seed_002() -> CaseRegistration {
    let mut reg = crate::domain::registration::tests::seed_001();
    reg.debts[0].capital_to_claim = kr(2000);
    reg.debts[0].fees_included_in_capital_to_claim = None;
    reg.debts[0].fees_already_claimed = None;
    reg
}

fn open(reg: &CaseRegistration, now: HttpDate) -> Case {
    let creditor = crate::domain::party::Creditor::as_in_the_seeds(
        reg.creditor,
        reg.account,
        "Amili Integration Team",
        "1122334455",
        2_000_037,
        now,
    );
    open_case(
        reg,
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
            now,
        },
    )
}

struct Run {
    policy: CreditorPolicy,
}

impl Run {
    fn sandbox() -> Run {
        Run {
            policy: CreditorPolicy::sandbox(),
        }
    }
    fn with_fees(fees: FeePolicy) -> Run {
        Run {
            policy: CreditorPolicy {
                fees,
                ..CreditorPolicy::default()
            },
        }
    }
    fn ctx(&self, now: HttpDate) -> Ctx<'_> {
        Ctx {
            now,
            rates: RateTable::swedish(),
            policy: &self.policy,
            flow: FlowConfig::default_swedish(),
        }
    }
    fn apply(&self, case: &mut Case, cmd: Command, now: HttpDate) -> Applied {
        case.apply(cmd, &self.ctx(now)).unwrap()
    }
    /// Moves a sandbox clock to `until`, and sends the letters that run queued, as the
    /// letter job does once each is typeset (`Command::LetterSent`, with its effects).
    fn until(&self, case: &mut Case, until: HttpDate) -> Applied {
        let mut a = self.until_unsent(case, until);
        let sent = crate::domain::effects::letters_sent(&a.effects);
        for cmd in sent {
            let more = self.apply(case, cmd, until);
            a.effects.extend(more.effects);
        }
        a
    }
    /// Moves a sandbox clock to `until`; the letters stay queued.
    fn until_unsent(&self, case: &mut Case, until: HttpDate) -> Applied {
        self.apply(
            case,
            Command::RunDue {
                until,
                simulate: true,
            },
            until,
        )
    }
}

fn letters(a: &Applied) -> Vec<&LetterOrder> {
    a.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Letter { order, .. } => Some(order),
            _ => None,
        })
        .collect()
}

fn states(c: &Case) -> Vec<CaseState> {
    c.state_history.iter().map(|s| s.state).collect()
}

fn statuses(c: &Case) -> Vec<CaseStatus> {
    c.status_history.iter().map(|s| s.status).collect()
}

/// Seed 002 step 3: registered at 07:56:11, looked at 09:10:17 the same day.
#[test]
fn seed_002s_case_reaches_debt_collection_with_14_kronor_of_interest() {
    let run = Run::sandbox();
    let created = d("Wed, 03 Sep 2025 07:56:11 GMT");
    let mut case = open(&seed_002(), created);
    assert_eq!(case.state, CaseState::Initializing);
    let a = run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));

    assert_eq!(case.state, CaseState::DebtCollection);
    assert_eq!(case.status, CaseStatus::DebtCollection);
    assert_eq!(case.customer_status, CustomerStatus::Initialized);
    assert_eq!(
        states(&case),
        vec![CaseState::Initializing, CaseState::DebtCollection]
    );
    assert_eq!(
        statuses(&case),
        vec![
            CaseStatus::Initializing,
            CaseStatus::Initialized,
            CaseStatus::DebtCollection
        ]
    );
    // the ledger: capital 2000 and interest 14, no costs (the sandbox charges no fee)
    assert_eq!(case.transactions.len(), 2);
    assert_eq!(case.transactions[1].amount, kr(14));
    assert_eq!(
        case.transactions[1].description_locale_tag,
        "api.transaction.case_flow"
    );
    assert_eq!(case.transactions[1].origin, Origin::SolicitorSystem);
    assert_eq!(case.local_added_interest_amount, kr(14));
    assert_eq!(case.total_remaining_transaction_amount, kr(2014));
    assert_eq!(case.total_added_costs_amount, Money::ZERO);
    // the collection letter went out and interrupted limitation for ten years
    let sent = letters(&a);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, LetterKind::DebtCollection);
    assert_eq!(sent[0].total, kr(2014));
    assert_eq!(sent[0].interest_periods.len(), 1);
    assert_eq!(sent[0].interest_periods[0].rate_bp, 1000);
    let lim = case.limitation.as_ref().unwrap();
    assert_eq!(lim.break_date, sent[0].sent);
    assert_eq!(lim.limitation_date, sent[0].sent.plus_years(10));
    assert_eq!(
        lim.locale_annotation,
        "api.log_messages.letter_sent_debt_collection"
    );
    assert!(lim.limitation_date.to_string().contains("2035"));
    assert_eq!(case.services.len(), 1);
    assert!(case.debt_collection.is_some());
    // the debt statement is next, on Friday 19 September at midnight
    let next = case.next_flow_item.as_ref().unwrap();
    assert_eq!(next.item, "case--debt-collections__debt_statement");
    assert_eq!(
        next.schedule_to_execute.to_string(),
        "Fri, 19 Sep 2025 00:00:00 GMT"
    );
    assert_eq!(
        next.waiting_for,
        "api.wait.waiting_for_debt_collection_payment"
    );
    assert!(next.moved_to_next_state && !next.is_failed);
    assert_eq!(next.flow_config_name_locale, "api.flow_config.default");
    assert_eq!(a.items_run, 3);
    // histories are stamped on the clock's path between registration and 09:10:17
    assert!(case.state_history[1].state_date > created);
    assert_eq!(case.updated, sent[0].sent);
    assert_eq!(
        case.due_at(d("Wed, 03 Sep 2025 09:10:17 GMT"), RateTable::swedish()),
        Some(d("Thu, 04 Sep 2025 00:00:00 GMT")),
        "interest grows to 15 kronor on 4 September"
    );
    // Running again at the same time does nothing.
    let again = run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    assert!(!again.changed && again.effects.is_empty());
}

/// Seed 002 steps 4–5: the creditor reports at 11:18:58 a payment of the whole capital made
/// at 08:00:00; the interest is written off and the case closes.
#[test]
fn seed_002s_creditor_payment_closes_the_case_with_depreciation() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let pending = case.next_flow_item.clone();
    let payment = ObjectId::parse("68b82422d6fd1d378f18d2e9").unwrap();
    let now = d("Wed, 03 Sep 2025 11:18:58 GMT");
    let a = run.apply(
        &mut case,
        Command::CreditorPayment {
            id: payment,
            amount: kr(2000),
            paid: d("Wed, 03 Sep 2025 08:00:00 GMT"),
        },
        now,
    );
    assert_eq!(a.settled, kr(2000));
    assert_eq!(a.excess, Money::ZERO);
    let closed = case.closed.as_ref().unwrap();
    assert_eq!(closed.reason, CloseReason::FullyPaidDepreciation);
    assert_eq!(closed.close_date, now);
    assert_eq!(case.status, CaseStatus::Closed);
    assert_eq!(
        case.state,
        CaseState::DebtCollection,
        "the state stays where it was"
    );
    assert_eq!(case.next_flow_item, None);
    assert_eq!(case.next_flow_item_on_close, pending);
    // The ledger of the guide's final answer, line for line.
    let fixture: Case = serde_json::from_str(crate::domain::case::tests::SEED_CLOSED_CASE).unwrap();
    assert_eq!(case.transactions.len(), fixture.transactions.len());
    for (ours, theirs) in case.transactions.iter().zip(&fixture.transactions) {
        assert_eq!(ours.kind, theirs.kind);
        assert_eq!(ours.amount, theirs.amount);
        assert_eq!(ours.origin, theirs.origin);
        assert_eq!(ours.description_locale_tag, theirs.description_locale_tag);
        assert_eq!(ours.payment_method, theirs.payment_method);
    }
    assert_eq!(case.transactions[2].creditor_payment, Some(payment));
    assert_eq!(
        case.transactions[2].bank_transaction_date,
        d("Wed, 03 Sep 2025 08:00:00 GMT")
    );
    assert_eq!(case.transactions[2].registration_date, now);
    for field in [
        case.local_remaining_capital_amount,
        case.local_remaining_interest_amount,
        case.local_remaining_costs_amount,
        case.total_remaining_transaction_amount,
    ] {
        assert_eq!(field, Money::ZERO);
    }
    assert_eq!(case.total_added_transaction_amount, kr(2014));
    assert_eq!(case.due_at(now, RateTable::swedish()), None);
    // Nothing more happens to a closed case.
    assert!(
        !run.until(&mut case, d("Wed, 01 Jul 2026 00:00:00 GMT"))
            .changed
    );
    assert_eq!(
        case.apply(Command::Cancel, &run.ctx(now)),
        Err(Refusal::Closed)
    );
}

/// A consumer, a reminder-fee agreement and the default fees: the whole chain to debt
/// surveillance, with every fee, letter and limitation break in its place.
#[test]
fn the_default_flow_runs_from_reminder_to_surveillance() {
    // A sandbox account: Kronofogden's steps are simulated.
    let mut run = Run::with_fees(FeePolicy {
        reminder_fee_agreement: true,
        ..FeePolicy::default()
    });
    run.policy.in_sandbox = true;
    let mut reg = crate::domain::registration::tests::seed_001();
    reg.first_action = FirstAction::Reminder;
    reg.customer.is_company = Some(false);
    reg.customer.id_number = "202501012385".into();
    reg.debts[0].fees_already_claimed = None;
    let created = d("Mon, 01 Sep 2025 10:00:00 GMT");
    let mut case = open(&reg, created);
    assert!(!case.debtor_is_company());

    let a = run.until(&mut case, d("Tue, 02 Sep 2025 00:00:00 GMT"));
    assert_eq!(case.state, CaseState::Reminder);
    assert_eq!(case.status, CaseStatus::ReminderSent);
    let sent = letters(&a);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, LetterKind::Reminder);
    assert!(sent[0].pay_by >= sent[0].sent.plus_days(10).start_of_day());
    assert_eq!(tagged(&case, tags::REMINDER_FEE), kr(60));
    assert_eq!(
        case.limitation.as_ref().unwrap().locale_annotation,
        "api.log_messages.letter_sent_reminder"
    );
    // 3 years for a consumer
    let lim = case.limitation.clone().unwrap();
    assert_eq!(lim.limitation_date, lim.break_date.plus_years(3));

    // 14 days later: debt collection and the collection letter with its fee.
    let a = run.until(&mut case, d("Wed, 17 Sep 2025 00:00:00 GMT"));
    assert_eq!(case.state, CaseState::DebtCollection);
    assert_eq!(letters(&a).len(), 1);
    assert_eq!(letters(&a)[0].kind, LetterKind::DebtCollection);
    assert_eq!(tagged(&case, tags::DEBT_COLLECTION_FEE), kr(180));
    assert_eq!(letters(&a)[0].fees.len(), 2);

    // The statement, the application to Kronofogden, the verdict, surveillance.
    let a = run.until(&mut case, d("Mon, 01 Jun 2026 00:00:00 GMT"));
    assert_eq!(case.state, CaseState::DebtSurveillance);
    assert_eq!(
        states(&case),
        vec![
            CaseState::Initializing,
            CaseState::Reminder,
            CaseState::DebtCollection,
            CaseState::Enforcement,
            CaseState::DebtSurveillance
        ]
    );
    assert!(statuses(&case).contains(&CaseStatus::DebtCollectionActive));
    assert!(statuses(&case).contains(&CaseStatus::EnforcementActive));
    assert_eq!(tagged(&case, tags::ENFORCEMENT_APPLICATION_FEE), kr(300));
    assert_eq!(tagged(&case, tags::ENFORCEMENT_OWN_WORK_FEE), kr(380));
    assert_eq!(
        letters(&a)
            .iter()
            .filter(|l| l.kind == LetterKind::DebtStatement)
            .count(),
        1
    );
    assert_eq!(
        case.services
            .iter()
            .map(|s| s.service.as_str())
            .collect::<Vec<_>>(),
        vec!["debt_collection", "enforcement", "debt_surveillance"]
    );
    // Surveillance letters, one a year, each a new limitation period.
    let a = run.until(&mut case, d("Sat, 01 Jan 2028 00:00:00 GMT"));
    let yearly: Vec<_> = letters(&a)
        .into_iter()
        .filter(|l| l.kind == LetterKind::DebtSurveillance)
        .collect();
    assert_eq!(yearly.len(), 2);
    assert_eq!(case.limitation.as_ref().unwrap().break_date, yearly[1].sent);
    // Interest is posted through the last day, simple, on the capital only.
    let expected = case
        .interest_due_through(
            d("Sat, 01 Jan 2028 00:00:00 GMT").date(),
            RateTable::swedish(),
        )
        .floor_kronor();
    assert_eq!(case.local_added_interest_amount, expected);
    // 877 days × 2 050 × 10 % / 365 ≈ 492
    assert_eq!(expected, kr(492));
    // The histories move forward in time.
    assert!(case
        .state_history
        .windows(2)
        .all(|w| w[0].state_date <= w[1].state_date));
    assert!(case
        .status_history
        .windows(2)
        .all(|w| w[0].status_date <= w[1].status_date));
}

fn tagged(case: &Case, tag: &str) -> Money {
    crate::domain::ledger::total_tagged(&case.transactions, tag)
}

#[test]
fn real_time_runs_stamp_now_and_leave_future_items_alone() {
    let run = Run::sandbox();
    let created = d("Wed, 03 Sep 2025 07:56:11 GMT");
    let mut case = open(&seed_002(), created);
    // Two minutes later nothing is due yet.
    let early = run.apply(
        &mut case,
        Command::RunDue {
            until: created.plus_seconds(120),
            simulate: false,
        },
        created.plus_seconds(120),
    );
    assert_eq!(early.items_run, 0);
    // At 08:30 initialisation and debt collection run at 08:30; the letter waits until 08:40.
    let now = d("Wed, 03 Sep 2025 08:30:00 GMT");
    let a = run.apply(
        &mut case,
        Command::RunDue {
            until: now,
            simulate: false,
        },
        now,
    );
    assert_eq!(a.items_run, 2);
    assert!(case.status_history[1..]
        .iter()
        .all(|s| s.status_date == now));
    assert_eq!(
        case.next_flow_item.as_ref().unwrap().schedule_to_execute,
        d("Wed, 03 Sep 2025 08:40:00 GMT")
    );
}

#[test]
fn a_dispute_stops_the_flow_until_it_is_resolved() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let parked = case.next_flow_item.clone().unwrap();
    let now = d("Thu, 04 Sep 2025 10:00:00 GMT");
    run.apply(&mut case, Command::Hold(Hold::Dispute), now);
    assert_eq!(case.state, CaseState::Dispute);
    assert_eq!(case.next_flow_item, None);
    assert_eq!(case.flow_state().on_hold, Some(parked.clone()));
    assert_eq!(
        case.apply(Command::Hold(Hold::Estate), &run.ctx(now)),
        Err(Refusal::OnHold(CaseState::Dispute))
    );
    // Months pass: no letter, no state change; interest still runs.
    let a = run.until(&mut case, d("Mon, 01 Dec 2025 00:00:00 GMT"));
    assert_eq!(a.items_run, 0);
    assert!(letters(&a).is_empty());
    assert_eq!(case.state, CaseState::Dispute);
    assert!(case.local_added_interest_amount > kr(14));
    // Resolved in the creditor's favour: back to debt collection, the statement runs now.
    let resumed_at = d("Mon, 01 Dec 2025 09:00:00 GMT");
    run.apply(&mut case, Command::Resume, resumed_at);
    assert_eq!(case.state, CaseState::DebtCollection);
    assert_eq!(case.next_flow_item.as_ref().unwrap().item, parked.item);
    assert_eq!(
        case.next_flow_item.as_ref().unwrap().schedule_to_execute,
        resumed_at
    );
    let a = run.until(&mut case, resumed_at.plus_seconds(60));
    assert_eq!(letters(&a)[0].kind, LetterKind::DebtStatement);
    assert_eq!(
        case.apply(Command::Resume, &run.ctx(resumed_at)),
        Err(Refusal::NotOnHold)
    );
    // A dispute closed in the debtor's favour keeps the parked item for the record.
    let mut other = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut other, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    run.apply(&mut other, Command::Hold(Hold::Dispute), now);
    run.apply(
        &mut other,
        Command::Close(CloseReason::Dispute),
        now.plus_days(2),
    );
    assert_eq!(other.next_flow_item_on_close, Some(parked));
    assert_eq!(other.closed.as_ref().unwrap().reason, CloseReason::Dispute);
}

#[test]
fn debtor_payments_settle_costs_then_interest_then_capital() {
    let run = Run::with_fees(FeePolicy::default());
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    // 2000 capital, 14 interest, 180 collection fee
    assert_eq!(case.total_remaining_transaction_amount, kr(2194));
    let now = d("Fri, 05 Sep 2025 12:00:00 GMT");
    let a = run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(500),
            paid: d("Fri, 05 Sep 2025 00:00:00 GMT"),
        },
        now,
    );
    assert_eq!(a.settled, kr(500));
    // Interest through 5 Sep is 15.89 → 15: the fee, the interest, then 305 of the capital.
    assert_eq!(case.local_remaining_costs_amount, Money::ZERO);
    assert_eq!(case.local_remaining_interest_amount, Money::ZERO);
    assert_eq!(case.local_remaining_capital_amount, kr(2000 - 305));
    assert!(case.closed.is_none());
    assert_eq!(
        case.limitation.as_ref().unwrap().locale_annotation,
        "api.log_messages.payment_received"
    );
    // The displayed total that day settles the case; what is left over is excess.
    let total = case.total_remaining_transaction_amount;
    let a = run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: total + kr(10),
            paid: now,
        },
        now,
    );
    assert_eq!(a.settled, total);
    assert_eq!(a.excess, kr(10));
    assert_eq!(case.closed.as_ref().unwrap().reason, CloseReason::FullyPaid);
    assert_eq!(case.total_remaining_transaction_amount, Money::ZERO);
}

#[test]
fn a_payment_before_the_letter_owes_no_fee_and_closes_before_debt_collection() {
    let run = Run::with_fees(FeePolicy::default());
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    // Paid in full at 07:59, before initialisation; the bank file arrives after the letter.
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    assert_eq!(tagged(&case, tags::DEBT_COLLECTION_FEE), kr(180));
    let paid = d("Wed, 03 Sep 2025 07:59:00 GMT");
    let owed = case.total_remaining_transaction_amount - kr(180);
    run.apply(
        &mut case,
        Command::DebtorPayment { amount: owed, paid },
        d("Thu, 04 Sep 2025 06:00:00 GMT"),
    );
    assert_eq!(
        case.total_remaining_transaction_amount,
        Money::ZERO,
        "{:#?}",
        case.transactions
    );
    assert_eq!(case.closed.as_ref().unwrap().reason, CloseReason::FullyPaid);
    // In `initializing`, a payment closes the case "before" its first action.
    let mut early = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    // (overdue since 7 August: 14 kronor of interest by 3 September)
    run.apply(
        &mut early,
        Command::DebtorPayment {
            amount: kr(2014),
            paid: d("Wed, 03 Sep 2025 07:58:00 GMT"),
        },
        d("Wed, 03 Sep 2025 07:58:00 GMT"),
    );
    assert_eq!(
        early.closed.as_ref().unwrap().reason,
        CloseReason::FullyPaidBeforeDebtCollection
    );
}

#[test]
fn a_backdated_payment_corrects_interest_already_posted() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 01 Oct 2025 12:00:00 GMT"));
    // Interest through 1 Oct: 55 days → 30.13 → 30.
    assert_eq!(case.local_added_interest_amount, kr(30));
    // A bank file of 1 Oct says 1 000 was paid on 4 Sep.
    let now = d("Wed, 01 Oct 2025 13:00:00 GMT");
    run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(1000),
            paid: d("Thu, 04 Sep 2025 00:00:00 GMT"),
        },
        now,
    );
    // On 4 Sep: interest 15.34 → 15 first, then 985 of the capital; from 5 Sep on the
    // interest runs on 1 015: 28 + 27 × 1015 × 0.1 / 365 … the posting is corrected down.
    let expected = case
        .interest_due_through(now.date(), RateTable::swedish())
        .floor_kronor();
    assert!(expected < kr(30));
    assert_eq!(
        tagged(&case, tags::INTEREST) + tagged(&case, tags::INTEREST_CORRECTION),
        expected
    );
    assert!(tagged(&case, tags::INTEREST_CORRECTION) < Money::ZERO);
    assert_eq!(case.local_remaining_capital_amount, kr(1015));
}

#[test]
fn creditings_and_cancellations_close_the_case() {
    let run = Run::sandbox();
    let now = d("Thu, 04 Sep 2025 10:00:00 GMT");
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let a = run.apply(
        &mut case,
        Command::Crediting {
            amount: kr(500),
            date: now,
        },
        now,
    );
    assert_eq!(a.settled, kr(500));
    assert_eq!(case.local_remaining_capital_amount, kr(1500));
    assert!(case.closed.is_none());
    let a = run.apply(
        &mut case,
        Command::Crediting {
            amount: kr(1600),
            date: now,
        },
        now,
    );
    assert_eq!((a.settled, a.excess), (kr(1500), kr(100)));
    assert_eq!(case.closed.as_ref().unwrap().reason, CloseReason::Credit);
    assert_eq!(case.total_remaining_transaction_amount, Money::ZERO);

    let mut other = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.apply(&mut other, Command::Cancel, now);
    assert_eq!(
        other.closed.as_ref().unwrap().reason,
        CloseReason::Cancellation
    );
    assert_eq!(
        other.next_flow_item_on_close.as_ref().unwrap().item,
        "case--registrations__initialize"
    );
    assert_eq!(
        other.apply(Command::Cancel, &run.ctx(now)),
        Err(Refusal::Closed)
    );
}

#[test]
fn a_partial_creditor_payment_leaves_the_flow_running() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let now = d("Wed, 03 Sep 2025 11:00:00 GMT");
    run.apply(
        &mut case,
        Command::CreditorPayment {
            id: ObjectId::at(1),
            amount: kr(600),
            paid: now,
        },
        now,
    );
    assert!(case.closed.is_none());
    assert_eq!(case.local_remaining_capital_amount, kr(1400));
    assert_eq!(
        case.next_flow_item.as_ref().unwrap().item,
        "case--debt-collections__debt_statement"
    );
    // Capital with nothing else left (not yet overdue) closes as "capital paid to creditor".
    let mut reg = seed_002();
    reg.debts[0].invoice_date = d("Mon, 25 Aug 2025 00:00:00 GMT");
    let mut bare = open(&reg, d("Wed, 03 Sep 2025 07:56:11 GMT"));
    let at = d("Wed, 03 Sep 2025 07:57:00 GMT");
    run.apply(
        &mut bare,
        Command::CreditorPayment {
            id: ObjectId::at(2),
            amount: kr(2000),
            paid: at,
        },
        at,
    );
    assert_eq!(
        bare.closed.as_ref().unwrap().reason,
        CloseReason::CapitalPaidToCreditor
    );
}

#[test]
fn respite_postpones_the_next_item() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    run.apply(
        &mut case,
        Command::Respite { days: 10 },
        d("Wed, 03 Sep 2025 10:00:00 GMT"),
    );
    assert_eq!(
        case.next_flow_item
            .as_ref()
            .unwrap()
            .schedule_to_execute
            .to_string(),
        "Mon, 29 Sep 2025 00:00:00 GMT"
    );
    assert_eq!(
        run.until(&mut case, d("Sun, 28 Sep 2025 23:00:00 GMT"))
            .items_run,
        0
    );
    assert_eq!(
        run.until(&mut case, d("Mon, 29 Sep 2025 00:00:00 GMT"))
            .items_run,
        1
    );
}

#[test]
fn a_payment_plan_kept_then_broken() {
    let run = Run::with_fees(FeePolicy::default());
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let now = d("Fri, 05 Sep 2025 10:00:00 GMT");
    let a = run.apply(
        &mut case,
        Command::PaymentPlan {
            monthly_amount: kr(500),
            first_due: d("Tue, 30 Sep 2025 00:00:00 GMT"),
        },
        now,
    );
    assert_eq!(case.state, CaseState::Amortization);
    assert_eq!(tagged(&case, tags::PAYMENT_PLAN_FEE), kr(170));
    // The fee is for a written plan (lag 1981:739, 3 § 2): the plan goes out as a letter
    // that lists it; agreeing to it acknowledges the debt and interrupts limitation.
    let sent = letters(&a);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, LetterKind::PaymentPlan);
    let terms = sent[0].plan.as_ref().expect("the plan's terms");
    assert_eq!(terms.monthly_amount, kr(500));
    assert_eq!(terms.first_due, d("Tue, 30 Sep 2025 00:00:00 GMT"));
    assert!(sent[0]
        .fees
        .iter()
        .any(|(tag, fee)| tag == tags::PAYMENT_PLAN_FEE && *fee == kr(170)));
    let lim = case.limitation.clone().unwrap();
    assert_eq!(
        lim.locale_annotation,
        "api.log_messages.payment_plan_agreed"
    );
    assert_eq!(lim.break_date, now);
    let check = case.next_flow_item.clone().unwrap();
    assert_eq!(check.item, "case--amortizations__instalment_check");
    assert_eq!(
        check.schedule_to_execute.to_string(),
        "Sun, 05 Oct 2025 00:00:00 GMT"
    );
    // The first instalment is paid on time: the plan goes on; the next instalment falls due
    // on 30 October and is checked five days later.
    run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(500),
            paid: d("Mon, 29 Sep 2025 00:00:00 GMT"),
        },
        d("Tue, 30 Sep 2025 06:00:00 GMT"),
    );
    run.until(&mut case, d("Mon, 06 Oct 2025 00:00:00 GMT"));
    assert_eq!(case.state, CaseState::Amortization);
    assert_eq!(case.flow_state().payment_plan.unwrap().instalments_kept, 1);
    assert_eq!(
        case.next_flow_item
            .as_ref()
            .unwrap()
            .schedule_to_execute
            .to_string(),
        "Tue, 04 Nov 2025 00:00:00 GMT"
    );
    // The second is missed: the plan is broken and the parked statement runs.
    let a = run.until(&mut case, d("Thu, 06 Nov 2025 00:00:00 GMT"));
    assert_eq!(case.state, CaseState::DebtCollection);
    assert!(case.flow_state().payment_plan.is_none());
    assert_eq!(
        letters(&a).iter().map(|l| l.kind).collect::<Vec<_>>(),
        vec![LetterKind::DebtStatement]
    );
    // a plan cannot start in the past
    assert!(matches!(
        case.apply(
            Command::PaymentPlan {
                monthly_amount: kr(100),
                first_due: d("Mon, 01 Sep 2025 00:00:00 GMT")
            },
            &run.ctx(now.plus_days(90))
        ),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn a_step_missing_from_the_configuration_marks_the_item_failed() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    if let Some(i) = case.next_flow_item.as_mut() {
        i.item = "case--nowhere__gone".into();
    }
    let a = run.until(&mut case, d("Wed, 03 Sep 2025 09:00:00 GMT"));
    assert_eq!(a.items_run, 0);
    assert!(case.next_flow_item.as_ref().unwrap().is_failed);
    // a failed item is not retried by itself, and is not due: a run to a time would claim
    // the case again and again
    assert_eq!(
        run.until(&mut case, d("Thu, 04 Sep 2025 09:00:00 GMT"))
            .items_run,
        0
    );
    let failed_at = case.next_flow_item.as_ref().unwrap().schedule_to_execute;
    let due = case.due_at(d("Thu, 04 Sep 2025 09:00:00 GMT"), RateTable::swedish());
    assert!(due.is_none_or(|due| due > failed_at), "{due:?}");
}

#[test]
fn refused_commands_leave_the_case_untouched() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.apply(
        &mut case,
        Command::Cancel,
        d("Wed, 03 Sep 2025 08:00:00 GMT"),
    );
    let before = case.clone();
    assert_eq!(
        case.apply(
            Command::Respite { days: 5 },
            &run.ctx(d("Thu, 04 Sep 2025 08:00:00 GMT"))
        ),
        Err(Refusal::Closed)
    );
    assert_eq!(case, before);
}

#[test]
fn respites_are_limited_per_case_per_state_and_in_days() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let ctx = run.ctx(d("Wed, 03 Sep 2025 10:00:00 GMT"));
    let before = case.clone();
    for days in [0, 31] {
        let refused = case.apply(Command::Respite { days }, &ctx);
        assert_eq!(
            refused,
            Err(Refusal::Respite("a respite is from 1 to 30 days".into()))
        );
    }
    assert_eq!(case, before);
    case.apply(Command::Respite { days: 5 }, &ctx).unwrap();
    assert_eq!(case.flow_state().respites.len(), 1);
    assert_eq!(
        case.flow_state().respites[0].state,
        CaseState::DebtCollection
    );
    // The default policy: one respite per state.
    let second = case.apply(Command::Respite { days: 5 }, &ctx);
    assert!(
        matches!(&second, Err(Refusal::Respite(m)) if m.contains("in state debt_collection")),
        "{second:?}"
    );
    assert_eq!(
        case.next_flow_item
            .as_ref()
            .unwrap()
            .schedule_to_execute
            .to_string(),
        "Wed, 24 Sep 2025 00:00:00 GMT"
    );
}

#[test]
fn a_backdated_payment_never_settles_what_a_later_one_already_paid() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Mon, 22 Sep 2025 12:00:00 GMT"));
    let now = d("Mon, 22 Sep 2025 13:00:00 GMT");
    // Paid on 20 Sep: 2 000 (interest first, then capital).
    let first = run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(2000),
            paid: d("Sat, 20 Sep 2025 00:00:00 GMT"),
        },
        now,
    );
    assert_eq!(first.settled, kr(2000));
    let capital_left = case.local_remaining_capital_amount;
    assert!(
        capital_left > Money::ZERO && capital_left < kr(100),
        "{capital_left}"
    );
    // Then a payment of 500 from 1 Sep turns up: only what is still owed is settled.
    let late = run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(500),
            paid: d("Mon, 01 Sep 2025 00:00:00 GMT"),
        },
        now,
    );
    assert!(case.local_remaining_capital_amount >= Money::ZERO);
    assert!(case.local_remaining_costs_amount >= Money::ZERO);
    // (The interest the 20 Sep payment settled was, in hindsight, a little more than was due
    // once the 1 Sep payment counts: that small credit stays on the interest balance.)
    assert!(case.local_remaining_interest_amount > kr(-10));
    assert_eq!(late.settled + late.excess, kr(500));
    assert!(
        late.excess > Money::ZERO,
        "the rest is an overpayment: {late:?}"
    );
}

fn events(a: &Applied) -> Vec<(String, serde_json::Value)> {
    a.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Event(ev) => Some((ev.kind.clone(), ev.data.clone())),
            _ => None,
        })
        .collect()
}

/// Everything a change causes comes back from `Case::apply`: a caller that only holds the
/// result (the seed, a test) sees the letter, its event, the limitation break and the
/// state change the worker writes.
#[test]
fn apply_returns_every_effect_of_a_flow_run() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    let a = run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let letter_id = a
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Letter { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        events(&a),
        vec![
            (
                "case.state_changed".to_string(),
                serde_json::json!({"case": case.id.to_hex(), "state": "debt_collection",
                    "previous_state": "initializing"})
            ),
            (
                "case.letter_sent".to_string(),
                serde_json::json!({"case": case.id.to_hex(), "letter": letter_id.to_hex(),
                    "letter_type": "debt_collection"})
            ),
        ]
    );
    let breaks: Vec<&Limitation> = a
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::LimitationInterrupted(l) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(breaks, vec![case.limitation.as_ref().unwrap()]);
    assert!(
        !a.effects.iter().any(|e| matches!(e, Effect::Payout(_))),
        "a flow run settles no money"
    );
}

/// A debtor's payment to the agency: the creditor's share of it as payout lines, the
/// settlement and the closing as events.
#[test]
fn a_payment_returns_its_payout_lines_and_events() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let now = d("Thu, 04 Sep 2025 10:00:00 GMT");
    let a = run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(2015),
            paid: now,
        },
        now,
    );
    let lines: Vec<(crate::domain::finance::FinanceCategory, Money)> = a
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Payout(l) => Some((l.category, l.amount)),
            _ => None,
        })
        .collect();
    use crate::domain::finance::FinanceCategory as F;
    assert_eq!(lines, vec![(F::Interest, kr(15)), (F::Capital, kr(2000))]);
    let kinds: Vec<String> = events(&a).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, vec!["payment.settled", "case.closed"]);
    assert_eq!(events(&a)[0].1["paid_to"], "debtor");
    assert_eq!(events(&a)[1].1["close_reason"], "fully_paid");

    // The debtor paid the creditor instead: the agency's written-off fees are the
    // creditor's to pay (none in the sandbox), and the event names the payment.
    let mut other = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut other, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let id = ObjectId::parse("68b82422d6fd1d378f18d2e9").unwrap();
    let a = run.apply(
        &mut other,
        Command::CreditorPayment {
            id,
            amount: kr(2000),
            paid: now,
        },
        now,
    );
    assert_eq!(events(&a)[0].1["creditor_payment"], id.to_hex());
    assert_eq!(events(&a)[0].1["paid_to"], "creditor");
    assert!(!a.effects.iter().any(|e| matches!(e, Effect::Payout(_))));
}

#[test]
fn pseudonymising_keeps_the_money_and_lets_go_of_the_person() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    let now = d("Wed, 03 Sep 2025 08:00:00 GMT");
    let invoice = MediaRef {
        id: "cases/x".into(),
        filename: "invoice.pdf".into(),
        content_type: "application/pdf".into(),
        size: 10,
    };
    run.apply(
        &mut case,
        Command::AttachOriginalInvoice(invoice.clone()),
        now,
    );
    assert_eq!(
        case.apply(Command::Pseudonymise, &run.ctx(now)),
        Err(Refusal::Invalid(
            "only a closed case is pseudonymised".into()
        )),
        "an open case keeps its debtor"
    );
    run.apply(&mut case, Command::Cancel, now);
    let company = case.debtor_is_company();
    let ledger = case.transactions.clone();
    let later = d("Mon, 01 Jan 2035 00:00:00 GMT");
    let a = run.apply(&mut case, Command::Pseudonymise, later);
    assert_eq!(a.effects, vec![Effect::ReplacedFile(invoice)]);
    assert_eq!(case.customer_name, PURGED);
    assert_eq!(case.debtor_name, PURGED);
    assert_eq!(case.customer_id_number, format!("purged-{}", case.customer));
    assert_eq!(case.debtor_id_number, case.customer_id_number);
    assert_eq!(case.customer_number, None);
    assert_eq!(case.original_invoice, None);
    assert_eq!(case.transactions, ledger);
    assert_eq!(case.debtor_is_company(), company);
    assert_eq!(case.updated, later);
    // Twice is once.
    assert!(!run.apply(&mut case, Command::Pseudonymise, later).changed);
}

#[test]
fn nothing_revives_a_barred_claim() {
    // Preskriptionslag (1981:130) 8 §: once the limitation date has passed, a payment (or a
    // letter) no longer interrupts it.
    let run = Run::with_fees(FeePolicy::default());
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    let barred = crate::domain::limitation::interrupted(
        d("Wed, 01 Sep 2021 00:00:00 GMT"),
        false,
        crate::domain::limitation::annotations::CLAIM_FELL_DUE,
    );
    case.limitation = Some(barred.clone());
    let now = d("Mon, 08 Sep 2025 12:00:00 GMT");
    let a = run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: kr(100),
            paid: d("Mon, 08 Sep 2025 00:00:00 GMT"),
        },
        now,
    );
    assert_eq!(a.settled, kr(100));
    assert_eq!(case.limitation, Some(barred), "still barred");
    assert!(!a
        .effects
        .iter()
        .any(|e| matches!(e, crate::domain::effects::Effect::LimitationInterrupted(_))));
}

#[test]
fn only_a_remainder_a_letter_demanded_goes_to_kronofogden() {
    use crate::domain::apply::Escalation;
    use crate::domain::policy::AfterDemand;
    let run = Run {
        policy: CreditorPolicy {
            interest_after_demand: AfterDemand::Demand,
            minimum_enforcement_amount: Money::ZERO,
            ..CreditorPolicy::default()
        },
    };
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let demand = case
        .flow_state()
        .demand
        .expect("the collection letter demanded");
    assert_eq!(demand.amount, kr(2194));
    // Ten days end on Saturday 13 September: the next banking day (lag 1930:173).
    assert_eq!(demand.pay_by, d("Mon, 15 Sep 2025 00:00:00 GMT"));
    assert_eq!(case.escalation(&run.policy), Escalation::Allowed);
    // Paid in full, late: the interest since the letter is left, and no letter asked for it.
    run.apply(
        &mut case,
        Command::DebtorPayment {
            amount: demand.amount,
            paid: d("Tue, 16 Sep 2025 00:00:00 GMT"),
        },
        d("Tue, 16 Sep 2025 09:00:00 GMT"),
    );
    assert!(case.total_remaining_transaction_amount > Money::ZERO);
    assert_eq!(case.escalation(&run.policy), Escalation::NotDemanded);
    // Under the creditor's minimum: not at all.
    let strict = CreditorPolicy {
        minimum_enforcement_amount: kr(100),
        ..run.policy.clone()
    };
    assert_eq!(case.escalation(&strict), Escalation::BelowMinimum);
}

#[test]
fn a_real_account_waits_for_the_application_to_be_filed() {
    use crate::domain::case::KronofogdenStatus;
    // Issue 22 item 6: nothing is filed by the flow, so outside a sandbox account no
    // Kronofogden fee is charged and no limitation break recorded; the case waits.
    let run = Run::with_fees(FeePolicy::default());
    assert!(!run.policy.in_sandbox);
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let before = case.limitation.clone();
    run.until(&mut case, d("Mon, 01 Dec 2025 00:00:00 GMT"));
    let fs = case.flow_state();
    let k = fs.kronofogden.expect("the flow reached the application");
    assert_eq!(k.status, KronofogdenStatus::AwaitingFiling);
    assert_eq!(k.since, d("Fri, 03 Oct 2025 00:00:00 GMT"));
    assert_eq!(case.state, CaseState::DebtCollection);
    assert!(case.next_flow_item.is_none(), "the flow stops");
    assert_eq!(
        tagged(&case, tags::ENFORCEMENT_APPLICATION_FEE),
        Money::ZERO
    );
    assert_eq!(tagged(&case, tags::ENFORCEMENT_OWN_WORK_FEE), Money::ZERO);
    // The debt statement of 19 September broke limitation; nothing after it did.
    assert_ne!(case.limitation, before);
    assert_eq!(
        case.limitation.as_ref().unwrap().locale_annotation,
        "api.log_messages.letter_sent_debt_statement"
    );

    // A sandbox account simulates it, and says so.
    let mut sandbox = run;
    sandbox.policy.in_sandbox = true;
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    sandbox.until(&mut case, d("Mon, 01 Dec 2025 00:00:00 GMT"));
    assert_eq!(
        case.flow_state().kronofogden.map(|k| k.status),
        Some(KronofogdenStatus::Simulated)
    );
    assert_eq!(tagged(&case, tags::ENFORCEMENT_APPLICATION_FEE), kr(300));
}

#[test]
fn no_interest_runs_for_the_days_a_due_date_moves() {
    // Issue 22 item 12: 13 August 2025 + 31 days is Saturday 13 September; the invoice
    // falls due on Monday 15 (lag 1930:173, 2 §) and interest runs from Tuesday 16.
    let mut reg = seed_002();
    reg.debts[0].invoice_date = d("Wed, 13 Aug 2025 00:00:00 GMT");
    let case = open(&reg, d("Wed, 01 Oct 2025 09:00:00 GMT"));
    assert_eq!(
        case.due_date(),
        NaiveDate::from_ymd_opt(2025, 9, 15).unwrap()
    );
    assert_eq!(
        case.interest_first_day(),
        NaiveDate::from_ymd_opt(2025, 9, 16).unwrap()
    );
}

/// Issue 22 item 11: a queued letter breaks nothing; its limitation break is recorded when
/// it has been sent (`Command::LetterSent`), dated the letter's day, and never moves the
/// limitation back (an older letter typeset after a newer one).
#[test]
fn a_letter_breaks_limitation_only_once_it_is_sent() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    let registered = case.limitation.clone();
    let a = run.until_unsent(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let collection = letters(&a)[0].clone();
    assert_eq!(case.limitation, registered, "queued, not sent");
    assert!(!a
        .effects
        .iter()
        .any(|e| matches!(e, Effect::LimitationInterrupted(_))));
    let statement =
        letters(&run.until_unsent(&mut case, d("Sat, 20 Sep 2025 09:00:00 GMT")))[0].clone();
    assert_eq!(statement.kind, LetterKind::DebtStatement);
    assert_eq!(case.limitation, registered);

    // The debt statement is typeset first: its day is the break.
    let sent = |o: &LetterOrder| Command::LetterSent {
        sent: o.sent,
        annotation: o.interrupts.clone().unwrap(),
    };
    let a = run.apply(
        &mut case,
        sent(&statement),
        d("Sat, 20 Sep 2025 09:01:00 GMT"),
    );
    let lim = case.limitation.clone().unwrap();
    assert_eq!(lim.break_date, statement.sent);
    assert_eq!(
        lim.locale_annotation,
        "api.log_messages.letter_sent_debt_statement"
    );
    assert!(matches!(a.effects[..], [Effect::LimitationInterrupted(_)]));
    // Then the older collection letter: it moves nothing back.
    let a = run.apply(
        &mut case,
        sent(&collection),
        d("Sat, 20 Sep 2025 09:02:00 GMT"),
    );
    assert_eq!(case.limitation.as_ref(), Some(&lim));
    assert!(a.effects.is_empty());
    // A closed case records nothing.
    let mut closed = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    let before = closed.limitation.clone();
    run.apply(
        &mut closed,
        Command::Cancel,
        d("Wed, 03 Sep 2025 08:00:00 GMT"),
    );
    run.apply(
        &mut closed,
        sent(&statement),
        d("Sat, 20 Sep 2025 09:01:00 GMT"),
    );
    assert_eq!(closed.limitation, before);
}

/// Issue 22 item 11: a disputed case is not interrupted by anything the flow does, so 90
/// days before its limitation date it raises `case.limitation_approaching`, once per date;
/// the worker is told when (`due_at`).
#[test]
fn a_held_case_near_its_limitation_date_raises_an_event_once() {
    let run = Run::sandbox();
    let mut case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    let now = d("Wed, 03 Sep 2025 10:00:00 GMT");
    run.apply(&mut case, Command::Hold(Hold::Dispute), now);
    assert_eq!(case.stalled(), Some("dispute"));
    let date = case.limitation.as_ref().unwrap().limitation_date;
    let warn_at = date.plus_days(-LIMITATION_WARNING_DAYS);
    assert_eq!(case.limitation_warning_at(), Some(warn_at));
    assert!(case.due_at(now, RateTable::swedish()).unwrap() <= warn_at);

    // The day before: nothing.
    let a = run.until(&mut case, warn_at.plus_days(-1));
    assert!(!events(&a)
        .iter()
        .any(|(k, _)| k == "case.limitation_approaching"));
    // On the day: the event, with the date and the reason.
    let a = run.until(&mut case, warn_at);
    let raised: Vec<_> = events(&a)
        .into_iter()
        .filter(|(k, _)| k == "case.limitation_approaching")
        .collect();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0].1["reason"], "dispute");
    assert_eq!(raised[0].1["limitation_date"], date.to_string());
    assert_eq!(raised[0].1["days_left"], LIMITATION_WARNING_DAYS);
    assert_eq!(case.limitation_warning_at(), None);
    // Once: later runs raise nothing more.
    let a = run.until(&mut case, warn_at.plus_days(30));
    assert!(!events(&a)
        .iter()
        .any(|(k, _)| k == "case.limitation_approaching"));
    // A case that is not held does not warn.
    let mut open_case = open(&seed_002(), d("Wed, 03 Sep 2025 07:56:11 GMT"));
    run.until(&mut open_case, d("Wed, 03 Sep 2025 09:10:17 GMT"));
    assert_eq!(open_case.stalled(), None);
    assert_eq!(open_case.limitation_warning_at(), None);
}

/// Issue 23 item 1: a payment dated before one that already paid interest lowers the
/// interest due below what was paid. The 15 kr paid as interest on 30 September is owed only
/// in part (8 kr: 1 000 kr from 7 Aug to 2 Sep, then 85 kr to 30 Sep); the 7 kr beyond it
/// moves to capital, and the backdated payment settles 7 kr less capital, so the 7 kr come
/// back to the debtor with the rest of the overpayment. Nothing remaining is negative.
#[test]
fn a_backdated_payment_never_leaves_negative_interest() {
    let run = Run::sandbox();
    let mut reg = seed_002();
    reg.debts[0].capital_to_claim = kr(1000);
    reg.debts[0].invoice_date = d("Mon, 07 Jul 2025 00:00:00 GMT");
    reg.debts[0].invoice_due_days_after_invoice_date = 30;
    let mut case = open(&reg, d("Mon, 01 Sep 2025 09:00:00 GMT"));
    run.until(&mut case, d("Wed, 01 Oct 2025 09:00:00 GMT"));
    let pay = |case: &mut Case, kronor: i64, paid: &str, now: &str| {
        run.apply(
            case,
            Command::DebtorPayment {
                amount: kr(kronor),
                paid: d(paid),
            },
            d(now),
        )
    };
    pay(
        &mut case,
        100,
        "Tue, 30 Sep 2025 00:00:00 GMT",
        "Wed, 01 Oct 2025 09:00:00 GMT",
    );
    assert_eq!(tagged(&case, tags::DEBTOR_PAYMENT), -kr(100));
    run.until(&mut case, d("Tue, 18 Nov 2025 09:00:00 GMT"));
    let before = case.transactions.len();
    let a = pay(
        &mut case,
        3000,
        "Tue, 02 Sep 2025 00:00:00 GMT",
        "Tue, 18 Nov 2025 09:00:00 GMT",
    );
    let b = Balances::from_ledger(&case.transactions);
    assert_eq!(b.remaining_interest, Money::ZERO, "{b:?}");
    assert_eq!(b.remaining_capital, Money::ZERO, "{b:?}");
    assert!(case.closed.is_some());
    // 8 kr of interest was owed and paid; 1 000 of capital; the rest goes back.
    let paid_interest = -case
        .transactions
        .iter()
        .filter(|t| t.kind == TransactionType::Interest)
        .filter(|t| t.is(tags::DEBTOR_PAYMENT) || t.is(tags::PAYMENT_REALLOCATED))
        .map(|t| t.amount)
        .sum::<Money>();
    assert_eq!(paid_interest, kr(8));
    assert_eq!(tagged(&case, tags::PAYMENT_REALLOCATED), Money::ZERO);
    assert_eq!(a.settled, kr(908));
    assert_eq!(a.excess, kr(3000 - 908));
    // The creditor's lines of this payment: 908 capital, and 7 moved from interest to
    // capital: 1 000 capital and 8 interest in all with the first payment's 85 + 15.
    let lines = crate::domain::finance::settlement_lines(&case, before);
    let sum = |cat| {
        lines
            .iter()
            .filter(|l| l.category == cat)
            .map(|l| l.amount)
            .sum::<Money>()
    };
    use crate::domain::finance::FinanceCategory;
    assert_eq!(sum(FinanceCategory::Capital) + kr(85), kr(1000));
    assert_eq!(sum(FinanceCategory::Interest) + kr(15), kr(8));
}

mod payments_in_any_order {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        /// Issue 23 item 1: payments to the agency and to the creditor, of any size, reported
        /// in any order with value dates anywhere between the due date and the day they are
        /// reported: no remaining amount is ever negative, the interest the debtor has paid
        /// is never more than the interest posted, and every krona paid to the agency is
        /// settled or returned as excess.
        #[test]
        fn never_leave_a_negative_remainder(
            capital in 100i64..20_000,
            payments in proptest::collection::vec((1i64..6_000, 0i64..200, any::<bool>()), 1..7),
        ) {
            let run = Run::sandbox();
            let mut reg = seed_002();
            reg.debts[0].capital_to_claim = kr(capital);
            reg.debts[0].invoice_date = d("Mon, 07 Jul 2025 00:00:00 GMT");
            reg.debts[0].invoice_due_days_after_invoice_date = 30;
            let mut case = open(&reg, d("Mon, 01 Sep 2025 09:00:00 GMT"));
            let first_value = d("Thu, 07 Aug 2025 00:00:00 GMT");
            let mut now = d("Wed, 01 Oct 2025 09:00:00 GMT");
            for (i, (kronor, offset, to_agency)) in payments.into_iter().enumerate() {
                run.until(&mut case, now);
                let paid = first_value.plus_days(offset).min(now.start_of_day());
                let amount = kr(kronor);
                let cmd = if to_agency {
                    Command::DebtorPayment { amount, paid }
                } else {
                    Command::CreditorPayment { id: ObjectId::at(1_800_000_000 + i as i64), amount, paid }
                };
                if let Ok(a) = case.apply(cmd, &run.ctx(now)) {
                    prop_assert_eq!(a.settled + a.excess, amount);
                    prop_assert!(a.settled >= Money::ZERO && a.excess >= Money::ZERO);
                }
                let b = Balances::from_ledger(&case.transactions);
                prop_assert!(b.remaining_capital >= Money::ZERO, "{:?}", b);
                prop_assert!(b.remaining_interest >= Money::ZERO, "{:?}", b);
                prop_assert!(b.remaining_costs >= Money::ZERO, "{:?}", b);
                let interest_paid = -case
                    .transactions
                    .iter()
                    .filter(|t| t.kind == TransactionType::Interest)
                    .filter(|t| t.is(tags::DEBTOR_PAYMENT) || t.is(tags::PAYMENT_REALLOCATED))
                    .map(|t| t.amount)
                    .sum::<Money>();
                prop_assert!(interest_paid >= Money::ZERO);
                now = now.plus_days(17);
            }
        }
    }
}
