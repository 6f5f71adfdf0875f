//! What the engine may do and claim under Swedish law (issue 22), item by item, as a new
//! integrator would meet it on the sandbox clock. On SQLite, and on PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL` is set. The worked examples are in docs/flow.md.

use crate::common;

use axum::http::StatusCode;
use common::seed002::{ok, seed_002, set_clock};
use common::Api;
use indriva::domain::clock::Clock;
use serde_json::{json, Value};

async fn case(api: &Api, id: &str) -> Value {
    ok(&api.get(&format!("/cases/{id}")).await, StatusCode::OK)
}

/// The sandbox creditor on the default policy (a 180 kr collection fee; the sandbox's own
/// charges none, to match seed 002).
async fn default_policy(api: &Api) {
    set_policy(api, &indriva::domain::policy::CreditorPolicy::default()).await;
}

async fn letters(api: &Api, case: &str) -> Vec<Value> {
    let r = api
        .get_q(
            "/case--letters",
            &[("where", &json!({"case": case}).to_string())],
        )
        .await;
    ok(&r, StatusCode::OK)["_items"].as_array().unwrap().clone()
}

/// Item 1: no reminder, demand or fee before the claim has fallen due (lag 1981:739, 4 §),
/// and no invoice dated after today.
#[tokio::test]
async fn nothing_is_sent_or_charged_before_the_due_date() {
    let api = Api::new().await;
    default_policy(&api).await;
    set_clock(&api, "Sat, 21 Dec 2024 09:00:00 GMT").await;
    // A consumer's debt (the default policy's 180 kr collection fee applies to it).
    let mut body = seed_002();
    body["customer"] = json!({
        "name": "Anna Andersson", "id_number": "198112289874", "is_company": false,
        "address": {"address_line_1": "Storgatan 1", "zip_code": "11122",
                    "city": "Stockholm", "country": "SE"}
    });
    body["debts"][0]["invoice_date"] = json!("Fri, 20 Dec 2024 00:00:00 GMT");
    body["debts"][0]["invoice_due_days_after_invoice_date"] = json!(5);
    let r = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    set_clock(&api, "Sat, 21 Dec 2024 10:00:00 GMT").await;
    let c = case(&api, &id).await;
    assert!(
        letters(&api, &id).await.is_empty(),
        "no demand before the due date"
    );
    assert_eq!(c["total_added_costs_amount"], 0.0, "no fee: {c}");
    assert_eq!(c["state"], "initializing");
    // Due on the 25th, Christmas Day: the due date moves past the holidays to Friday 27
    // December (lag 1930:173, item 12), and the first action to the day after.
    assert_eq!(
        c["next_flow_item"]["schedule_to_execute"], "Sat, 28 Dec 2024 00:00:00 GMT",
        "the day after the due date (27 December)"
    );
    set_clock(&api, "Fri, 27 Dec 2024 09:00:00 GMT").await;
    assert!(letters(&api, &id).await.is_empty(), "not on the due date");
    set_clock(&api, "Sat, 28 Dec 2024 09:00:00 GMT").await;
    let sent = letters(&api, &id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["type"], "debt_collection");
    assert_eq!(sent[0]["sent_date"], "Sat, 28 Dec 2024 00:10:00 GMT");
    // Ten days to pay end on 7 January; 6 January is a holiday but the 7th is a Tuesday.
    assert_eq!(sent[0]["pay_by"], "Tue, 07 Jan 2025 00:00:00 GMT");
    assert_eq!(case(&api, &id).await["total_added_costs_amount"], 180.0);

    // An invoice dated after the account's today is refused.
    let mut future = seed_002();
    future["debts"][0]["invoice_number"] = json!("INV-FUTURE");
    future["debts"][0]["invoice_date"] = json!("Sun, 29 Dec 2024 00:00:00 GMT");
    let r = api.post("/case--registrations", &future).await;
    let e = ok(&r, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["_issues"]["debts"]["0"]["invoice_date"],
        "the invoice date cannot be later than today (2024-12-28)",
        "{e}"
    );
}

fn consumer(mut body: Value) -> Value {
    body["customer"] = json!({
        "name": "Anna Andersson", "id_number": "198112289874", "is_company": false,
        "address": {"address_line_1": "Storgatan 1", "zip_code": "11122",
                    "city": "Stockholm", "country": "SE"}
    });
    body
}

