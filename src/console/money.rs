//! The overview, unmatched payments and bank files, payouts.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{json, Value};

use super::call::enc;
use super::export;
use super::view::{self, badge, kr, kr_json, label, str_of, when, Flash};
use super::{internal, refused, Console, Posted, Signed};
use crate::actions::{bank, overview, payout_run};
use crate::domain::ObjectId;

/// Weeks the overview's charts cover.
const WEEKS: i64 = 12;

pub async fn overview(
    State(c): State<Console>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // The agency's operators may look at one account (on its own clock: a sandbox account's
    // time is not the real time).
    // Without a choice, the account with the most open cases: the page opens on cases, on
    // their account's clock, rather than on every account in real time (empty for a sandbox
    // whose clock is elsewhere). `account=all` asks for every account.
    let chosen = match q.get("account").map(String::as_str) {
        _ if !who.is_agency() => None,
        Some("all") => None,
        Some(a) => ObjectId::parse(a).ok(),
        None => overview::busiest_account(&c.app).await.ok().flatten(),
    };
    let actor = match chosen {
        Some(a) => who.actor_in(&a),
        None => who
            .agency_actor()
            .or_else(|| who.op.account.and_then(|a| who.actor_in(&a))),
    };
    let Some(actor) = actor else {
        return refused(StatusCode::FORBIDDEN, "You may not see these totals.");
    };
    let now = match actor.scope.account {
        Some(a) => match c.app.clocks.now(&c.app.store, &a).await {
            Ok(t) => t,
            Err(e) => return internal(e),
        },
        None => c.app.clocks.real(),
    };
    let accounts = if who.is_agency() {
        who.api(&c)
            .items("/accounts?max_results=200&sort=name")
            .await
    } else {
        vec![]
    };
    let week_start = now.start_of_day().unix() - (WEEKS - 1) * 7 * 86_400;
    let month_start = {
        let d = now.date();
        chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&d), chrono::Datelike::month(&d), 1)
            .map(crate::domain::HttpDate::midnight)
            .map(|m| m.unix())
            .unwrap_or(0)
    };
    let totals = match c.overview(&actor, week_start, month_start).await {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let open_cases: i64 = totals.states.iter().map(|s| s.cases).sum();
    let outstanding: i64 = totals.states.iter().map(|s| s.remaining).sum();
    let by_week = |series: &[(i64, i64)]| -> Vec<i64> {
        let mut v = vec![0; WEEKS as usize];
        for (w, n) in series {
            if let Some(slot) = v.get_mut(*w as usize) {
                *slot += n;
            }
        }
        v
    };
    let labels: Vec<String> = (0..WEEKS)
        .map(|w| {
            chrono::DateTime::from_timestamp(week_start + w * 7 * 86_400, 0)
                .map(|t| t.format("%d/%m").to_string())
                .unwrap_or_default()
        })
        .collect();
    // The flow worker: how far behind the oldest due case is, per account's own time.
    let mut lag = 0i64;
    for (account, due) in &totals.due {
        if let Ok(t) = c.app.clocks.now(&c.app.store, account).await {
            lag = lag.max(t.unix() - due);
        }
    }
    let worker = match &c.health.worker {
        None => "not running in this server".to_string(),
        Some(_) if lag <= 60 => "up to date".to_string(),
        Some(_) => format!("{} behind", human_secs(lag)),
    };
    let max_state = totals
        .states
        .iter()
        .map(|s| s.cases)
        .max()
        .unwrap_or(1)
        .max(1);
    // Held cases (or ones waiting for filing) that warned of their limitation date: a
    // person must act before the claim is barred (docs/flow.md, "Limitation").
    let mut near = json!({
        "flow_state.limitation_warned": {"$exists": true},
        "closed": {"$exists": false},
    });
    if let Some(a) = chosen {
        near["account"] = json!(a.to_hex());
    }
    let projection = json!({"debt.invoice_number": 1, "debtor_name": 1, "creditor_name": 1,
        "state": 1, "limitation": 1, "flow_state": 1});
    let near_limitation = who
        .api(&c)
        .items(&format!(
            "/cases?where={}&projection={}&sort=limitation.limitation_date&max_results=50",
            enc(&near.to_string()),
            enc(&projection.to_string())
        ))
        .await;
    let flash = q.get("done").map(|d| Flash::Done(d.clone()));
    let body = html! {
        @if !accounts.is_empty() {
            form.filters method="get" action="/console" {
                label { "Account"
                    select name="account" {
                        option value="all" selected[chosen.is_none()] { "All accounts (real time)" }
                        @for a in &accounts {
                            @let id = str_of(a, "_id");
                            option value=(id) selected[chosen.map(|c| c.to_hex()).as_deref() == Some(id)] { (str_of(a, "name")) }
                        }
                    }
                }
                button type="submit" { "Show" }
            }
        }
        p.muted { "As of " (view::date_time(now.unix())) "." }
        div.grid {
            div.stat { div.l { "Open cases" } div.n { (open_cases) } }
            div.stat { div.l { "Outstanding" } div.n { (kr(outstanding)) } }
            div.stat { div.l { "Collected this month" } div.n { (kr(totals.collected_month)) } }
            div.stat { div.l { "Paid out this month" } div.n { (kr(totals.paid_out_month)) } }
            div.stat { div.l { "Flow worker" } div.n { (worker) } }
        }
        div.grid2 {
            div.card {
                (view::column_chart(
                    "Cases registered and closed per week",
                    &[("Registered", "bar-a", by_week(&totals.opened)), ("Closed", "bar-b", by_week(&totals.closed))],
                    &labels,
                    |n| n.to_string(),
                ))
            }
            div.card {
                (view::column_chart(
                    "Collected per week",
                    &[("Collected", "bar-c", by_week(&totals.collected))],
                    &labels,
                    kr,
                ))
            }
        }
        @if !near_limitation.is_empty() {
            h2 { "Limitation approaching" }
            p.muted { "Held or waiting for the application to Kronofogden to be filed: nothing the flow does interrupts their limitation. Resolve the hold, file, or interrupt it (an acknowledgement, a payment) before the date." }
            div.table-wrap { table {
                thead { tr { th { "Invoice" } th { "Debtor" } th.hide-narrow { "Creditor" } th { "State" } th { "Limitation date" } } }
                tbody { @for k in &near_limitation {
                    tr {
                        td { a href={ "/console/cases/" (str_of(k, "_id")) } { (k.pointer("/debt/invoice_number").and_then(Value::as_str).unwrap_or("")) } }
                        td { (str_of(k, "debtor_name")) }
                        td.hide-narrow { (str_of(k, "creditor_name")) }
                        td { (badge(str_of(k, "state"))) }
                        td { (badge("limitation_approaching")) " " (when(k.pointer("/limitation/limitation_date"))) }
                    }
                } }
            } }
        }
        h2 { "Open cases by state" }
        @if totals.states.is_empty() {
            (view::empty("No open cases. Register one under Register, or let a creditor's system send them."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "State" } th { "Status" } th.num { "Cases" } th.hide-narrow {} th.num { "Outstanding" } } }
                tbody { @for s in &totals.states {
                    tr {
                        td { a href={ "/console/cases?status=open&state=" (s.state) } { (badge(&s.state)) } }
                        td { (label(&s.status)) }
                        td.num { (s.cases) }
                        td.hide-narrow { progress max=(max_state) value=(s.cases) { (s.cases) } }
                        td.num { (kr(s.remaining)) }
                    }
                } }
            } }
        }
    };
    view::page(&who, "/console", "Overview", flash, body).into_response()
}

