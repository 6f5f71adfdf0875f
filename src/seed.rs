//! `indriva seed`: demo and benchmark data that the engine itself produced. Each case is
//! registered exactly as `POST /case--registrations` registers one (a registration, its
//! customer, the case and its OCR reference) at a moment in the past, and then lived
//! forward with [`Case::apply`] under its creditor's rules up to the account's current time:
//! flow items at their scheduled times, payments, creditings, cancellations, disputes,
//! payment plans and closings at random moments on the way. Open cases therefore wait for
//! their next item on the account's clock, due over the coming days and weeks, exactly as
//! cases the server had been running all along. Every state of seed 003 (but `invoice`,
//! which needs invoice registrations) and every close reason occurs.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::cases::{EffectWrites, Engine, Prepared, RuleBook};
use crate::clocks::Clocks;
use crate::domain::apply::{Command, Ctx, Hold};
use crate::domain::case::*;
use crate::domain::flow::FlowConfig;
use crate::domain::ocr;
use crate::domain::party::{Address, Creditor, Customer};
use crate::domain::policy::CreditorPolicy;
use crate::domain::registration::{
    open_case, CaseContext, CaseRegistration, FirstAction, OcrNumber, RegisteredCustomer,
    RegisteredDebt,
};
use crate::domain::{Clock, HttpDate, Money, ObjectId};
use crate::resources::{ACCOUNTS, CASE_REGISTRATIONS, CREDITORS, CUSTOMERS, OCR_NUMBERS};
use crate::scope::Scope;
use crate::store::{prepare_document, Store, StoreError, StoredDoc};

pub struct SeedReport {
    pub cases: u64,
    pub account: ObjectId,
    pub creditors: usize,
    pub seconds: f64,
}

/// A creditor cases are registered for, with the rules its cases live under.
#[derive(Clone)]
pub struct SeedCreditor {
    pub creditor: Creditor,
    pub policy: Arc<CreditorPolicy>,
    pub flow: Arc<FlowConfig>,
}

/// The account and creditors cases are spread over (the first creditor gets 40 %), and the
/// numbers reserved for them.
#[derive(Clone)]
pub struct Target {
    pub account: ObjectId,
    pub creditors: Vec<SeedCreditor>,
    pub case_settings: CaseSettings,
    /// The account's current time: every case is lived up to it.
    pub now: HttpDate,
    /// Cases the account had before this run (numbers continue from there).
    pub offset: u64,
    pub first_reference: i64,
    pub first_ocr_sequence: i64,
}

