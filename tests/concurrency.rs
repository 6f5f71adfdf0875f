//! Money under concurrency (issue 23, the audit): payments, creditings, bank files, manual
//! matches, cancellations, the flow (clock moves) and the letter renderer all race on the same
//! cases. Afterwards every case's ledger must equal its totals, no remainder may be negative,
//! and the payout lines of each case must be exactly the capital and interest the debtor paid
//! the agency. Nothing may answer 5xx. On SQLite, and on PostgreSQL in CI.

use crate::common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use common::seed002::{ok, seed_002, set_clock, CREATED, LOOKED_AT};
use common::{Api, Resp};
use indriva::domain::bgmax::{GeneratedPayment, Generator};
use indriva::domain::{HttpDate, Money};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const CASES: usize = 60;
const ACCOUNT: &str = "674dbeaf08847b9501cc9132";
const CREDITOR: &str = "674dbeb208847b9501cc9138";

/// Every answer: 5xx is a failure, anything else (a refusal of a closed case, a busy case) is
/// what a client may meet.
#[derive(Default)]
struct Tally {
    accepted: AtomicU64,
    refused: AtomicU64,
}

impl Tally {
    fn count(&self, what: &str, r: &Resp) {
        assert!(
            r.status.as_u16() < 500,
            "{what} → {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        if r.status.is_success() {
            self.accepted.fetch_add(1, Ordering::Relaxed);
        } else {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn kr(v: &Value) -> Money {
    Money::from_kronor_f64(v.as_f64().unwrap_or(0.0)).expect("an amount in öre")
}

async fn clock_now(api: &Api) -> HttpDate {
    let c = ok(&api.get("/sandbox/clock").await, StatusCode::OK);
    HttpDate::parse_lenient(c["now"].as_str().unwrap()).unwrap()
}

/// A day between registration and the account's time (a backdated payment, often).
fn some_day(rng: &mut StdRng, now: HttpDate) -> HttpDate {
    let first = HttpDate::parse_lenient(CREATED).unwrap().date();
    let days = (now.date() - first).num_days().max(0);
    HttpDate::midnight(first + chrono::Duration::days(rng.gen_range(0..=days)))
        .plus_seconds(9 * 3600)
        .min(now)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_stays_consistent_while_payments_race_the_flow() {
    let api = Arc::new(Api::new().await);
    let operator = api
        .token_for(indriva::domain::bank::AGENCY_ACCOUNT, None)
        .await;
    set_clock(&api, CREATED).await;
    let mut cases = Vec::new();
    for i in 0..CASES {
        let mut body = seed_002();
        body["debts"][0]["invoice_number"] = json!(format!("INV-RACE-{i}"));
        body["debts"][0]["capital_to_claim"] = json!(500.0 + 97.0 * i as f64);
        let r = ok(
            &api.post("/case--registrations", &body).await,
            StatusCode::CREATED,
        );
        cases.push((
            r["_cases"][0].as_str().unwrap().to_string(),
            r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string(),
        ));
    }
    set_clock(&api, LOOKED_AT).await;
    let cases = Arc::new(cases);
    let tally = Arc::new(Tally::default());
    let mut tasks = Vec::new();

    // Payments reported by the creditor, often backdated.
    for seed in 0..2u64 {
        let (api, cases, tally) = (api.clone(), cases.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            for n in 0..40 {
                let (case, _) = &cases[rng.gen_range(0..cases.len())];
                let day = some_day(&mut rng, clock_now(&api).await);
                // Now and then all that is owed, often dated before payments already booked:
                // interest paid must then be moved, never made negative.
                let amount = if rng.gen_bool(0.3) {
                    let c = api.get(&format!("/cases/{case}")).await.json();
                    c["total_remaining_transaction_amount"]
                        .as_f64()
                        .unwrap_or(0.0)
                        .max(1.0)
                } else {
                    rng.gen_range(1..400) as f64
                };
                let r = api
                    .post(
                        "/creditor--payments",
                        &json!({"account": ACCOUNT, "creditor": CREDITOR, "case": case,
                                "currency": "SEK", "amount": amount,
                                "bank_transaction_date": day.to_string(),
                                "creditor_payment_reference": format!("P-{seed}-{n}"),
                                "origin": "creditor_system"}),
                    )
                    .await;
                tally.count("payment", &r);
            }
        }));
    }
    // Credit notes.
    {
        let (api, cases, tally) = (api.clone(), cases.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(10);
            for n in 0..20 {
                let (case, _) = &cases[rng.gen_range(0..cases.len())];
                let day = some_day(&mut rng, clock_now(&api).await);
                let r = api
                    .post(
                        "/creditor--creditings",
                        &json!({"account": ACCOUNT, "creditor": CREDITOR, "case": case,
                                "currency": "SEK", "amount": rng.gen_range(1..300) as f64,
                                "client_registration_date": day.to_string(),
                                "credit_invoice": format!("CR-{n}"),
                                "origin": "creditor_system"}),
                    )
                    .await;
                tally.count("crediting", &r);
            }
        }));
    }
    // Bank files: OCR payments (some more than is owed, some to nothing), one file a day.
    {
        let (api, cases, tally, operator) =
            (api.clone(), cases.clone(), tally.clone(), operator.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(20);
            let first = HttpDate::parse_lenient(CREATED).unwrap().date();
            // Twelve days' deposits, the latest first (each day once: a day's deposit again
            // would be a duplicate), once the account's time is past them all: a case paid in
            // part on a late day and then in full on an early one has its interest recounted
            // below what was paid (the probe's 19 negative cases of 300).
            let days: Vec<i64> = (0..12).rev().collect();
            while clock_now(&api).await.date() <= first + chrono::Duration::days(12) {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            for day in days {
                let date = first + chrono::Duration::days(day);
                let payments = (0..10)
                    .map(|k| {
                        let (_, ocr) = &cases[rng.gen_range(0..cases.len() / 2)];
                        GeneratedPayment {
                            reference: if k == 9 {
                                "NO SUCH OCR".into()
                            } else {
                                ocr.clone()
                            },
                            ocr: k != 9,
                            amount: Money::from_ore(rng.gen_range(100..250_000)),
                            payer_name: None,
                            parts: vec![],
                        }
                    })
                    .collect();
                let text = Generator {
                    payee_bankgiro: "9912346".into(),
                    payment_date: date,
                    written: format!(
                        "{}063012{:06}",
                        (date + chrono::Duration::days(1)).format("%Y%m%d"),
                        day
                    ),
                    payments,
                    deductions: vec![],
                }
                .render();
                let r =
                    crate::bank_files::upload(&api, &operator, "race.txt", text.as_bytes()).await;
                tally.count("bank file", &r);
            }
        }));
    }
    // Manual matches of what the files could not place.
    {
        let (api, cases, tally, operator) =
            (api.clone(), cases.clone(), tally.clone(), operator.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(30);
            for _ in 0..60 {
                let open = api
                    .get_as(
                        Some(&operator),
                        "/payments--unmatched?where=%7B%22status%22%3A%22unmatched%22%7D",
                    )
                    .await
                    .json();
                if let Some(p) = open["_items"].as_array().and_then(|a| a.first()) {
                    let (case, _) = &cases[rng.gen_range(0..cases.len())];
                    let r = api
                        .write_as(
                            &operator,
                            "POST",
                            &format!("/payments--unmatched/{}/match", p["_id"].as_str().unwrap()),
                            &json!({"case": case}),
                            None,
                        )
                        .await;
                    tally.count("match", &r);
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }));
    }
    // Cancellations of a few cases.
    {
        let (api, cases, tally) = (api.clone(), cases.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            for i in [3, 17, 41] {
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                let r = api
                    .post(
                        "/creditor--cancellations",
                        &json!({"creditor": CREDITOR, "case": cases[i].0,
                                "origin": "creditor_system"}),
                    )
                    .await;
                tally.count("cancellation", &r);
            }
        }));
    }
    // The flow: the account's clock moves two days at a time for a month.
    {
        let (api, tally) = (api.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..15 {
                let to = clock_now(&api).await.plus_days(2);
                let r = api
                    .post("/sandbox/clock", &json!({"now": to.to_string()}))
                    .await;
                tally.count("clock", &r);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }));
    }
    // The letter renderer, which records each letter's limitation break on its case.
    {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                api.render_letters().await;
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("a racing client panicked");
    }
    api.render_letters().await;

    // Every case: the ledger is its totals, nothing negative, and the payout lines are what
    // the debtor paid the agency as capital and interest.
    let mut paid_out: HashMap<String, (Money, Money)> = HashMap::new();
    for page in 1.. {
        let r = ok(
            &api.get(&format!(
                "/finance--payout-specifications?max_results=100&page={page}"
            ))
            .await,
            StatusCode::OK,
        );
        let items = r["_items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for l in items {
            let e = paid_out
                .entry(l["case"].as_str().unwrap().to_string())
                .or_default();
            match l["finance_category"].as_str().unwrap() {
                "capital" => e.0 += kr(&l["amount"]),
                "interest" => e.1 += kr(&l["amount"]),
                _ => {}
            }
        }
    }
    let mut agency_paid_cases = 0;
    for (id, _) in cases.iter() {
        let c = ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK);
        let mut sums: HashMap<&str, Money> = HashMap::new();
        let (mut capital_paid, mut interest_paid) = (Money::ZERO, Money::ZERO);
        for t in c["transactions"].as_array().unwrap() {
            let kind = t["type"].as_str().unwrap();
            let amount = kr(&t["amount"]);
            *sums.entry(kind).or_default() += amount;
            let tag = t["description_locale_tag"].as_str().unwrap_or_default();
            if tag == "api.transaction.payment" || tag == "api.transaction.payment_reallocated" {
                match kind {
                    "capital" => capital_paid -= amount,
                    "interest" => interest_paid -= amount,
                    _ => {}
                }
            }
        }
        for (kind, field) in [
            ("capital", "total_remaining_capital_amount"),
            ("interest", "total_remaining_interest_amount"),
            ("costs", "total_remaining_costs_amount"),
        ] {
            let sum = sums.get(kind).copied().unwrap_or(Money::ZERO);
            assert_eq!(kr(&c[field]), sum, "{id} {field}: {c}");
            assert!(sum >= Money::ZERO, "{id} {field} is negative: {c}");
        }
        let total: Money = sums.values().copied().sum();
        assert_eq!(kr(&c["total_remaining_transaction_amount"]), total, "{id}");
        let lines = paid_out.get(id).copied().unwrap_or_default();
        assert_eq!(
            lines,
            (capital_paid, interest_paid),
            "{id}: payout lines (capital, interest) against what the debtor paid: {c}"
        );
        if capital_paid > Money::ZERO {
            agency_paid_cases += 1;
        }
    }
    let (accepted, refused) = (
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
    );
    eprintln!(
        "{}: {accepted} writes accepted, {refused} refused, {agency_paid_cases} cases paid through the bank",
        common::backend()
    );
    assert!(accepted > 50, "the race did little: {accepted} accepted");
    assert!(
        agency_paid_cases > 5,
        "few bank payments landed: {agency_paid_cases}"
    );
}