fn human_secs(s: i64) -> String {
    match s {
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Payments nobody could match, bank files, and the upload.
pub async fn payments(
    State(c): State<Console>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("format").map(String::as_str) == Some("bank-files-csv") && who.is_agency() {
        let path = "/bank--files?sort=-_created&projection=%7B%22payments%22%3A0%7D";
        return export::csv(&who.api(&c), path, "bank-files", BANK_FILE_COLUMNS).await;
    }
    if q.get("format").map(String::as_str) == Some("csv") && who.is_agency() {
        let path = format!(
            "/payments--unmatched?where={}&sort=-payment_date",
            enc(r#"{"status":"unmatched"}"#)
        );
        return export::csv(&who.api(&c), &path, "unmatched-payments", PAYMENT_COLUMNS).await;
    }
    let flash = q.get("done").map(|d| Flash::Done(d.clone()));
    render_payments(&c, &who, flash, None).await
}

const PAYMENT_COLUMNS: &[export::Col] = &[
    export::Col::text("payment", "/_id"),
    export::Col::time("paid", "/payment_date"),
    export::Col::text("payer", "/payer_name"),
    export::Col::text("payer_bankgiro", "/payer_bankgiro"),
    export::Col::text("reference", "/reference"),
    export::Col::kronor("amount_kr", "/amount"),
    export::Col::text("reason", "/reason"),
    export::Col::text("bank_file", "/bank_file"),
];

const PAYOUT_COLUMNS: &[export::Col] = &[
    export::Col::text("payout", "/_id"),
    export::Col::time("created", "/_created"),
    export::Col::time("payout_date", "/payout_date"),
    export::Col::text("creditor", "/creditor_name"),
    export::Col::text("payout_reference", "/payout_reference"),
    export::Col::text("status", "/status"),
    export::Col::text("lines", "/line_count"),
    export::Col::kronor("amount_kr", "/amount"),
    export::Col::kronor("vat_kr", "/vat_amount"),
    export::Col::kronor("total_kr", "/total_amount"),
];

async fn render_payments(
    c: &Console,
    who: &Signed,
    flash: Option<Flash>,
    report: Option<Value>,
) -> Response {
    if !who.is_agency() {
        return refused(
            StatusCode::FORBIDDEN,
            "Bank files and unmatched payments are the agency's; ask an agency operator.",
        );
    }
    let api = who.api(c);
    let unmatched = api
        .list(&format!(
            "/payments--unmatched?where={}&sort=-payment_date&max_results=100",
            enc(r#"{"status":"unmatched"}"#)
        ))
        .await;
    let files = api
        .list(&format!(
            "/bank--files?sort=-_created&max_results=20&projection={}",
            enc(r#"{"payments":0}"#)
        ))
        .await;
    let (unmatched, files) = match (unmatched, files) {
        (Ok(u), Ok(f)) => (u.0, f.0),
        (Err(p), _) | (_, Err(p)) => return internal(p.message),
    };
    let body = html! {
        @if let Some(r) = &report { (import_report(r)) }
        div.card {
            h2 { "Import a bank file" }
            p.muted { "A Bankgirot BgMax file. Payments whose OCR reference names a case are put on it; the rest wait below. The same file imported twice adds nothing." }
            form.clock method="post" action="/console/bank-files" enctype="multipart/form-data" {
                (view::csrf(who))
                input type="file" name="file" required accept=".txt,.bgmax,text/plain";
                button type="submit" { "Import" }
            }
        }
        h2 { "Unmatched payments" }
        @if !unmatched.is_empty() {
            p.muted { a.csv href="/console/payments?format=csv" download { "Download CSV" } }
        }
        @if unmatched.is_empty() {
            (view::empty("Every payment is on its case. Nothing to match."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Paid" } th { "Payer" } th { "Reference" } th.num { "Amount" } th { "Why" } th { "Match to case" } } }
                tbody { @for p in &unmatched {
                    tr {
                        td { (when(p.get("payment_date"))) }
                        td { (str_of(p, "payer_name")) br; span.muted { "bg " (str_of(p, "payer_bankgiro")) } }
                        td {
                            code { (str_of(p, "reference")) }
                            @for r in p.get("references").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                                br; code { (r) }
                            }
                        }
                        td.num { (kr_json(p.get("amount"))) }
                        td { (label(str_of(p, "reason").rsplit('.').next().unwrap_or(""))) }
                        td {
                            @if view::ore(p.get("amount")) < 0 {
                                span.muted { "A deduction: follow it up with the bank" }
                            } @else {
                            form.inline method="post" action={ "/console/payments/" (str_of(p, "_id")) "/match" } {
                                (view::csrf(who))
                                input name="reference" placeholder="OCR number, invoice number or case id" required;
                                " "
                                button type="submit" { "Match" }
                            }
                            }
                        }
                    }
                } }
            } }
        }
        h2 { "Bank files" }
        @if files.is_empty() {
            (view::empty("No bank file imported yet."))
        } @else {
            p.muted { a.csv href="/console/payments?format=bank-files-csv" download { "Download CSV" } }
            div.table-wrap { table {
                thead { tr { th { "Imported" } th { "File" } th.num { "Payments" } th.num { "Matched" } th.num { "Unmatched" } th.num { "Deposited" } } }
                tbody { @for f in &files {
                    tr {
                        td { (when(f.get("_created"))) }
                        td { (str_of(f, "name")) @if f.get("test").and_then(Value::as_bool) == Some(true) { " " (badge("test")) } }
                        td.num { (f.get("payment_count").and_then(Value::as_i64).unwrap_or(0)) }
                        td.num { (f.get("matched_count").and_then(Value::as_i64).unwrap_or(0)) }
                        td.num { (f.get("unmatched_count").and_then(Value::as_i64).unwrap_or(0)) }
                        td.num { (kr_json(f.get("deposit_amount"))) }
                    }
                } }
            } }
        }
    };
    view::page(who, "/console/payments", "Payments", flash, body).into_response()
}

fn import_report(r: &Value) -> maud::Markup {
    let payments: Vec<&Value> = r
        .get("payments")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    html! {
        div.card {
            h2 { "Import report: " (str_of(r, "name")) }
            @if r.get("_already_imported").and_then(Value::as_bool) == Some(true) {
                p { (badge("duplicate")) " This file was imported before; nothing was added." }
            }
            dl.facts {
                dt { "Payments" } dd { (r.get("payment_count").and_then(Value::as_i64).unwrap_or(0)) }
                dt { "Put on cases" } dd { (r.get("matched_count").and_then(Value::as_i64).unwrap_or(0)) " · " (kr_json(r.get("settled_amount"))) }
                dt { "Unmatched" } dd { (r.get("unmatched_count").and_then(Value::as_i64).unwrap_or(0)) " · " (kr_json(r.get("unmatched_amount"))) }
                dt { "Deductions" } dd { (r.get("deduction_count").and_then(Value::as_i64).unwrap_or(0)) " · " (kr_json(r.get("deduction_amount"))) }
                dt { "Imported before" } dd { (r.get("duplicate_count").and_then(Value::as_i64).unwrap_or(0)) " · " (kr_json(r.get("duplicate_amount"))) }
                dt { "Deposited" } dd { (kr_json(r.get("deposit_amount"))) " (= put on cases + unmatched + imported before)" }
            }
            @if !payments.is_empty() {
                div.table-wrap { table {
                    thead { tr { th { "Line" } th { "Reference" } th.num { "Amount" } th.num { "Deducted" } th { "Outcome" } th { "Case" } } }
                    tbody { @for p in payments {
                        tr {
                            td { (p.get("line").and_then(Value::as_i64).unwrap_or(0)) }
                            td {
                                code { (str_of(p, "reference")) }
                                @for part in p.get("parts").and_then(Value::as_array).into_iter().flatten() {
                                    br; code { (str_of(part, "reference")) } " " (kr_json(part.get("amount")))
                                }
                            }
                            td.num { (kr_json(p.get("amount"))) }
                            td.num { (kr_json(p.get("deducted_amount"))) }
                            td { (badge(str_of(p, "outcome"))) }
                            td { @if let Some(case) = p.get("case").and_then(Value::as_str) { a href={ "/console/cases/" (case) } { "Open case" } } }
                        }
                    } }
                } }
            }
        }
    }
}

pub async fn upload_bank_file(
    State(c): State<Console>,
    who: Signed,
    mut form: Multipart,
) -> Response {
    let mut csrf = None;
    let mut file = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let filename = field.file_name().unwrap_or("bank-file.txt").to_string();
                match field.bytes().await {
                    Ok(bytes) if name == "_csrf" => {
                        csrf = Some(String::from_utf8_lossy(&bytes).to_string())
                    }
                    Ok(bytes) if name == "file" => file = Some((filename, bytes.to_vec())),
                    Ok(_) => {}
                    Err(e) => return refused(StatusCode::BAD_REQUEST, &e.body_text()),
                }
            }
            Ok(None) => break,
            Err(e) => return refused(StatusCode::BAD_REQUEST, &e.body_text()),
        }
    }
    if let Some(r) = who.csrf_refusal(csrf.as_deref()) {
        return r;
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return render_payments(
            &c,
            &who,
            Some(Flash::Problem(
                "Choose a bank file to import.".into(),
                vec![],
            )),
            None,
        )
        .await;
    };
    let Some(actor) = who.agency_actor() else {
        return refused(
            StatusCode::FORBIDDEN,
            "Bank files are the agency's; ask an agency operator.",
        );
    };
    match bank::import(&c.app, &actor, &name, &bytes).await {
        Ok(imported) => {
            let mut report = serde_json::to_value(&imported.file).unwrap_or_default();
            report["_already_imported"] = json!(imported.already_imported);
            render_payments(
                &c,
                &who,
                Some(Flash::Done("The bank file is imported.".into())),
                Some(report),
            )
            .await
        }
        Err(e) => {
            let p = super::cases::refusal(&e);
            let mut r = render_payments(&c, &who, Some(p.flash()), None).await;
            *r.status_mut() =
                StatusCode::from_u16(p.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            r
        }
    }
}

pub async fn match_payment(
    State(c): State<Console>,
    Path(id): Path<String>,
    Posted { who, form: f }: Posted,
) -> Response {
    let api = who.api(&c);
    let reference = f.get("reference").map(|s| s.trim()).unwrap_or("");
    // A case id, an OCR reference or an invoice number, whichever finds one case.
    let case = if ObjectId::parse(reference).is_ok() {
        Some(reference.to_string())
    } else {
        let mut found = super::cases::cases_by_ocr(&api, reference).await;
        if found.is_empty() {
            let w = json!({"debt.invoice_number": reference});
            found = api
                .list(&format!(
                    "/cases?where={}&max_results=2",
                    enc(&w.to_string())
                ))
                .await
                .map(|(items, _)| items.iter().map(|c| str_of(c, "_id").to_string()).collect())
                .unwrap_or_default();
        }
        if found.len() > 1 {
            return render_payments(
                &c,
                &who,
                Some(Flash::Problem(
                    format!("More than one case has the reference {reference}; give the case id."),
                    vec![],
                )),
                None,
            )
            .await;
        }
        found.pop()
    };
    let Some(case) = case else {
        let mut r = render_payments(
            &c,
            &who,
            Some(Flash::Problem(
                format!("No case has the reference {reference}."),
                vec![],
            )),
            None,
        )
        .await;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    let Some(actor) = who.agency_actor() else {
        return refused(
            StatusCode::FORBIDDEN,
            "Matching payments is the agency's; ask an agency operator.",
        );
    };
    let (Ok(payment), Ok(case_id)) = (ObjectId::parse(&id), ObjectId::parse(&case)) else {
        return refused(StatusCode::NOT_FOUND, "There is no such payment or case.");
    };
    match bank::match_payment(&c.app, &actor, &payment, &case_id).await {
        Ok(_) => Redirect::to(&format!("/console/cases/{case}?done=payment")).into_response(),
        Err(e) => {
            let p = super::cases::refusal(&e);
            let mut r = render_payments(&c, &who, Some(p.flash()), None).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

pub async fn payouts(
    State(c): State<Console>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let api = who.api(&c);
    if q.get("format").map(String::as_str) == Some("csv") {
        return export::csv(
            &api,
            "/finance--payouts?sort=-_created",
            "payouts",
            PAYOUT_COLUMNS,
        )
        .await;
    }
    let page: i64 = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (items, total) = match api
        .list(&format!(
            "/finance--payouts?sort=-_created&max_results=25&page={page}"
        ))
        .await
    {
        Ok(l) => l,
        Err(p) => return internal(p.message),
    };
    let unpaid = api
        .list(&format!(
            "/finance--payout-specifications?where={}&max_results=1",
            enc(r#"{"payout":{"$exists":false}}"#)
        ))
        .await
        .map(|(_, n)| n)
        .unwrap_or(0);
    let flash = match q.get("done").map(String::as_str) {
        Some("0") => Some(Flash::Done(
            "The payout run found nothing to pay out.".into(),
        )),
        Some(n) => Some(Flash::Done(format!("The payout run made {n} payout(s)."))),
        None if q.contains_key("unconfirmed") => Some(Flash::Problem(
            "Type PAY to confirm the payout run; nothing was paid out.".into(),
            vec![],
        )),
        None => None,
    };
    let body = html! {
        div.card {
            p { (unpaid) " specification line(s) wait for a payout." }
            @if who.is_agency() {
                form.inline method="post" action="/console/payouts/run" {
                    (view::csrf(&who))
                    label { "Type PAY to pay out " (unpaid) " line(s)" input name="confirm" required pattern="PAY" autocomplete="off"; }
                    button.danger type="submit" { "Run payouts now" }
                }
                p.muted { "Pays every creditor its unpaid lines up to today, one payout per creditor, as " code { "indriva finance payout-run" } " does. Scheduled runs happen by themselves." }
            }
        }
        @if items.is_empty() {
            (view::empty("No payouts yet. They are made when cases settle and a payout run pays the lines."))
        } @else {
            p.muted { (total) " payout(s). " a.csv href="/console/payouts?format=csv" download { "Download CSV" } }
            div.table-wrap { table {
                thead { tr { th { "Date" } th { "Creditor" } th { "Reference" } th.num { "Lines" } th.num { "Total" } th { "Status" } } }
                tbody { @for p in &items {
                    tr {
                        td { a href={ "/console/payouts/" (str_of(p, "_id")) } { (when(p.get("payout_date"))) } }
                        td { (str_of(p, "creditor_name")) }
                        td { code { (str_of(p, "payout_reference")) } }
                        td.num { (p.get("line_count").and_then(Value::as_i64).unwrap_or(0)) }
                        td.num { (kr_json(p.get("total_amount"))) }
                        td { (badge(str_of(p, "status"))) }
                    }
                } }
            } }
            (view::pager("/console/payouts", page, total, 25))
        }
    };
    view::page(&who, "/console/payouts", "Payouts", flash, body).into_response()
}

const SPECIFICATION_COLUMNS: &[export::Col] = &[
    export::Col::text("line", "/_id"),
    export::Col::time("booked", "/booking_date"),
    export::Col::text("case", "/case"),
    export::Col::text("invoice_number", "/invoice_number"),
    export::Col::text("case_reference", "/reference_number"),
    export::Col::text("category", "/finance_category"),
    export::Col::text("article", "/article"),
    export::Col::kronor("amount_kr", "/amount"),
    export::Col::kronor("vat_kr", "/vat_amount"),
    export::Col::kronor("total_kr", "/total_amount"),
    export::Col::text("payout_reference", "/payout_reference"),
];

const BANK_FILE_COLUMNS: &[export::Col] = &[
    export::Col::text("bank_file", "/_id"),
    export::Col::time("imported", "/_created"),
    export::Col::text("file", "/name"),
    export::Col::text("payee_bankgiro", "/payee_bankgiro"),
    export::Col::text("payments", "/payment_count"),
    export::Col::text("matched", "/matched_count"),
    export::Col::text("unmatched", "/unmatched_count"),
    export::Col::text("duplicates", "/duplicate_count"),
    export::Col::kronor("deposited_kr", "/deposit_amount"),
    export::Col::kronor("settled_kr", "/settled_amount"),
    export::Col::kronor("unmatched_kr", "/unmatched_amount"),
];

pub async fn payout(
    State(c): State<Console>,
    who: Signed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let api = who.api(&c);
    if q.get("format").map(String::as_str) == Some("csv") {
        let path = format!(
            "/finance--payout-specifications?where={}&sort=booking_date",
            enc(&json!({"payout": id}).to_string())
        );
        return export::csv(&api, &path, &format!("payout-{id}"), SPECIFICATION_COLUMNS).await;
    }
    let p = match api
        .item(&format!("/finance--payouts/{}", enc(&id)), "payout")
        .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lines = api
        .items(&format!(
            "/finance--payout-specifications?where={}&max_results=500&sort=booking_date",
            enc(&json!({"payout": id}).to_string())
        ))
        .await;
    let body = html! {
        div.grid {
            div.stat { div.l { "Creditor" } div.n { (str_of(&p, "creditor_name")) } }
            div.stat { div.l { "Paid out" } div.n { (when(p.get("payout_date"))) } }
            div.stat { div.l { "Total" } div.n { (kr_json(p.get("total_amount"))) } }
            div.stat { div.l { "Reference" } div.n { code { (str_of(&p, "payout_reference")) } } }
        }
        h2 { "Summary" }
        div.table-wrap { table {
            thead { tr { th { "Category" } th { "Article" } th.num { "Lines" } th.num { "Amount" } th.num { "VAT" } th.num { "Total" } } }
            tbody { @for s in p.get("summary").and_then(Value::as_array).into_iter().flatten() {
                tr {
                    td { (label(str_of(s, "finance_category"))) }
                    td { (str_of(s, "article")) }
                    td.num { (s.get("count").and_then(Value::as_i64).unwrap_or(0)) }
                    td.num { (kr_json(s.get("amount"))) }
                    td.num { (kr_json(s.get("vat_amount"))) }
                    td.num { (kr_json(s.get("total_amount"))) }
                }
            } }
        } }
        h2 { "Specification" }
        p.muted { (lines.len()) " line(s). " a.csv href={ "/console/payouts/" (id) "?format=csv" } download { "Download CSV" } }
        div.table-wrap { table {
            thead { tr { th { "Booked" } th { "Invoice" } th { "Category" } th.num { "Amount" } th.num { "VAT" } th.num { "Total" } } }
            tbody { @for l in &lines {
                tr {
                    td { (when(l.get("booking_date"))) }
                    td { a href={ "/console/cases/" (str_of(l, "case")) } { (str_of(l, "invoice_number")) } }
                    td { (label(str_of(l, "finance_category"))) }
                    td.num { (kr_json(l.get("amount"))) }
                    td.num { (kr_json(l.get("vat_amount"))) }
                    td.num { (kr_json(l.get("total_amount"))) }
                }
            } }
        } }
    };
    let title = format!("Payout {}", str_of(&p, "payout_reference"));
    view::page(&who, "/console/payouts", &title, None, body).into_response()
}

pub async fn payout_run(State(c): State<Console>, Posted { who, form }: Posted) -> Response {
    let Some(actor) = who.agency_actor() else {
        return refused(
            StatusCode::FORBIDDEN,
            "Payout runs are the agency's; ask an agency operator.",
        );
    };
    // Money leaves the agency: the operator types PAY (the form says how many lines).
    if form.get("confirm").map(|c| c.trim()) != Some("PAY") {
        return Redirect::to("/console/payouts?unconfirmed=1").into_response();
    }
    match payout_run::run(&c.app, &actor, payout_run::Run::All).await {
        Ok(made) => Redirect::to(&format!("/console/payouts?done={}", made.len())).into_response(),
        Err(e) => internal(e),
    }
}