/// Item 3: limitation runs from the due date at registration (3 years for a consumer, 10
/// for a company), a registration may name the creditor's own last interruption, a barred
/// claim is refused, and nothing revives it (preskriptionslag (1981:130) 2, 5 and 8 §§).
#[tokio::test]
async fn a_time_barred_claim_is_refused_and_limitation_runs_from_the_due_date() {
    let api = Api::new().await;
    default_policy(&api).await;
    set_clock(&api, "Mon, 01 Dec 2025 09:00:00 GMT").await;

    // A consumer's invoice of 1 June 2021, due 1 July 2021: barred since 1 July 2024.
    let mut old = consumer(seed_002());
    old["debts"][0]["invoice_number"] = json!("INV-2021");
    old["debts"][0]["invoice_date"] = json!("Tue, 01 Jun 2021 00:00:00 GMT");
    old["debts"][0]["invoice_due_days_after_invoice_date"] = json!(30);
    let e = ok(
        &api.post("/case--registrations", &old).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let msg = e["_issues"]["debts"]["0"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("the claim is time-barred: its limitation period of 3 years ran from 2021-07-01 and ended on 2024-07-01"),
        "{e}"
    );
    assert!(msg.contains("preskriptionslag (1981:130)"), "{msg}");

    // A company's claim of 2014: ten years, barred in 2024.
    let mut company = seed_002();
    company["debts"][0]["invoice_number"] = json!("INV-2014");
    company["debts"][0]["invoice_date"] = json!("Mon, 03 Nov 2014 00:00:00 GMT");
    let e = ok(
        &api.post("/case--registrations", &company).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(
        e["_issues"]["debts"]["0"]
            .as_str()
            .unwrap_or_default()
            .contains("period of 10 years ran from 2014-12-04 and ended on 2024-12-04"),
        "{e}"
    );
    // Nothing was written by either refusal.
    let all = ok(&api.get("/cases").await, StatusCode::OK);
    assert_eq!(all["_meta"]["total"], 0, "{all}");

    // The same 2021 invoice, but the debtor acknowledged it on 1 March 2023: limitation
    // runs from then (5 §) to 1 March 2026, and the case is accepted.
    old["debts"][0]["limitation_interrupted_date"] = json!("Wed, 01 Mar 2023 00:00:00 GMT");
    let r = ok(
        &api.post("/case--registrations", &old).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    let c = case(&api, &id).await;
    assert_eq!(
        c["limitation"]["limitation_date"], "Sun, 01 Mar 2026 00:00:00 GMT",
        "{c}"
    );
    assert_eq!(
        c["limitation"]["locale_annotation"],
        "api.log_messages.creditor_interruption"
    );
    // The demand that goes out at 09:15 interrupts it again: three years from the letter.
    set_clock(&api, "Tue, 02 Dec 2025 09:00:00 GMT").await;
    api.render_letters().await;
    let c = case(&api, &id).await;
    assert_eq!(
        c["limitation"]["limitation_date"], "Fri, 01 Dec 2028 09:15:00 GMT",
        "{c}"
    );

    // An invoice of 2024 that nobody interrupted: from its due date, 31 January 2024.
    let mut recent = consumer(seed_002());
    recent["debts"][0]["invoice_number"] = json!("INV-2024");
    recent["debts"][0]["invoice_date"] = json!("Mon, 01 Jan 2024 00:00:00 GMT");
    recent["debts"][0]["invoice_due_days_after_invoice_date"] = json!(30);
    let r = ok(
        &api.post("/case--registrations", &recent).await,
        StatusCode::CREATED,
    );
    let c = case(&api, r["_cases"][0].as_str().unwrap()).await;
    assert_eq!(
        c["limitation"]["limitation_date"], "Sun, 31 Jan 2027 00:00:00 GMT",
        "{c}"
    );
    assert_eq!(
        c["limitation"]["locale_annotation"],
        "api.log_messages.claim_fell_due"
    );

    // An interruption dated after today is refused.
    let mut ahead = consumer(seed_002());
    ahead["debts"][0]["invoice_number"] = json!("INV-AHEAD");
    ahead["debts"][0]["limitation_interrupted_date"] = json!("Fri, 05 Dec 2025 00:00:00 GMT");
    let e = ok(
        &api.post("/case--registrations", &ahead).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(
        e["_issues"]["debts"]["0"]["limitation_interrupted_date"],
        "the limitation interruption cannot be later than today (2025-12-02)",
        "{e}"
    );
}

/// Item 7: between businesses the 450 kr late-payment compensation absorbs the reminder,
/// collection and payment-plan fees, the creditor's own included (lag (1981:739) 4 a § last
/// paragraph): seed 002's company with the creditor's 60 kr reminder fee owes 60 + 390, then
/// Kronofogden's 300 + 380: 1 130 kr, not 1 190.
#[tokio::test]
async fn the_late_payment_compensation_absorbs_the_fees() {
    let api = Api::new().await;
    let policy = indriva::domain::policy::CreditorPolicy {
        fees: indriva::domain::fees::FeePolicy {
            late_payment_compensation: true,
            reminder_fee_agreement: true,
            ..Default::default()
        },
        ..Default::default()
    };
    set_policy(&api, &policy).await;
    set_clock(&api, "Wed, 03 Sep 2025 07:56:11 GMT").await;
    let mut body = seed_002();
    body["debts"][0]["fees_already_claimed"] = json!({"reminder": {
        "amount": 60.0, "fee_registration_date": "Mon, 04 Aug 2025 00:00:00 GMT"}});
    let r = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    // The collection letter: the compensation tops the creditor's 60 up to 450.
    set_clock(&api, "Thu, 04 Sep 2025 09:00:00 GMT").await;
    let c = case(&api, &id).await;
    let costs = |c: &Value, tag: &str| -> f64 {
        c["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["description_locale_tag"] == tag)
            .map(|t| t["amount"].as_f64().unwrap())
            .sum()
    };
    assert_eq!(
        costs(&c, "api.transaction.late_payment_compensation"),
        390.0,
        "{c}"
    );
    assert_eq!(costs(&c, "api.transaction.debt_collection_fee"), 0.0);
    assert_eq!(c["total_added_costs_amount"], 450.0);
    // Through Kronofogden's application: 300 + 380 on top.
    set_clock(&api, "Mon, 06 Oct 2025 09:00:00 GMT").await;
    let c = case(&api, &id).await;
    assert_eq!(c["state"], "enforcement", "{c}");
    assert_eq!(c["total_added_costs_amount"], 1130.0, "{c}");
    // A sandbox account: Kronofogden's steps are simulated, and the case says so.
    assert_eq!(c["flow_state"]["kronofogden"]["status"], "simulated");
}

async fn set_policy(api: &Api, policy: &indriva::domain::policy::CreditorPolicy) {
    let mut tx = api.db.store.begin().await.unwrap();
    tx.set_creditor_policy(
        &indriva::sandbox::sandbox_creditor_id(),
        &indriva::sandbox::sandbox_account_id(),
        &serde_json::to_string(policy).unwrap(),
        api.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// A BgMax file paying `kronor` to `ocr` on `day`, imported by the agency's operator.
async fn pay_by_bank(api: &Api, ocr: &str, amount: f64, day: (i32, u32, u32)) -> Value {
    use indriva::domain::bgmax::{GeneratedPayment, Generator};
    let operator = api
        .token_for(indriva::domain::bank::AGENCY_ACCOUNT, None)
        .await;
    let text = Generator {
        payee_bankgiro: "9912346".into(),
        payment_date: chrono::NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap(),
        written: format!(
            "{:04}{:02}{:02}063012{}",
            day.0,
            day.1,
            day.2,
            &ocr[ocr.len() - 6..]
        ),
        payments: vec![GeneratedPayment {
            reference: ocr.into(),
            ocr: true,
            amount: indriva::domain::Money::from_kronor_f64(amount).unwrap(),
            payer_name: None,
            parts: vec![],
        }],
        deductions: vec![],
    }
    .render();
    let name = format!("BGMAX_{ocr}.txt");
    ok(
        &crate::bank_files::upload(api, &operator, &name, text.as_bytes()).await,
        StatusCode::CREATED,
    )
}

/// Item 2: the amount a letter demands settles the claim when it is paid by the letter's
/// pay-by date. Interest that ran after the letter is written off (the default policy) or
/// demanded by a new letter (`interest_after_demand: demand`); and nothing goes to
/// Kronofogden for less than `minimum_enforcement_amount` (100 kr by default).
#[tokio::test]
async fn paying_what_the_letter_demanded_by_its_date_settles_the_claim() {
    use indriva::domain::policy::{AfterDemand, CreditorPolicy};
    let api = Api::new().await;
    default_policy(&api).await;
    set_clock(&api, "Fri, 31 Oct 2025 09:00:00 GMT").await;
    let mut cases = vec![];
    for invoice in ["INV-A", "INV-B"] {
        let mut body = consumer(seed_002());
        body["debts"][0]["invoice_number"] = json!(invoice);
        body["debts"][0]["invoice_date"] = json!("Mon, 01 Sep 2025 00:00:00 GMT");
        body["debts"][0]["invoice_due_days_after_invoice_date"] = json!(30);
        body["debts"][0]["capital_to_claim"] = json!(5000.0);
        let r = ok(
            &api.post("/case--registrations", &body).await,
            StatusCode::CREATED,
        );
        cases.push((
            r["_cases"][0].as_str().unwrap().to_string(),
            r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string(),
        ));
    }
    set_clock(&api, "Fri, 31 Oct 2025 10:00:00 GMT").await;
    let mut demanded = vec![];
    for (id, _) in &cases {
        let sent = letters(&api, id).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["pay_by"], "Mon, 10 Nov 2025 00:00:00 GMT");
        demanded.push(sent[0]["total"].as_f64().unwrap());
    }
    // 5 000 capital, interest from 1 October, the 180 kr collection fee.
    assert!(demanded[0] > 5180.0 && demanded[0] < 5300.0, "{demanded:?}");

    // A pays exactly what its letter asked, on the last day: closed, the later interest
    // written off.
    set_clock(&api, "Mon, 10 Nov 2025 12:00:00 GMT").await;
    pay_by_bank(&api, &cases[0].1, demanded[0], (2025, 11, 10)).await;
    let a = case(&api, &cases[0].0).await;
    assert_eq!(a["closed"]["reason"], "fully_paid", "{a}");
    assert_eq!(a["total_remaining_transaction_amount"], 0.0);
    let written_off: f64 = a["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description_locale_tag"] == "api.transaction.depreciated")
        .map(|t| t["amount"].as_f64().unwrap())
        .sum();
    // 5 000 + 41 interest (1–31 Oct) + 180 = 5 221 demanded; 54 interest through 10 Nov:
    // the 13 that ran after the letter is written off.
    assert_eq!(demanded[0], 5221.0);
    assert_eq!(written_off, -13.0, "the interest after the letter: {a}");

    // B, the same, but its creditor demands that interest anew.
    set_policy(
        &api,
        &CreditorPolicy {
            interest_after_demand: AfterDemand::Demand,
            ..CreditorPolicy::default()
        },
    )
    .await;
    // (A day earlier: the generator numbers every file's deposit alike, and a payment with
    // the same date and serial numbers would be the same payment.)
    pay_by_bank(&api, &cases[1].1, demanded[1], (2025, 11, 9)).await;
    let b = case(&api, &cases[1].0).await;
    assert!(b.get("closed").is_none(), "{b}");
    let left = b["total_remaining_transaction_amount"].as_f64().unwrap();
    // 53 interest through 9 Nov, 12 of it after the letter: 12 left.
    assert_eq!(left, 12.0);
    // The debt statement asks for what is left; the remainder is below 100 kr, so on the
    // day of the application the case goes to surveillance: no 300 + 380 kr.
    set_clock(&api, "Mon, 01 Dec 2025 09:00:00 GMT").await;
    let b = case(&api, &cases[1].0).await;
    assert_eq!(b["state"], "debt_surveillance", "{b}");
    assert_eq!(b["total_added_costs_amount"], 180.0, "{b}");
    let sent = letters(&api, &cases[1].0).await;
    let statement = sent
        .iter()
        .find(|l| l["type"] == "debt_statement")
        .expect("a debt statement demanded the rest");
    assert!(statement["total"].as_f64().unwrap() < 100.0, "{statement}");
}

/// Item 6: the flow files nothing with Kronofogden. A real account's case stops where the
/// application would be made and waits for it to be filed: no 300 + 380 kr, no limitation
/// break, the wait shown in `flow_state.kronofogden`. (A sandbox account simulates the
/// application and says so: `the_late_payment_compensation_absorbs_the_fees`.)
#[tokio::test]
async fn a_real_account_waits_for_the_application_to_be_filed() {
    use indriva::domain::{HttpDate, ObjectId};
    let api = Api::new().await;
    let at = |s: &str| HttpDate::parse_lenient(s).unwrap();
    api.clock.set(at("Sun, 01 Nov 2026 12:00:00 GMT"));
    let account = common::insert_account(&api.db.store, "Real AB", api.clock.now()).await;
    let mut creditor = indriva::domain::party::Creditor::as_in_the_seeds(
        ObjectId::at(api.clock.now().unix() + 7),
        account,
        "Real Creditor AB",
        "5566778899",
        0,
        api.clock.now(),
    );
    let mut tx = api.db.store.begin().await.unwrap();
    indriva::tenancy::create_creditor(&mut tx, &mut creditor)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let token = api.token_for(account, None).await;

    let mut body = consumer(seed_002());
    body["account"] = json!(account.to_hex());
    body["creditor"] = json!(creditor.id.to_hex());
    body["debts"][0]["invoice_date"] = json!("Tue, 01 Sep 2026 00:00:00 GMT");
    body["debts"][0]["invoice_due_days_after_invoice_date"] = json!(30);
    let r = ok(
        &api.write_as(&token, "POST", "/case--registrations", &body, None)
            .await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    // Real time passes, a day at a time: the collection letter on 3 November, the debt
    // statement on the 19th, the application's day on 3 December; then a month more.
    let mut c = Value::Null;
    let mut day = at("Mon, 02 Nov 2026 12:00:00 GMT");
    while day <= at("Mon, 04 Jan 2027 12:00:00 GMT") {
        api.clock.set(day);
        // The server's job runner typesets the day's letters.
        api.render_letters().await;
        // (Tokens expire as real time moves on.)
        let token = api.token_for(account, None).await;
        c = ok(
            &api.get_as(Some(&token), &format!("/cases/{id}")).await,
            StatusCode::OK,
        );
        day = day.plus_days(1);
    }
    assert_eq!(
        c["flow_state"]["kronofogden"],
        json!({"status": "awaiting_filing", "since": "Thu, 03 Dec 2026 12:00:00 GMT"}),
        "{c}"
    );
    assert_eq!(c["state"], "debt_collection");
    assert!(c["next_flow_item"].is_null(), "the flow waits: {c}");
    assert_eq!(
        c["total_added_costs_amount"], 180.0,
        "no Kronofogden fees: {c}"
    );
    assert_eq!(
        c["limitation"]["locale_annotation"],
        "api.log_messages.letter_sent_debt_statement"
    );
    assert!(!c["services"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["service"] == "enforcement"));
}

/// Item 9: a claim with no due date agreed in advance (räntelagen 4 §) accrues interest
/// only from the day that falls 30 days after the first demand was sent. Zero days to pay
/// (payable on demand) is such a claim unless the creditor says a due date was agreed
/// (`due_date_agreed: true`); `due_date_agreed: false` makes any claim one. The worked
/// example is in docs/interest.md.
#[tokio::test]
async fn without_an_agreed_due_date_interest_runs_from_thirty_days_after_the_demand() {
    let api = Api::new().await;
    default_policy(&api).await;
    set_clock(&api, "Mon, 01 Sep 2025 09:00:00 GMT").await;
    let mut ids = vec![];
    for (invoice, days, agreed) in [
        ("ON-DEMAND", 0, None),
        ("NOT-AGREED", 10, Some(false)),
        ("AGREED-0", 0, Some(true)),
    ] {
        let mut body = consumer(seed_002());
        body["debts"][0]["invoice_number"] = json!(invoice);
        body["debts"][0]["invoice_date"] = json!("Mon, 01 Sep 2025 00:00:00 GMT");
        body["debts"][0]["invoice_due_days_after_invoice_date"] = json!(days);
        body["debts"][0]["capital_to_claim"] = json!(10000.0);
        if let Some(agreed) = agreed {
            body["debts"][0]["due_date_agreed"] = json!(agreed);
        }
        let r = ok(
            &api.post("/case--registrations", &body).await,
            StatusCode::CREATED,
        );
        ids.push(r["_cases"][0].as_str().unwrap().to_string());
    }
    let (on_demand, not_agreed, agreed_0) = (&ids[0], &ids[1], &ids[2]);

    // Payable on demand: the demand goes out the day after the invoice date (2 September);
    // interest runs from 2 October, 30 days later.
    set_clock(&api, "Wed, 01 Oct 2025 23:00:00 GMT").await;
    let c = case(&api, on_demand).await;
    assert_eq!(c["debt"]["due_date_agreed"], false, "{c}");
    assert_eq!(
        c["debt"]["first_demand_date"],
        "Tue, 02 Sep 2025 00:10:00 GMT"
    );
    assert_eq!(c["debt"]["interest_days_after_invoice_date"], 30);
    assert_eq!(
        c["total_added_interest_amount"], 0.0,
        "no interest yet: {c}"
    );
    let sent = letters(&api, on_demand).await;
    assert_eq!(sent[0]["type"], "debt_collection");
    // 10 000 capital and the 180 kr collection fee; no interest demanded.
    assert_eq!(sent[0]["total"], 10180.0);
    // The agreed zero-day claim has run interest since 2 September: 10 000 kr at 10 %
    // (reference rate 2 % + 8) for 30 days is 82,19 kr, 82 charged.
    assert_eq!(
        case(&api, agreed_0).await["total_added_interest_amount"],
        82.0
    );

    // On 31 October the on-demand claim has 30 days of interest (2–31 October): 82 kr.
    set_clock(&api, "Fri, 31 Oct 2025 12:00:00 GMT").await;
    assert_eq!(
        case(&api, on_demand).await["total_added_interest_amount"],
        82.0
    );

    // Ten days to pay, but not agreed in advance: the demand on 12 September (the day after
    // the due date), interest from 12 October: 20 days through 31 October, 54,79 → 54 kr.
    let c = case(&api, not_agreed).await;
    assert_eq!(
        c["debt"]["first_demand_date"],
        "Fri, 12 Sep 2025 00:10:00 GMT"
    );
    assert_eq!(c["debt"]["interest_days_after_invoice_date"], 40);
    assert_eq!(c["total_added_interest_amount"], 54.0, "{c}");
    // The agreed zero-day claim: 60 days (2 September–31 October), 164,38 → 164 kr.
    assert_eq!(
        case(&api, agreed_0).await["total_added_interest_amount"],
        164.0
    );
    // A debt with an agreed due date says nothing new.
    assert!(case(&api, agreed_0).await["debt"]
        .get("due_date_agreed")
        .is_none());
}

/// The payout-specification lines of one case.
async fn finance_lines(api: &Api, case: &str) -> Vec<Value> {
    let r = api
        .get_q(
            "/finance--payout-specifications",
            &[("where", &json!({"case": case}).to_string())],
        )
        .await;
    ok(&r, StatusCode::OK)["_items"].as_array().unwrap().clone()
}

/// (category, article, amount, VAT) of each line, in a stable order.
fn summed(lines: &[Value]) -> Vec<(String, String, f64, f64)> {
    let mut out: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l["finance_category"].as_str().unwrap().to_string(),
                l["article"].as_str().unwrap().to_string(),
                l["amount"].as_f64().unwrap(),
                l["vat_amount"].as_f64().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// Item 10: what a B2B case through Kronofogden's application leaves the creditor and the
/// agency. Costs 1 130 kr: the creditor's 60 kr reminder fee and the 390 kr that tops it up
/// to the 450 kr förseningsersättning (the creditor's own), Kronofogden's 300 kr fee (the
/// agency's outlay) and 380 kr for the application's work (the agency's service).
/// Paid to the agency, the creditor's 450 is passed on and the agency keeps 680; paid to the
/// creditor, the creditor owes the outlay at cost and the work with 25 % VAT, one line per
/// article, and nothing for its own 450. docs/finance.md, worked example 3.
#[tokio::test]
async fn fees_outlays_and_the_creditors_own_charges_each_go_their_own_way() {
    let api = Api::new().await;
    let policy = indriva::domain::policy::CreditorPolicy {
        fees: indriva::domain::fees::FeePolicy {
            late_payment_compensation: true,
            reminder_fee_agreement: true,
            ..Default::default()
        },
        ..Default::default()
    };
    set_policy(&api, &policy).await;
    set_clock(&api, "Wed, 03 Sep 2025 07:56:11 GMT").await;
    let mut cases = vec![];
    for invoice in ["B2B-TO-AGENCY", "B2B-TO-CREDITOR"] {
        let mut body = seed_002();
        body["debts"][0]["invoice_number"] = json!(invoice);
        body["debts"][0]["fees_already_claimed"] = json!({"reminder": {
            "amount": 60.0, "fee_registration_date": "Mon, 04 Aug 2025 00:00:00 GMT"}});
        let r = ok(
            &api.post("/case--registrations", &body).await,
            StatusCode::CREATED,
        );
        cases.push((
            r["_cases"][0].as_str().unwrap().to_string(),
            r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string(),
        ));
    }
    set_clock(&api, "Mon, 06 Oct 2025 09:00:00 GMT").await;
    let a = case(&api, &cases[0].0).await;
    assert_eq!(a["total_added_costs_amount"], 1130.0, "{a}");
    let interest = a["total_remaining_interest_amount"].as_f64().unwrap();

    // The debtor pays the agency everything.
    let total = a["total_remaining_transaction_amount"].as_f64().unwrap();
    pay_by_bank(&api, &cases[0].1, total, (2025, 10, 6)).await;
    assert_eq!(
        case(&api, &cases[0].0).await["closed"]["reason"],
        "fully_paid"
    );
    assert_eq!(
        summed(&finance_lines(&api, &cases[0].0).await),
        vec![
            ("capital".into(), "capital".into(), 2000.0, 0.0),
            (
                "creditor_outlay".into(),
                "late_payment_fee".into(),
                390.0,
                0.0
            ),
            ("creditor_outlay".into(), "reminder".into(), 60.0, 0.0),
            ("interest".into(), "interest".into(), interest, 0.0),
        ]
    );

    // The debtor pays the creditor the capital; the rest is written off.
    let payment = json!({
        "creditor": indriva::sandbox::sandbox_creditor_id().to_hex(), "case": cases[1].0,
        "currency": "SEK", "amount": 2000.0,
        "bank_transaction_date": "Mon, 06 Oct 2025 08:00:00 GMT", "origin": "creditor_system"
    });
    ok(
        &api.post("/creditor--payments", &payment).await,
        StatusCode::CREATED,
    );
    let b = case(&api, &cases[1].0).await;
    assert_eq!(b["closed"]["reason"], "fully_paid_depreciation", "{b}");
    let owed = finance_lines(&api, &cases[1].0).await;
    assert_eq!(
        summed(&owed),
        vec![
            (
                "creditor_commission".into(),
                "enforcement".into(),
                -300.0,
                0.0
            ),
            (
                "creditor_commission".into(),
                "enforcement_own_work".into(),
                -380.0,
                -95.0
            ),
        ]
    );
    let total_owed: f64 = owed
        .iter()
        .map(|l| l["total_amount"].as_f64().unwrap())
        .sum();
    assert_eq!(total_owed, -775.0);
}

/// Item 10, a consumer: the agency's reminder and collection fees written off after the
/// debtor paid the creditor are owed as two lines, one per article, each with its VAT.
#[tokio::test]
async fn each_written_off_fee_is_owed_under_its_own_article() {
    let api = Api::new().await;
    let policy = indriva::domain::policy::CreditorPolicy {
        fees: indriva::domain::fees::FeePolicy {
            reminder_fee_agreement: true,
            ..Default::default()
        },
        ..Default::default()
    };
    set_policy(&api, &policy).await;
    set_clock(&api, "Wed, 03 Sep 2025 07:56:11 GMT").await;
    let mut body = consumer(seed_002());
    body["first_action"] = json!("reminder");
    let r = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    // The reminder (60 kr), then the collection letter (180 kr).
    set_clock(&api, "Mon, 06 Oct 2025 09:00:00 GMT").await;
    let c = case(&api, &id).await;
    assert_eq!(c["total_added_costs_amount"], 240.0, "{c}");
    let payment = json!({
        "creditor": indriva::sandbox::sandbox_creditor_id().to_hex(), "case": id,
        "currency": "SEK", "amount": 2000.0,
        "bank_transaction_date": "Mon, 06 Oct 2025 08:00:00 GMT", "origin": "creditor_system"
    });
    ok(
        &api.post("/creditor--payments", &payment).await,
        StatusCode::CREATED,
    );
    assert_eq!(
        summed(&finance_lines(&api, &id).await),
        vec![
            (
                "creditor_commission".into(),
                "debt_collection".into(),
                -180.0,
                -45.0
            ),
            (
                "creditor_commission".into(),
                "reminder".into(),
                -60.0,
                -15.0
            ),
        ]
    );
}

/// Item 11: a letter breaks limitation when it has been typeset and sent, dated its day;
/// while it is queued, and when its typesetting fails (a broken template: the letter shows
/// `failed` after three attempts), the case's limitation stays where it was.
#[tokio::test]
async fn a_letter_that_was_never_sent_breaks_nothing() {
    use indriva::domain::clock::Clock as _;
    let api = Api::new().await;
    let (id, _) = common::seed002::register_seed_002(&api).await;
    set_clock(&api, common::seed002::LOOKED_AT).await;
    let registered = case(&api, &id).await["limitation"].clone();
    assert_eq!(
        registered["locale_annotation"],
        "api.log_messages.claim_fell_due"
    );
    let queued = letters(&api, &id).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["status"], "queued");

    // A creditor template that does not compile.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("letter.typ"), "#let broken = (").unwrap();
    let broken = indriva::worker::job_runner(
        indriva::worker::JobContext {
            app: api.app(),
            renderer: indriva::letters::Renderer {
                media: api.media.clone(),
                templates: indriva::letters::Templates {
                    dir: Some(dir.path().to_path_buf()),
                },
                agency: Default::default(),
            },
            sender: indriva::webhooks::Sender::new(Default::default()).unwrap(),
        },
        indriva::worker::Jobs::Letters,
    );
    for _ in 0..3 {
        broken
            .drain(indriva::jobs::Priority::Backfill, None)
            .await
            .unwrap();
        // The job is retried after its backoff (1, 2, 4 minutes).
        api.clock.set(api.clock.now().plus_seconds(300));
    }
    let failed = letters(&api, &id).await;
    assert_eq!(failed[0]["status"], "failed", "{failed:?}");
    assert_eq!(case(&api, &id).await["limitation"], registered);

    // The template is fixed (the default one): the letter goes out and its day is the break.
    api.render_letters().await;
    let sent = letters(&api, &id).await;
    assert_eq!(sent[0]["status"], "rendered");
    let c = case(&api, &id).await;
    assert_eq!(
        c["limitation"]["locale_annotation"],
        "api.log_messages.letter_sent_debt_collection"
    );
    assert_eq!(c["limitation"]["break_date"], sent[0]["sent_date"]);
}

/// Issue 23 item 1: a payment dated before one that already paid interest. 1 000 kr due
/// 6 Aug 2025; 100 kr paid on 30 Sep settles 15 interest and 85 capital; on 18 Nov a payment
/// dated 2 Sep of 3 000 kr arrives. Only 8 kr of interest was owed (1 000 kr from 7 Aug to
/// 2 Sep, 85 kr to 30 Sep): the 7 kr paid beyond it move to capital, the late payment settles
/// 908 kr, and 2 092 kr go back as overpayment. Nothing is left negative; the creditor's lines
/// add up to 1 000 capital and 8 interest. docs/interest.md, "A payment dated earlier".
#[tokio::test]
async fn a_backdated_payment_moves_interest_no_longer_owed_to_capital() {
    let api = Api::new().await;
    set_clock(&api, "Mon, 01 Sep 2025 09:00:00 GMT").await;
    let mut body = consumer(seed_002());
    body["debts"][0]["capital_to_claim"] = json!(1000.0);
    body["debts"][0]["invoice_date"] = json!("Mon, 07 Jul 2025 00:00:00 GMT");
    body["debts"][0]["invoice_due_days_after_invoice_date"] = json!(30);
    let r = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
    let id = r["_cases"][0].as_str().unwrap().to_string();
    let ocr = r["_ocr_numbers_ocr"][0].as_str().unwrap().to_string();
    set_clock(&api, "Wed, 01 Oct 2025 09:00:00 GMT").await;
    pay_by_bank(&api, &ocr, 100.0, (2025, 9, 30)).await;
    set_clock(&api, "Tue, 18 Nov 2025 09:00:00 GMT").await;
    let report = pay_by_bank(&api, &ocr, 3000.0, (2025, 9, 2)).await;
    assert_eq!(
        report["unmatched_amount"].as_f64(),
        Some(2092.0),
        "{report}"
    );
    let c = case(&api, &id).await;
    for field in [
        "total_remaining_capital_amount",
        "total_remaining_interest_amount",
        "total_remaining_costs_amount",
        "total_remaining_transaction_amount",
    ] {
        assert_eq!(c[field], 0.0, "{field}: {c}");
    }
    assert!(c["closed"].is_object(), "{c}");
    let mut capital = 0.0;
    let mut interest = 0.0;
    for l in finance_lines(&api, &id).await {
        match l["finance_category"].as_str().unwrap() {
            "capital" => capital += l["amount"].as_f64().unwrap(),
            "interest" => interest += l["amount"].as_f64().unwrap(),
            _ => {}
        }
    }
    assert_eq!((capital, interest), (1000.0, 8.0));
}