/// What one seeded case writes: the registration, customer, case and OCR reference, and
/// what its life wrote (letters, payout-specification lines, events), exactly as the worker
/// and the actions write them.
pub struct Seeded {
    pub registration: CaseRegistration,
    pub customer: Customer,
    pub case: Case,
    pub ocr: OcrNumber,
    pub writes: EffectWrites,
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
    let engine = Engine::default();
    let target = prepare_target(store, clock, account, data_dir, n).await?;
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
    const BATCH: u64 = 2_000;
    type Batch = ([Vec<StoredDoc>; 3], Vec<Prepared>);
    let (tx, rx) = mpsc::sync_channel::<Result<Batch, StoreError>>(4);
    // Generation (the engine, JSON, hashing) runs on its own thread while this task writes.
    let gen_target = target.clone();
    let gen_engine = engine.clone();
    let generator = std::thread::spawn(move || {
        let mut rng = SmallRng::from_entropy();
        let mut done = 0u64;
        while done < n {
            let size = BATCH.min(n - done);
            let batch = (0..size)
                .map(|i| {
                    let s = generate(&mut rng, &gen_target, &gen_engine, done + i);
                    let docs = [
                        prepare_document(&CASE_REGISTRATIONS, &s.registration)?,
                        prepare_document(&CUSTOMERS, &s.customer)?,
                        prepare_document(&OCR_NUMBERS, &s.ocr)?,
                    ];
                    let mut case =
                        crate::cases::opened(s.case, s.writes, gen_target.now, &gen_engine)?;
                    case.case = None;
                    Ok((docs, case))
                })
                .try_fold(
                    ([vec![], vec![], vec![]], vec![]),
                    |mut acc: Batch, one: Result<([StoredDoc; 3], Prepared), StoreError>| {
                        let (docs, case) = one?;
                        for (slot, doc) in acc.0.iter_mut().zip(docs) {
                            slot.push(doc);
                        }
                        acc.1.push(case);
                        Ok(acc)
                    },
                );
            if tx.send(batch).is_err() {
                return;
            }
            done += size;
        }
    });
    let mut written = 0u64;
    while let Ok(batch) = rx.recv() {
        let ([registrations, customers, ocrs], cases) = batch?;
        let count = cases.len() as u64;
        let mut t = store.begin().await?;
        t.insert(&CASE_REGISTRATIONS, registrations).await?;
        t.insert(&CUSTOMERS, customers).await?;
        t.insert(&OCR_NUMBERS, ocrs).await?;
        crate::cases::write_all(&mut t, cases, target.now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        t.commit().await?;
        written += count;
        bar.set_position(written);
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("case generator panicked"))?;
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
    n: u64,
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
    let scope = Scope {
        account: Some(account),
        creditors: None,
    };
    let mut creditors = creditors_of(store, &scope).await?;
    let wanted = if account == crate::sandbox::sandbox_account_id() {
        5
    } else {
        1
    };
    let now = Clocks::new(Arc::new(SameClock(clock.now())))
        .now(store, &account)
        .await?;
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
            let id = ObjectId::at(now.unix());
            let mut c = crate::sandbox::creditor(
                id,
                account,
                names[i % names.len()],
                &org_number(i as u64 + 17),
                0,
                &SameClock(now),
            );
            crate::tenancy::create_creditor(&mut tx, &mut c).await?;
        }
        tx.commit().await?;
        creditors = creditors_of(store, &scope).await?;
    }
    // The sandbox creditor first, so it gets the largest share.
    creditors.sort_by_key(|c| c.id != crate::sandbox::sandbox_creditor_id());
    let acc: crate::domain::party::Account = serde_json::from_str(
        &store
            .get(&ACCOUNTS, &Scope::unrestricted(), &account)
            .await?
            .ok_or_else(|| anyhow::anyhow!("account {account} vanished"))?
            .doc,
    )?;
    let offset = store.count_cases(&account).await?.max(0) as u64;
    let mut tx = store.begin().await?;
    let mut book = RuleBook::new();
    let mut seeded = Vec::with_capacity(creditors.len());
    for creditor in creditors {
        let (policy, flow) = book.rules(&mut tx, &creditor.id).await?;
        seeded.push(SeedCreditor {
            creditor,
            policy,
            flow,
        });
    }
    let count = n.max(1) as i64;
    let first_reference = tx
        .reserve_numbers("case_reference_number", 100_000, count)
        .await?;
    let first_ocr_sequence = tx.reserve_numbers("ocr_sequence", 1, count).await?;
    tx.commit().await?;
    Ok(Target {
        account,
        creditors: seeded,
        case_settings: acc.case_settings,
        now,
        offset,
        first_reference,
        first_ocr_sequence,
    })
}

/// A clock standing at one instant.
struct SameClock(HttpDate);

impl Clock for SameClock {
    fn now(&self) -> HttpDate {
        self.0
    }
}

async fn creditors_of(store: &Store, scope: &Scope) -> Result<Vec<Creditor>, StoreError> {
    store
        .find(&CREDITORS, scope, &crate::eve::Filter::True, 100)
        .await?
        .iter()
        .map(|r| serde_json::from_str(&r.doc).map_err(|e| StoreError::Document(e.to_string())))
        .collect()
}

