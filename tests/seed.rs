//! Seeded history is true history (issue 21): a seeded case is lived through the engine and
//! every effect of its life is written as the worker and the actions write it. Its letters
//! are in `/case--letters`, the money it settled is in `/finance--payout-specifications`, to
//! the öre. The check: 10,000 seeded cases. On SQLite, and on PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use std::collections::HashMap;

use common::Api;
use indriva::domain::case::{Case, CaseState, CaseStatus};
use indriva::domain::finance::{settlement_lines, FinanceCategory};
use indriva::domain::ledger::{tags, TransactionType};
use indriva::domain::Money;
use serde_json::Value;

/// Every document of a list endpoint, through the API (all pages).
async fn all(api: &Api, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let r = api
            .get_q(path, &[("max_results", "100"), ("page", &page.to_string())])
            .await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let items = r.json()["_items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        out.extend(items);
    }
    out
}

fn money(v: &Value) -> Money {
    Money::from_kronor_f64(v.as_f64().unwrap()).unwrap()
}

#[tokio::test]
async fn seeded_cases_have_their_letters_and_their_payout_lines() {
    let api = Api::new().await;
    let n = 10_000;
    indriva::seed::run(&api.db.store, &api.clock, n, None, false, None)
        .await
        .unwrap();
    let cases: Vec<Case> = all(&api, "/cases")
        .await
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    assert_eq!(cases.len() as u64, n);

    // Letters: what each case's history says it was sent.
    let mut letters: HashMap<String, Vec<String>> = HashMap::new();
    for l in all(&api, "/case--letters").await {
        assert_eq!(l["status"], "queued", "rendering is the worker's: {l}");
        letters
            .entry(l["case"].as_str().unwrap().to_string())
            .or_default()
            .push(l["type"].as_str().unwrap().to_string());
    }
    let mut checked = (0, 0, 0, 0);
    for c in &cases {
        let sent = letters.get(&c.id.to_hex()).cloned().unwrap_or_default();
        let has = |kind: &str| sent.iter().any(|k| k == kind);
        let passed = |s: CaseState| c.state_history.iter().any(|h| h.state == s);
        if passed(CaseState::Reminder) {
            assert!(has("reminder"), "case {} was in reminder: {sent:?}", c.id);
            checked.0 += 1;
        }
        if c.status_history
            .iter()
            .any(|h| h.status == CaseStatus::DebtCollectionActive)
        {
            assert!(
                has("debt_collection") && has("debt_statement"),
                "case {} had its debt statement: {sent:?}",
                c.id
            );
            checked.1 += 1;
        }
        // Issue 22 item 8: a payment plan's fee comes with the written plan.
        if passed(CaseState::Amortization) {
            assert!(has("payment_plan"), "case {} agreed a plan: {sent:?}", c.id);
            checked.3 += 1;
        }
        if passed(CaseState::Enforcement) {
            assert!(has("debt_statement"), "case {}: {sent:?}", c.id);
            checked.2 += 1;
        }
        // (A payment plan agreed before any demand comes with its plan letter.)
        if !passed(CaseState::Reminder) && !passed(CaseState::DebtCollection) {
            assert!(
                sent.iter().all(|k| k == "payment_plan"),
                "case {} sent {sent:?} before any letter step",
                c.id
            );
        }
    }
    assert!(
        checked.0 > 50 && checked.1 > 50 && checked.2 > 20 && checked.3 > 20,
        "cases checked (reminder, statement, enforcement, plan): {checked:?}"
    );

    // Payout lines: every öre the debtors paid to the agency towards capital and interest
    // is owed to the creditor, and each case's lines are what its ledger makes of them.
    let lines = all(&api, "/finance--payout-specifications").await;
    assert!(!lines.is_empty());
    let mut by_case: HashMap<String, HashMap<String, Money>> = HashMap::new();
    for l in &lines {
        *by_case
            .entry(l["case"].as_str().unwrap().to_string())
            .or_default()
            .entry(l["finance_category"].as_str().unwrap().to_string())
            .or_insert(Money::ZERO) += money(&l["amount"]);
    }
    let paid = |c: &Case, kind: TransactionType| -> Money {
        -c.transactions
            .iter()
            .filter(|t| t.kind == kind && t.is(tags::DEBTOR_PAYMENT))
            .map(|t| t.amount)
            .sum::<Money>()
    };
    let (mut capital, mut interest) = (Money::ZERO, Money::ZERO);
    for c in &cases {
        let mine = by_case.remove(&c.id.to_hex()).unwrap_or_default();
        let got = |cat: &str| mine.get(cat).copied().unwrap_or(Money::ZERO);
        assert_eq!(
            got("capital"),
            paid(c, TransactionType::Capital),
            "case {}",
            c.id
        );
        assert_eq!(
            got("interest"),
            paid(c, TransactionType::Interest),
            "case {}",
            c.id
        );
        let mut expected: HashMap<String, Money> = HashMap::new();
        for l in settlement_lines(c, 0) {
            let cat = serde_json::to_value(l.category).unwrap();
            *expected
                .entry(cat.as_str().unwrap().to_string())
                .or_insert(Money::ZERO) += l.amount;
        }
        assert_eq!(
            mine.into_iter()
                .filter(|(_, m)| *m != Money::ZERO)
                .collect::<HashMap<_, _>>(),
            expected,
            "case {}",
            c.id
        );
        capital += paid(c, TransactionType::Capital);
        interest += paid(c, TransactionType::Interest);
    }
    assert!(by_case.is_empty(), "lines of no seeded case: {by_case:?}");
    let total = |cat: FinanceCategory| -> Money {
        let cat = serde_json::to_value(cat).unwrap();
        lines
            .iter()
            .filter(|l| l["finance_category"] == cat)
            .map(|l| money(&l["amount"]))
            .sum()
    };
    assert_eq!(total(FinanceCategory::Capital), capital);
    assert_eq!(total(FinanceCategory::Interest), interest);
    assert!(capital > Money::ZERO);
}
