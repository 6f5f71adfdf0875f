//! `indriva seed`: realistic demo and benchmark cases. Every state and close reason of seed
//! 003 occurs; histories move forward in time; ledgers are consistent with the amounts
//! (balances are recomputed from the ledger, never invented).

use std::sync::mpsc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::domain::case::*;
use crate::domain::party::Creditor;
use crate::domain::{Clock, HttpDate, Money, ObjectId};
use crate::eve::{Filter, Paging, Sort};
use crate::resources::{ACCOUNTS, CASES, CREDITORS};
use crate::store::{prepare_document, ListQuery, Store, StoreError, StoredDoc};
use crate::tenancy::Scope;

pub struct SeedReport {
    pub cases: u64,
    pub account: ObjectId,
    pub creditors: usize,
    pub seconds: f64,
}

/// The account and creditors cases are spread over. The first creditor gets the largest
/// share (40 %), the others split the rest.
#[derive(Clone)]
pub struct Target {
    pub account: ObjectId,
    pub creditors: Vec<(ObjectId, String)>,
}

/// Seeds `n` cases into `account` (default: the sandbox account, created if absent, with a
/// few extra creditors).
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    n: u64,
    account: Option<ObjectId>,
    progress: bool,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<SeedReport> {
    let target = prepare_target(store, clock, account, data_dir).await?;
    let deferred_indexes = store.bulk_load_mode().await?;
    let started = Instant::now();
    let bar = if progress {
        ProgressBar::new(n)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {per_sec}  eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    const BATCH: u64 = 5_000;
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<StoredDoc>, StoreError>>(4);
    let now = clock.now();
    let gen_target = target.clone();
    // Generation (JSON, hashing) runs on its own thread while this task writes.
    let generator = std::thread::spawn(move || {
        let mut rng = SmallRng::from_entropy();
        let mut done = 0u64;
        while done < n {
            let size = BATCH.min(n - done);
            let batch: Result<Vec<StoredDoc>, StoreError> = (0..size)
                .map(|i| {
                    prepare_document(&CASES, &generate_case(&mut rng, &gen_target, now, done + i))
                })
                .collect();
            if tx.send(batch).is_err() {
                return;
            }
            done += size;
        }
    });
    let mut written = 0u64;
    let mut waited = std::time::Duration::ZERO;
    loop {
        let t0 = Instant::now();
        let Ok(batch) = rx.recv() else { break };
        waited += t0.elapsed();
        let batch = batch?;
        let mut t = store.begin().await?;
        let n = batch.len() as u64;
        t.insert(&CASES, batch).await?;
        t.commit().await?;
        written += n;
        bar.set_position(written);
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("case generator panicked"))?;
    tracing::debug!(
        waited_for_generator_ms = waited.as_millis() as u64,
        "seed written"
    );
    if !deferred_indexes.is_empty() {
        bar.set_message("building indexes");
        store.finish_bulk_load(&deferred_indexes).await?;
    }
    bar.finish_and_clear();
    Ok(SeedReport {
        cases: written,
        account: target.account,
        creditors: target.creditors.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn prepare_target(
    store: &Store,
    clock: &dyn Clock,
    account: Option<ObjectId>,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<Target> {
    let account = match account {
        Some(a) => {
            if store
                .get(&ACCOUNTS, &Scope::unrestricted(), &a)
                .await?
                .is_none()
            {
                anyhow::bail!("account {a} does not exist");
            }
            a
        }
        None => {
            crate::sandbox::ensure(store, clock, data_dir).await?;
            crate::sandbox::sandbox_account_id()
        }
    };
    let mut creditors = creditors_of(store, account).await?;
    let wanted = if Some(account) == Some(crate::sandbox::sandbox_account_id()) {
        5
    } else {
        1
    };
    if creditors.len() < wanted {
        let names = [
            "Nordic Fiber AB",
            "Solkraft Energi AB",
            "Bygg & Montage i Malmö AB",
            "Hälsokliniken Norr AB",
            "Seeded Creditor AB",
        ];
        let mut tx = store.begin().await?;
        for i in creditors.len()..wanted {
            let id = ObjectId::at(clock.now().unix());
            let mut c = crate::sandbox::creditor(
                id,
                account,
                names[i % names.len()],
                &org_number(i as u64 + 17),
                0,
                clock,
            );
            crate::tenancy::create_creditor(&mut tx, &mut c).await?;
        }
        tx.commit().await?;
        creditors = creditors_of(store, account).await?;
    }
    // The sandbox creditor first, so it gets the largest share.
    creditors.sort_by_key(|(id, _)| *id != crate::sandbox::sandbox_creditor_id());
    Ok(Target { account, creditors })
}

async fn creditors_of(
    store: &Store,
    account: ObjectId,
) -> Result<Vec<(ObjectId, String)>, StoreError> {
    let scope = Scope {
        account: Some(account),
        creditors: None,
    };
    let page = store
        .list(
            &CREDITORS,
            &ListQuery {
                scope: &scope,
                filter: &Filter::True,
                sort: &Sort::default(),
                paging: Paging {
                    page: 1,
                    max_results: 100,
                },
                search: &[],
            },
        )
        .await?;
    page.rows
        .iter()
        .map(|r| {
            let c: Creditor =
                serde_json::from_str(&r.doc).map_err(|e| StoreError::Document(e.to_string()))?;
            Ok((c.id, c.name))
        })
        .collect()
}

/// A Swedish organisation number with a valid check digit (group 5: aktiebolag).
pub fn org_number(seed: u64) -> String {
    let body = format!("55{:07}", 6_000_000 + seed % 4_000_000);
    format!("{body}{}", luhn_digit(&body))
}

/// A personnummer (12 digits) with a valid check digit.
fn personnummer(rng: &mut SmallRng) -> String {
    let year = rng.gen_range(1940..2005);
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    let serial = rng.gen_range(1..999);
    let ten = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
    format!("{}{ten}{}", year / 100, luhn_digit(&ten))
}

/// The mod-10 check digit over `digits` (weights 2, 1, 2, … from the left for odd lengths).
pub fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32 * if i % 2 == 0 { 2 } else { 1 };
            if d > 9 {
                d - 9
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

const FIRST: [&str; 12] = [
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sara", "Anders", "Emma", "Per", "Lina",
    "Oskar",
];
const LAST: [&str; 10] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
];
const COMPANIES: [&str; 6] = [
    "ACME Inc.",
    "Byggbolaget i Väst AB",
    "Café Solsidan HB",
    "Nordic Parts AB",
    "Grönt & Gott AB",
    "Tekniklösningar Sverige AB",
];
const DESCRIPTIONS: [&str; 6] = [
    "Services",
    "Consulting fee",
    "Electricity",
    "Broadband subscription",
    "Dental care",
    "Goods delivered",
];

fn open_states(rng: &mut SmallRng) -> CaseState {
    use CaseState::*;
    // Weighted towards where most open cases are.
    const W: [(CaseState, u32); 10] = [
        (Reminder, 22),
        (DebtCollection, 34),
        (Enforcement, 10),
        (DebtSurveillance, 8),
        (Amortization, 9),
        (Dispute, 4),
        (Estate, 2),
        (BankruptcyEstate, 2),
        (Initializing, 6),
        (Invoice, 3),
    ];
    let total: u32 = W.iter().map(|(_, w)| w).sum();
    let mut r = rng.gen_range(0..total);
    for (s, w) in W {
        if r < w {
            return s;
        }
        r -= w;
    }
    DebtCollection
}

fn status_for(state: CaseState) -> CaseStatus {
    match state {
        CaseState::Initializing => CaseStatus::Initializing,
        CaseState::Invoice => CaseStatus::Invoice,
        CaseState::Reminder => CaseStatus::ReminderSent,
        CaseState::DebtCollection => CaseStatus::DebtCollectionActive,
        CaseState::Enforcement => CaseStatus::EnforcementActive,
        CaseState::DebtSurveillance => CaseStatus::DebtSurveillance,
        CaseState::Amortization => CaseStatus::Amortization,
        CaseState::Dispute => CaseStatus::Dispute,
        CaseState::Estate => CaseStatus::Estate,
        CaseState::BankruptcyEstate => CaseStatus::BankruptcyEstate,
    }
}

/// The states a case passes through to reach `last`.
fn path_to(last: CaseState, first_action: CaseState) -> Vec<CaseState> {
    use CaseState::*;
    let mut p = vec![Initializing];
    match last {
        Initializing => return p,
        Invoice => {
            p.push(Invoice);
            return p;
        }
        _ => {}
    }
    if first_action == Reminder {
        p.push(Reminder);
    }
    if last == Reminder {
        if first_action != Reminder {
            p.push(Reminder);
        }
        return p;
    }
    p.push(DebtCollection);
    match last {
        DebtCollection => {}
        Enforcement => p.push(Enforcement),
        DebtSurveillance => p.extend([Enforcement, DebtSurveillance]),
        other => p.push(other),
    }
    p
}

fn money(ore: i64) -> Money {
    Money::from_ore(ore)
}

fn line(
    kind: TransactionType,
    origin: Origin,
    tag: &str,
    amount: Money,
    bank: HttpDate,
    reg: HttpDate,
) -> Transaction {
    Transaction {
        bank_transaction_date: bank,
        registration_date: reg,
        origin,
        kind,
        description_locale_tag: tag.into(),
        amount,
        payment_method: None,
        creditor_payment: None,
    }
}

/// A moment after `from`: up to `max` seconds later, and never past `now` (cases created
/// recently move through their states faster rather than piling up at `now`).
fn step_towards(rng: &mut SmallRng, from: HttpDate, now: HttpDate, max: i64) -> HttpDate {
    let room = (now.unix() - from.unix()).max(1);
    let step = rng.gen_range(1..=max.min(room / 2).max(1));
    from.plus_seconds(step)
}

/// One realistic case. `n` makes invoice and reference numbers unique within a run.
pub fn generate_case(rng: &mut SmallRng, t: &Target, now: HttpDate, n: u64) -> Case {
    const DAY: i64 = 86_400;
    // The first creditor takes 40 %, the rest share 60 %.
    let ci = if t.creditors.len() == 1 || n == 0 || rng.gen_bool(0.4) {
        0
    } else {
        rng.gen_range(1..t.creditors.len())
    };
    let (creditor, creditor_name) = t.creditors[ci].clone();
    let created = now.plus_seconds(-rng.gen_range(DAY..3 * 365 * DAY));
    let id = ObjectId::at(created.unix());
    let invoice_date = created.plus_days(-rng.gen_range(20..90)).start_of_day();
    let due_days = *[10, 14, 20, 30, 31].get(rng.gen_range(0..5)).unwrap_or(&30);
    // 100 to 50 000 kr, most of them whole kronor.
    let ore = rng.gen_range(100_00..50_000_00);
    let capital = money(if rng.gen_bool(0.7) {
        ore / 100 * 100
    } else {
        ore
    });
    let is_company = rng.gen_bool(0.3);
    let (name, id_number) = if is_company {
        (
            COMPANIES[rng.gen_range(0..COMPANIES.len())].to_string(),
            org_number(rng.gen_range(0..4_000_000)),
        )
    } else {
        (
            format!(
                "{} {}",
                FIRST[rng.gen_range(0..FIRST.len())],
                LAST[rng.gen_range(0..LAST.len())]
            ),
            personnummer(rng),
        )
    };
    let invoice_number = format!("INV-{}-{:06}", 2023 + (n % 3), n);
    let first_action = if rng.gen_bool(0.5) {
        CaseState::Reminder
    } else {
        CaseState::DebtCollection
    };
    let closed = rng.gen_bool(0.45);
    let last_state = if closed {
        // closed cases stopped somewhere along the ordinary chain
        [
            CaseState::Reminder,
            CaseState::DebtCollection,
            CaseState::Enforcement,
        ][rng.gen_range(0..3)]
    } else {
        open_states(rng)
    };
    let path = path_to(last_state, first_action);

    let mut case = Case {
        id,
        debt: Debt {
            invoice_date,
            invoice_due_days_after_invoice_date: due_days,
            capital_to_claim: capital,
            debt_description: DESCRIPTIONS[rng.gen_range(0..DESCRIPTIONS.len())].into(),
            invoice_number: invoice_number.clone(),
            debt_reference: None,
            payout_reference: invoice_number.clone(),
            interest_days_after_invoice_date: due_days,
            initial_capital: None,
            fees_included_in_capital_to_claim: None,
        },
        creditor,
        created,
        etag: String::new(),
        updated: created,
        account: t.account,
        agreement_version: ObjectId::from_bytes([
            0x67, 0x90, 0xc2, 0xec, 0x38, 0xeb, 0xf4, 0x81, 0x40, 0x61, 0xf0, 0xb5,
        ]),
        case_registration: ObjectId::at(created.unix()),
        case_settings: CaseSettings {
            interest_rate: InterestRateSettings {
                reference_rate: true,
            },
        },
        creditor_name,
        currency: "SEK".into(),
        customer: ObjectId::at(created.unix()),
        customer_id_number: id_number.clone(),
        customer_name: name.clone(),
        customer_number: rng
            .gen_bool(0.5)
            .then(|| format!("{}", rng.gen_range(10_000..99_999))),
        customer_status: CustomerStatus::Initialized,
        debtor: ObjectId::at(created.unix()),
        debtor_id_number: id_number,
        debtor_name: name,
        latest_state_date: created,
        local_added_capital_amount: Money::ZERO,
        local_added_costs_amount: Money::ZERO,
        local_added_interest_amount: Money::ZERO,
        local_added_transaction_amount: Money::ZERO,
        local_remaining_capital_amount: Money::ZERO,
        local_remaining_costs_amount: Money::ZERO,
        local_remaining_interest_amount: Money::ZERO,
        local_remaining_transaction_amount: Money::ZERO,
        state: CaseState::Initializing,
        state_history: vec![],
        status: CaseStatus::Initializing,
        status_history: vec![],
        total_added_capital_amount: Money::ZERO,
        total_added_costs_amount: Money::ZERO,
        total_added_interest_amount: Money::ZERO,
        total_added_transaction_amount: Money::ZERO,
        total_remaining_capital_amount: Money::ZERO,
        total_remaining_costs_amount: Money::ZERO,
        total_remaining_interest_amount: Money::ZERO,
        total_remaining_transaction_amount: Money::ZERO,
        transactions: vec![line(
            TransactionType::Capital,
            Origin::CreditorSystem,
            "api.transaction.case_registration",
            capital,
            invoice_date,
            created,
        )],
        reference_number: format!("{}", 40_000 + n),
        original_invoice: rng.gen_bool(0.7).then(|| MediaRef {
            id: hex::encode(rng.gen::<[u8; 16]>()),
            filename: "original_invoice.pdf".into(),
            content_type: "application/pdf".into(),
            size: rng.gen_range(8_000..400_000),
        }),
        next_flow_item: None,
        debt_collection: None,
        services: vec![],
        limitation: None,
        event_listeners: EventListeners::default(),
        closed: None,
        next_flow_item_on_close: None,
        flow_state: None,
    };

    // Walk the states forward in time, booking fees and interest as the flow would.
    let mut at = created;
    case.enter_state(CaseState::Initializing, CaseStatus::Initializing, at);
    let mut letter_date = None;
    for state in path.iter().skip(1) {
        at = step_towards(rng, at, now, 40 * DAY);
        if case.status == CaseStatus::Initializing {
            case.set_status(CaseStatus::Initialized, at);
        }
        case.enter_state(*state, status_for(*state), at);
        let (fee, tag) = match state {
            CaseState::Reminder => (Some(60_00), "api.transaction.reminder_fee"),
            CaseState::DebtCollection => (Some(180_00), "api.transaction.debt_collection_fee"),
            CaseState::Enforcement => (Some(300_00), "api.transaction.enforcement_fee"),
            _ => (None, ""),
        };
        if let Some(fee) = fee {
            case.transactions.push(line(
                TransactionType::Costs,
                Origin::SolicitorSystem,
                tag,
                money(fee),
                at,
                at,
            ));
            letter_date = Some(at);
        }
        if *state == CaseState::DebtCollection {
            case.debt_collection = Some(ObjectId::at(at.unix()));
            case.services.push(Service {
                service: "debt_collection".into(),
                service_date: at,
            });
        }
        if *state == CaseState::Enforcement {
            case.services.push(Service {
                service: "enforcement".into(),
                service_date: at,
            });
        }
    }
    // Interest at 10 % a year on the capital, from the due date to the last event.
    let interest_from = invoice_date.plus_days(due_days);
    let days = ((at.unix() - interest_from.unix()) / DAY).max(0);
    let interest = capital.ore() * 10 * days / 36_500;
    if interest > 0 && case.state != CaseState::Initializing {
        case.transactions.push(line(
            TransactionType::Interest,
            Origin::SolicitorSystem,
            "api.transaction.case_flow",
            money(interest),
            at,
            at,
        ));
    }
    if let Some(letter) = letter_date {
        let years = if is_company { 10 } else { 3 };
        case.limitation = Some(Limitation {
            break_date: letter,
            limitation_date: letter.plus_years(years),
            locale_annotation: "api.log_messages.letter_sent_debt_collection".into(),
        });
    }
    let flow_item = |item: &str, when: HttpDate, waiting: &str| FlowItem {
        item: item.into(),
        schedule_to_execute: when,
        flow_config: ObjectId::from_bytes([
            0x66, 0x5e, 0x13, 0x8e, 0x8d, 0xd7, 0xc7, 0xb8, 0x99, 0x6f, 0x2a, 0x7e,
        ]),
        is_failed: false,
        waiting_for: waiting.into(),
        moved_to_next_state: true,
        flow_config_name_locale: "api.flow_config.default".into(),
    };
    case.next_flow_item = Some(match case.state {
        CaseState::Reminder => flow_item(
            "case--reminders__debt_collection",
            at.plus_days(14).start_of_day(),
            "api.wait.waiting_for_reminder_payment",
        ),
        CaseState::Enforcement => flow_item(
            "case--enforcements__status_check",
            at.plus_days(30).start_of_day(),
            "api.wait.waiting_for_enforcement",
        ),
        _ => flow_item(
            "case--debt-collections__debt_statement",
            at.plus_days(16).start_of_day(),
            "api.wait.waiting_for_debt_collection_payment",
        ),
    });

    // Some open cases have had a partial payment; closed cases are settled per their reason.
    let balances = Balances::from_ledger(&case.transactions);
    let pay_at = step_towards(rng, at, now, 20 * DAY);
    if closed {
        let reason = CloseReason::ALL[rng.gen_range(0..CloseReason::ALL.len())];
        let reason = match (reason, case.state) {
            (CloseReason::FullyPaidBeforeReminder, s) if s != CaseState::Reminder => {
                CloseReason::FullyPaid
            }
            (r, _) => r,
        };
        let settle = |case: &mut Case, kind, amount: Money, tag: &str, origin| {
            if amount.is_positive() {
                case.transactions
                    .push(line(kind, origin, tag, -amount, pay_at, pay_at));
            }
        };
        match reason {
            r if r.is_paid() => {
                let tag = if r == CloseReason::CapitalPaidToCreditor {
                    "creditor_payment.payment_settled"
                } else {
                    "api.transaction.payment"
                };
                settle(
                    &mut case,
                    TransactionType::Costs,
                    balances.remaining_costs,
                    tag,
                    Origin::CreditorSystem,
                );
                if r == CloseReason::FullyPaidDepreciation {
                    settle(
                        &mut case,
                        TransactionType::Interest,
                        balances.remaining_interest,
                        "api.transaction.depreciated",
                        Origin::SolicitorSystem,
                    );
                } else {
                    settle(
                        &mut case,
                        TransactionType::Interest,
                        balances.remaining_interest,
                        tag,
                        Origin::CreditorSystem,
                    );
                }
                settle(
                    &mut case,
                    TransactionType::Capital,
                    balances.remaining_capital,
                    tag,
                    Origin::CreditorSystem,
                );
            }
            CloseReason::Credit => {
                settle(
                    &mut case,
                    TransactionType::Capital,
                    balances.remaining_capital,
                    "creditor_crediting.credited",
                    Origin::CreditorSystem,
                );
            }
            _ => {}
        }
        case.close(reason, pay_at);
    } else if rng.gen_bool(0.15) && balances.remaining_capital.ore() > 200_00 {
        let part = money(balances.remaining_capital.ore() / 100 * rng.gen_range(10..60));
        case.transactions.push(line(
            TransactionType::Capital,
            Origin::CreditorSystem,
            "api.transaction.payment",
            -part,
            pay_at,
            pay_at,
        ));
    }
    case.updated = case
        .transactions
        .iter()
        .map(|t| t.registration_date)
        .chain([case.latest_state_date])
        .max()
        .unwrap_or(created)
        .max(
            case.status_history
                .last()
                .map(|s| s.status_date)
                .unwrap_or(created),
        );
    case.recompute_balances();
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            account: crate::sandbox::sandbox_account_id(),
            creditors: vec![
                (
                    crate::sandbox::sandbox_creditor_id(),
                    "Amili Integration Team".into(),
                ),
                (ObjectId::at(1), "Other AB".into()),
            ],
        }
    }

    #[test]
    fn luhn_digits_match_the_domain_examples() {
        assert_eq!(luhn_digit("556026998"), 6); // 5560269986
        assert_eq!(luhn_digit("250101238"), 5); // 202501012385
        assert_eq!(luhn_digit("12345"), 5);
    }

    #[test]
    fn generated_cases_are_consistent() {
        let mut rng = SmallRng::seed_from_u64(7);
        let now = HttpDate::from_ymd_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut states = std::collections::HashSet::new();
        let mut reasons = std::collections::HashSet::new();
        for n in 0..5_000 {
            let c = generate_case(&mut rng, &target(), now, n);
            // balances come from the ledger
            let mut again = c.clone();
            again.recompute_balances();
            assert_eq!(again, c);
            assert_eq!(
                c.local_added_transaction_amount,
                c.local_added_capital_amount
                    + c.local_added_interest_amount
                    + c.local_added_costs_amount
            );
            // histories move forward and end in the current state
            assert!(c
                .state_history
                .windows(2)
                .all(|w| w[0].state_date <= w[1].state_date));
            assert_eq!(c.state_history.last().map(|s| s.state), Some(c.state));
            assert!(c.updated >= c.created && c.updated <= now);
            match &c.closed {
                Some(cl) => {
                    assert_eq!(c.status, CaseStatus::Closed);
                    assert!(c.next_flow_item.is_none() && c.next_flow_item_on_close.is_some());
                    if cl.reason.is_paid() {
                        assert_eq!(
                            c.total_remaining_transaction_amount,
                            Money::ZERO,
                            "{:?}",
                            cl.reason
                        );
                    }
                    reasons.insert(cl.reason);
                }
                None => assert!(c.next_flow_item.is_some()),
            }
            states.insert(c.state);
        }
        assert_eq!(
            reasons.len(),
            CloseReason::ALL.len(),
            "every close reason occurs"
        );
        assert_eq!(states.len(), CaseState::ALL.len(), "every state occurs");
    }
}