/// A Swedish organisation number with a valid check digit (group 5: aktiebolag; the third
/// digit 2 or more), unique for `seed` below eight million.
pub fn org_number(seed: u64) -> String {
    let body = format!("55{:07}", 2_000_000 + seed % 8_000_000);
    format!("{body}{}", ocr::luhn_digit(&body))
}

/// A personnummer (12 digits) with a valid check digit, unique for `seed` below 21 million.
fn personnummer(seed: u64) -> String {
    let per_year = 12 * 28 * 999;
    let year = 1940 + (seed / per_year) % 65;
    let rest = seed % per_year;
    let month = rest / (28 * 999) + 1;
    let day = (rest / 999) % 28 + 1;
    let serial = rest % 999 + 1;
    let ten = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
    format!("{}{ten}{}", year / 100, ocr::luhn_digit(&ten))
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
const STREETS: [&str; 6] = [
    "Storgatan",
    "Drottninggatan",
    "Kungsgatan",
    "Vasagatan",
    "Sveavägen",
    "Järnvägsgatan",
];
const CITIES: [(&str, &str); 6] = [
    ("11122", "Stockholm"),
    ("41103", "Göteborg"),
    ("21120", "Malmö"),
    ("75310", "Uppsala"),
    ("58223", "Linköping"),
    ("90326", "Umeå"),
];

/// What happens to a case in its life besides the flow.
#[derive(Clone, Copy, Debug)]
enum Fate {
    /// Nothing: the flow runs its course.
    Flow,
    PartPaid,
    Closed(CloseReason),
    Held(Hold),
    PaymentPlan,
}

fn fate(rng: &mut SmallRng, recent: bool) -> Fate {
    if recent {
        return Fate::Flow;
    }
    if rng.gen_bool(0.45) {
        return Fate::Closed(CloseReason::ALL[rng.gen_range(0..CloseReason::ALL.len())]);
    }
    match rng.gen_range(0..100) {
        0..=14 => Fate::PartPaid,
        15..=20 => Fate::Held(Hold::Dispute),
        21..=23 => Fate::Held(Hold::Estate),
        24..=26 => Fate::Held(Hold::BankruptcyEstate),
        27..=38 => Fate::PaymentPlan,
        _ => Fate::Flow,
    }
}

/// One case, lived from its registration to the target's time. `n` makes numbers unique.
pub fn generate(rng: &mut SmallRng, t: &Target, engine: &Engine, n: u64) -> Seeded {
    const DAY: i64 = 86_400;
    let now = t.now;
    let serial = t.offset + n;
    // Identity numbers start at a place of the account's own, so two accounts' debtors
    // differ (unless they are millions apart).
    let person = t
        .account
        .to_hex()
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 20_000_000
        + serial;
    // The first creditor takes 40 %, the rest share 60 %.
    let ci = if t.creditors.len() == 1 || n == 0 || rng.gen_bool(0.4) {
        0
    } else {
        rng.gen_range(1..t.creditors.len())
    };
    let sc = &t.creditors[ci];
    // Most cases are recent; some are years old. 1 % were registered in the last minutes
    // and are still being initialised.
    let recent = rng.gen_bool(0.01);
    let age = if recent {
        rng.gen_range(1..240)
    } else {
        let days = (-(1.0 - rng.gen::<f64>()).ln() * 150.0).min(3.0 * 365.0);
        (days * DAY as f64) as i64 + rng.gen_range(0..DAY)
    };
    let created = now.plus_seconds(-age.max(1));
    let fate = fate(rng, recent);
    // Debts registered before they fall due (paid to the creditor before any interest)
    // exist too; most are weeks overdue.
    let not_yet_due = matches!(fate, Fate::Closed(CloseReason::CapitalPaidToCreditor));
    let due_days = *[10, 14, 20, 30, 31].get(rng.gen_range(0..5)).unwrap_or(&30);
    let invoice_date = if not_yet_due {
        created.plus_days(-2).start_of_day()
    } else {
        created
            .plus_days(-rng.gen_range(due_days + 5..due_days + 60))
            .start_of_day()
    };
    // 100 to 50 000 kr, most of them whole kronor.
    let ore = rng.gen_range(100_00..50_000_00);
    let capital = Money::from_ore(if rng.gen_bool(0.7) {
        ore / 100 * 100
    } else {
        ore
    });
    let is_company = rng.gen_bool(0.3);
    let (name, id_number) = if is_company {
        (
            COMPANIES[rng.gen_range(0..COMPANIES.len())].to_string(),
            org_number(person),
        )
    } else {
        (
            format!(
                "{} {}",
                FIRST[rng.gen_range(0..FIRST.len())],
                LAST[rng.gen_range(0..LAST.len())]
            ),
            personnummer(person),
        )
    };
    let (zip, city) = CITIES[rng.gen_range(0..CITIES.len())];
    let address = Address {
        address_line_1: format!(
            "{} {}",
            STREETS[rng.gen_range(0..STREETS.len())],
            rng.gen_range(1..120)
        ),
        zip_code: zip.into(),
        city: city.into(),
        country: "SE".into(),
    };
    let first_action = match fate {
        Fate::Closed(CloseReason::FullyPaidBeforeReminder) => FirstAction::Reminder,
        _ if rng.gen_bool(0.5) => FirstAction::Reminder,
        _ => FirstAction::DebtCollection,
    };
    let customer_number = rng
        .gen_bool(0.5)
        .then(|| format!("{}", rng.gen_range(10_000..99_999)));
    let invoice_number = format!("INV-{}-{:07}", 2023 + (serial % 3), serial);
    let reg = CaseRegistration {
        id: ObjectId::at(created.unix()),
        account: t.account,
        creditor: sc.creditor.id,
        first_action,
        currency: "SEK".into(),
        customer: RegisteredCustomer {
            name: name.clone(),
            id_number: id_number.clone(),
            is_company: Some(is_company),
            address: address.clone(),
            mobile_number: None,
            email: None,
            customer_number: customer_number.clone(),
        },
        debts: vec![RegisteredDebt {
            invoice_number,
            debt_description: DESCRIPTIONS[rng.gen_range(0..DESCRIPTIONS.len())].into(),
            invoice_date,
            capital_to_claim: capital,
            invoice_due_days_after_invoice_date: due_days,
            fees_included_in_capital_to_claim: None,
            fees_already_claimed: None,
            limitation_interrupted_date: None,
            due_date_agreed: None,
        }],
        cases: vec![],
        ocr_numbers: vec![],
        ocr_numbers_ocr: vec![],
        created,
        updated: created,
        etag: String::new(),
    };
    let customer = Customer {
        id: ObjectId::at(created.unix()),
        account: t.account,
        name,
        id_number,
        is_person: !is_company,
        customer_number,
        address,
        mobile_number: None,
        email: None,
        is_active: true,
        created,
        updated: created,
        etag: String::new(),
    };
    let mut case = open_case(
        &reg,
        0,
        &CaseContext {
            id: ObjectId::at(created.unix()),
            customer: customer.id,
            creditor: &sc.creditor,
            case_settings: t.case_settings.clone(),
            reference_number: (t.first_reference + n as i64).to_string(),
            flow: &sc.flow,
            now: created,
        },
    );
    let writes = live(rng, &mut case, sc, engine, fate, now);
    let ocr = OcrNumber {
        id: ObjectId::at(created.unix()),
        account: t.account,
        creditor: sc.creditor.id,
        case: case.id,
        ocr: ocr::reference(created, (t.first_ocr_sequence + n as i64).unsigned_abs()),
        created,
        updated: created,
        etag: String::new(),
    };
    let mut reg = reg;
    reg.cases.push(case.id);
    reg.ocr_numbers.push(ocr.id);
    reg.ocr_numbers_ocr.push(ocr.ocr.clone());
    Seeded {
        registration: reg,
        customer,
        case,
        ocr,
        writes,
    }
}

/// Lives the case forward to `now`: the flow up to each event of its fate, the event, and
/// the flow again. Returns what its life wrote besides the case: every effect of every
/// command, as the worker and the actions would have written it at the time.
fn live(
    rng: &mut SmallRng,
    case: &mut Case,
    sc: &SeedCreditor,
    engine: &Engine,
    fate: Fate,
    now: HttpDate,
) -> EffectWrites {
    let ctx = |at: HttpDate| Ctx {
        now: at,
        rates: &engine.rates,
        policy: &sc.policy,
        flow: &sc.flow,
    };
    let mut writes = EffectWrites::backfill();
    // A command the case refuses (a payment on a case the flow closed meanwhile) changes
    // nothing and writes nothing, as it would through the API.
    // The letters of a seeded past were sent at the time: each records its limitation break
    // at once (`Command::LetterSent`), though its PDF is typeset later in the background.
    let mut run = |case: &mut Case, cmd: Command, at: HttpDate| {
        if let Ok(applied) = case.apply(cmd, &ctx(at)) {
            if let Err(e) = writes.add(case, &applied.effects, at) {
                tracing::error!(error = %e, "a seeded case's effects could not be written");
            }
            for sent in crate::domain::effects::letters_sent(&applied.effects) {
                if let Ok(applied) = case.apply(sent, &ctx(at)) {
                    if let Err(e) = writes.add(case, &applied.effects, at) {
                        tracing::error!(error = %e, "a seeded case's effects could not be written");
                    }
                }
            }
        }
    };
    let until =
        |run: &mut dyn FnMut(&mut Case, Command, HttpDate), case: &mut Case, at: HttpDate| {
            run(
                case,
                Command::RunDue {
                    until: at,
                    simulate: true,
                },
                at,
            );
        };
    let created = case.created;
    let span = (now.unix() - created.unix()).max(2);
    let between = |rng: &mut SmallRng, from: i64, to: i64| -> HttpDate {
        HttpDate::from_unix(rng.gen_range(from..to.max(from + 1))).unwrap_or(now)
    };
    let mut events: Vec<(HttpDate, Command)> = Vec::new();
    match fate {
        Fate::Flow => {}
        Fate::PartPaid => {
            let at = between(rng, created.unix() + span / 3, now.unix());
            let share = rng.gen_range(10..60);
            events.push((
                at,
                Command::DebtorPayment {
                    amount: Money::from_ore(case.debt.capital_to_claim.ore() / 100 * share),
                    paid: at,
                },
            ));
        }
        Fate::Held(h) => {
            let at = between(rng, created.unix() + span / 4, now.unix());
            events.push((at, Command::Hold(h)));
        }
        Fate::PaymentPlan => {
            // Agreed within the last four months, every instalment paid on time since.
            let start = between(
                rng,
                created.unix().max(now.unix() - 120 * 86_400),
                now.unix(),
            );
            let monthly =
                Money::from_ore((case.debt.capital_to_claim.ore() / 1200 * 100).max(100_00));
            let first_due = start.plus_days(20).start_of_day();
            events.push((
                start,
                Command::PaymentPlan {
                    monthly_amount: monthly,
                    first_due,
                },
            ));
            let mut due = first_due;
            while due.plus_days(-2) < now {
                let paid = due.plus_days(-2);
                events.push((
                    paid,
                    Command::DebtorPayment {
                        amount: monthly,
                        paid,
                    },
                ));
                due = due.plus_months(1);
            }
        }
        Fate::Closed(reason) => {
            let at = match reason {
                // before the first action (initialisation runs five minutes in)
                CloseReason::FullyPaidBeforeReminder => {
                    created.plus_seconds(rng.gen_range(30..240))
                }
                CloseReason::FullyPaidBeforeDebtCollection => {
                    created.plus_seconds(rng.gen_range(30..240))
                }
                CloseReason::CapitalPaidToCreditor => {
                    created.plus_seconds(rng.gen_range(60..86_400))
                }
                _ => between(rng, created.unix() + span / 5, now.unix()),
            };
            let at = at.min(now);
            match reason {
                CloseReason::FullyPaid
                | CloseReason::FullyPaidBeforeReminder
                | CloseReason::FullyPaidBeforeDebtCollection => {
                    // paid in full: the amount is settled when the event is applied
                    events.push((
                        at,
                        Command::DebtorPayment {
                            amount: Money::ZERO,
                            paid: at,
                        },
                    ));
                }
                CloseReason::FullyPaidDepreciation | CloseReason::CapitalPaidToCreditor => {
                    events.push((
                        at,
                        Command::CreditorPayment {
                            id: ObjectId::at(at.unix()),
                            amount: case.debt.capital_to_claim,
                            paid: at,
                        },
                    ));
                }
                CloseReason::Credit => events.push((
                    at,
                    Command::Crediting {
                        amount: case.debt.capital_to_claim,
                        date: at,
                    },
                )),
                CloseReason::Cancellation => events.push((at, Command::Cancel)),
                CloseReason::Dispute => {
                    events.push((at, Command::Hold(Hold::Dispute)));
                    events.push((between(rng, at.unix(), now.unix()), Command::Close(reason)));
                }
                CloseReason::Bankruptcy => {
                    events.push((at, Command::Hold(Hold::BankruptcyEstate)));
                    events.push((between(rng, at.unix(), now.unix()), Command::Close(reason)));
                }
                CloseReason::Deceased => {
                    events.push((at, Command::Hold(Hold::Estate)));
                    events.push((between(rng, at.unix(), now.unix()), Command::Close(reason)));
                }
                other => events.push((at, Command::Close(other))),
            }
        }
    }
    for (at, cmd) in events {
        if case.closed.is_some() {
            break;
        }
        until(&mut run, case, at);
        let cmd = match cmd {
            // Pay what is owed that day.
            Command::DebtorPayment { amount, paid } if amount == Money::ZERO => {
                let mut probe = case.clone();
                let _ = probe.apply(
                    Command::RunDue {
                        until: at,
                        simulate: true,
                    },
                    &ctx(at),
                );
                Command::DebtorPayment {
                    amount: probe.total_remaining_transaction_amount,
                    paid,
                }
            }
            other => other,
        };
        run(case, cmd, at);
    }
    until(&mut run, case, now);
    writes
}

/// Every state and close reason, for tests: how many cases it takes to see them all.
pub fn kinds_seen(cases: &[Case]) -> (HashMap<CaseState, usize>, HashMap<CloseReason, usize>) {
    let mut states = HashMap::new();
    let mut reasons = HashMap::new();
    for c in cases {
        *states.entry(c.state).or_insert(0) += 1;
        if let Some(cl) = &c.closed {
            *reasons.entry(cl.reason).or_insert(0) += 1;
        }
    }
    (states, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(now: HttpDate) -> Target {
        let creditor = crate::sandbox::creditor(
            crate::sandbox::sandbox_creditor_id(),
            crate::sandbox::sandbox_account_id(),
            "Amili Integration Team",
            "1122334455",
            2_000_037,
            &SameClock(now),
        );
        let other = crate::sandbox::creditor(
            ObjectId::at(1),
            crate::sandbox::sandbox_account_id(),
            "Other AB",
            "5560269986",
            2_001_000,
            &SameClock(now),
        );
        let rules = |c: Creditor, p: CreditorPolicy| SeedCreditor {
            creditor: c,
            policy: Arc::new(p),
            flow: Arc::new(FlowConfig::default_swedish().clone()),
        };
        Target {
            account: crate::sandbox::sandbox_account_id(),
            creditors: vec![
                rules(creditor, CreditorPolicy::sandbox()),
                rules(
                    other,
                    CreditorPolicy {
                        in_sandbox: true,
                        ..CreditorPolicy::default()
                    },
                ),
            ],
            case_settings: CaseSettings {
                interest_rate: InterestRateSettings {
                    reference_rate: true,
                },
            },
            now,
            offset: 0,
            first_reference: 100_000,
            first_ocr_sequence: 1,
        }
    }

    #[test]
    fn identity_numbers_are_valid_and_unique() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let mut seen = std::collections::HashSet::new();
        for n in (0..2_000_000).step_by(997) {
            for number in [personnummer(n), org_number(n)] {
                assert!(
                    crate::domain::identity::parse_id_number(&number, today).is_ok(),
                    "{number}"
                );
                assert!(seen.insert(number));
            }
        }
    }

    #[test]
    fn seeded_cases_are_what_the_engine_produces() {
        let mut rng = SmallRng::seed_from_u64(7);
        let now = HttpDate::from_ymd_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let t = target(now);
        let engine = Engine::default();
        let seeded: Vec<Seeded> = (0..3_000)
            .map(|n| generate(&mut rng, &t, &engine, n))
            .collect();
        let cases: Vec<Case> = seeded.iter().map(|s| s.case.clone()).collect();
        let mut due_within_a_month = 0;
        for (s, c) in seeded.iter().zip(&cases) {
            // balances come from the ledger
            let mut again = c.clone();
            again.recompute_balances();
            assert_eq!(&again, c);
            // histories move forward and end in the current state
            assert!(c
                .state_history
                .windows(2)
                .all(|w| w[0].state_date <= w[1].state_date));
            assert!(c
                .status_history
                .windows(2)
                .all(|w| w[0].status_date <= w[1].status_date));
            assert_eq!(c.state_history.last().map(|s| s.state), Some(c.state));
            assert!(c.updated >= c.created && c.updated <= now, "{c:?}");
            // the registration, the customer and the OCR reference belong to the case
            assert_eq!(s.registration.cases, vec![c.id]);
            assert_eq!(s.ocr.case, c.id);
            assert!(ocr::is_valid(&s.ocr.ocr));
            assert_eq!(c.customer, s.customer.id);
            // running the engine again at `now` changes nothing: the case is up to date
            let mut rerun = c.clone();
            let policy = if c.creditor == crate::sandbox::sandbox_creditor_id() {
                CreditorPolicy::sandbox()
            } else {
                CreditorPolicy {
                    in_sandbox: true,
                    ..CreditorPolicy::default()
                }
            };
            let ctx = Ctx {
                now,
                rates: &engine.rates,
                policy: &policy,
                flow: FlowConfig::default_swedish(),
            };
            let a = rerun
                .apply(
                    Command::RunDue {
                        until: now,
                        simulate: true,
                    },
                    &ctx,
                )
                .unwrap();
            assert!(!a.changed, "{c:#?}");
            match &c.closed {
                Some(cl) => {
                    assert_eq!(c.status, CaseStatus::Closed);
                    assert!(c.next_flow_item.is_none());
                    if cl.reason.is_paid() {
                        assert_eq!(
                            c.total_remaining_transaction_amount,
                            Money::ZERO,
                            "{:?}",
                            cl.reason
                        );
                    }
                    assert_eq!(c.due_at(now, &engine.rates), None);
                }
                None => {
                    let due = c.due_at(now, &engine.rates);
                    assert!(
                        due.is_some_and(|d| d > now) || c.next_flow_item.is_none(),
                        "{c:#?}"
                    );
                    if due.is_some_and(|d| d <= now.plus_days(30)) {
                        due_within_a_month += 1;
                    }
                }
            }
        }
        let (states, reasons) = kinds_seen(&cases);
        for s in CaseState::ALL {
            if s != CaseState::Invoice {
                assert!(states.contains_key(&s), "no case in {s:?}: {states:?}");
            }
        }
        assert_eq!(reasons.len(), CloseReason::ALL.len(), "{reasons:?}");
        assert!(due_within_a_month > 1_000, "{due_within_a_month}");
    }
}
