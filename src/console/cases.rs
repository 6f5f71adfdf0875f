//! Cases: search, the case page (timeline, ledger, letters, forecast, actions) and
//! registering a case.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::call::{enc, Api, Problem};
use super::export;
use super::view::{self, badge, kr, kr_json, label, ore, str_of, when, Flash};
use super::{refused, Console, Posted, Signed};
use crate::actions::creditor_action::{self, Kind};
use crate::actions::{hold, notes, register as registration, respite, ActionError, CaseRef};
use crate::domain::apply::Hold;
use crate::domain::case::CaseState;
use crate::domain::party::Address;
use crate::domain::registration::{
    CaseRegistration, FirstAction, RegisteredCustomer, RegisteredDebt,
};
use crate::domain::{HttpDate, Money, ObjectId};

const PER_PAGE: i64 = 25;

/// Case statuses as on the wire.
const STATUSES: &[&str] = &[
    "initializing",
    "initialized",
    "invoice",
    "reminder",
    "reminder_sent",
    "debt_collection",
    "debt_collection_active",
    "enforcement",
    "enforcement_active",
    "debt_surveillance",
    "amortization",
    "dispute",
    "estate",
    "bankruptcy_estate",
    "closed",
];

/// The search form's fields (all optional).
pub type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The Eve `where` for the search form.
fn search_where(f: &Fields, today: chrono::NaiveDate) -> Map<String, Value> {
    let mut w = Map::new();
    if let Some(c) = field(f, "creditor") {
        w.insert("creditor".into(), json!(c));
    }
    if let Some(s) = field(f, "state") {
        w.insert("state".into(), json!(s));
    }
    match field(f, "status") {
        Some("open") => {
            w.insert("closed".into(), json!({"$exists": false}));
        }
        Some(s) => {
            w.insert("status".into(), json!(s));
        }
        None => {}
    }
    if let Some(n) = field(f, "invoice") {
        w.insert("debt.invoice_number".into(), json!(n));
    }
    if let Some(n) = field(f, "id_number") {
        let canonical = crate::domain::identity::parse_id_number(n, today)
            .map(|id| id.canonical)
            .unwrap_or_else(|_| n.chars().filter(char::is_ascii_digit).collect());
        w.insert("customer_id_number".into(), json!(canonical));
    }
    if let Some(n) = field(f, "name") {
        w.insert(
            "$or".into(),
            json!([{"customer_name": n}, {"debtor_name": n}]),
        );
    }
    if let Some(d) = field(f, "closed_since") {
        if let Ok(day) = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            w.insert(
                "closed.close_date".into(),
                json!({"$gte": HttpDate::midnight(day).to_string()}),
            );
        }
    }
    w
}

const SORTS: &[(&str, &str, &str)] = &[
    // Ids carry their creation time, and every case is indexed by id: newest first without
    // sorting the whole table (an agency operator's search spans every account).
    ("newest", "Newest first", "-_id"),
    ("oldest", "Oldest first", "_id"),
    ("updated", "Recently changed", "-_updated"),
    ("state", "State", "state,-_created"),
    (
        "amount",
        "Largest remaining",
        "-total_remaining_transaction_amount",
    ),
];

/// The columns of the cases CSV.
const CASE_COLUMNS: &[export::Col] = &[
    export::Col::text("case", "/_id"),
    export::Col::text("invoice_number", "/debt/invoice_number"),
    export::Col::text("case_reference", "/reference_number"),
    export::Col::text("debtor", "/customer_name"),
    export::Col::text("identity_number", "/customer_id_number"),
    export::Col::text("creditor", "/creditor_name"),
    export::Col::text("state", "/state"),
    export::Col::text("status", "/status"),
    export::Col::kronor("remaining_kr", "/total_remaining_transaction_amount"),
    export::Col::kronor("capital_remaining_kr", "/total_remaining_capital_amount"),
    export::Col::time("registered", "/_created"),
    export::Col::text("next_step", "/next_flow_item/item"),
    export::Col::time("next_step_due", "/next_flow_item/schedule_to_execute"),
    export::Col::time("closed", "/closed/close_date"),
    export::Col::text("close_reason", "/closed/reason"),
];

/// The cases an OCR number (any notation) was issued for, from their registrations.
pub async fn cases_by_ocr(api: &Api, ocr: &str) -> Vec<String> {
    let digits: String = ocr.chars().filter(char::is_ascii_digit).collect();
    let Ok((regs, _)) = api
        .list(&format!(
            "/case--registrations?where={}&max_results=10",
            enc(&json!({"_ocr_numbers_ocr": digits}).to_string())
        ))
        .await
    else {
        return vec![];
    };
    let mut cases = vec![];
    for r in &regs {
        let ocrs = r.get("_ocr_numbers_ocr").and_then(Value::as_array);
        let ids = r.get("_cases").and_then(Value::as_array);
        if let (Some(ocrs), Some(ids)) = (ocrs, ids) {
            for (o, id) in ocrs.iter().zip(ids) {
                if o.as_str() == Some(digits.as_str()) {
                    cases.extend(id.as_str().map(str::to_string));
                }
            }
        }
    }
    cases
}

/// The header's search box: one text that may be an invoice number, an OCR number, an
/// identity number in any notation (`19121212-1212`, `121212-1212`, `5560269986`) or part
/// of the debtor's name (any case; the debtors found, up to 100, by their identity numbers).
/// The cases matching any of them.
async fn quick_search(api: &Api, q: &str, today: chrono::NaiveDate) -> Vec<Value> {
    // Every branch is on an indexed column, so the search stays quick over a million cases.
    let mut any = vec![json!({"debt.invoice_number": q})];
    if let Ok(id) = crate::domain::identity::parse_id_number(q, today) {
        any.push(json!({"customer_id_number": id.canonical}));
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 2
        && q.chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        let cases = cases_by_ocr(api, &digits).await;
        if !cases.is_empty() {
            any.push(json!({"_id": {"$in": cases}}));
        }
    }
    if q.chars().any(char::is_alphabetic) {
        let id_numbers: Vec<Value> = api
            .items(&format!(
                "/customers?name={}&max_results=100&projection={}",
                enc(q),
                enc(r#"{"id_number":1}"#)
            ))
            .await
            .iter()
            .filter_map(|c| c.get("id_number").cloned())
            .collect();
        if !id_numbers.is_empty() {
            any.push(json!({"customer_id_number": {"$in": id_numbers}}));
        }
    }
    any
}

/// The OCR number of a case, from its registration.
async fn ocr_of(api: &Api, case: &Value) -> String {
    let id = str_of(case, "_id");
    let Ok(r) = api
        .get(&format!(
            "/case--registrations/{}",
            enc(str_of(case, "case_registration"))
        ))
        .await
    else {
        return String::new();
    };
    let ocrs = r.get("_ocr_numbers_ocr").and_then(Value::as_array);
    let ids = r.get("_cases").and_then(Value::as_array);
    ocrs.zip(ids)
        .and_then(|(ocrs, ids)| {
            ids.iter()
                .position(|c| c.as_str() == Some(id))
                .and_then(|i| ocrs.get(i))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// Creditors the operator can see: (id, name).
pub async fn creditor_names(api: &Api) -> Vec<(String, String)> {
    api.list("/creditors?max_results=500&sort=name")
        .await
        .map(|(items, _)| {
            items
                .iter()
                .map(|c| (str_of(c, "_id").to_string(), str_of(c, "name").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

pub async fn search(State(c): State<Console>, who: Signed, Query(f): Query<Fields>) -> Response {
    let api = who.api(&c);
    let today = c.app.clocks.real().date();
    let mut w = search_where(&f, today);
    if let Some(n) = field(&f, "ocr") {
        w.insert("_id".into(), json!({"$in": cases_by_ocr(&api, n).await}));
    }
    if let Some(q) = field(&f, "q") {
        let any = quick_search(&api, q, today).await;
        w = Map::from_iter([("$and".to_string(), json!([Value::Object(w), {"$or": any}]))]);
    }
    let sort_key = field(&f, "sort").unwrap_or("newest");
    let sort = SORTS
        .iter()
        .find(|(k, _, _)| *k == sort_key)
        .map(|s| s.2)
        .unwrap_or("-_id");
    if field(&f, "format") == Some("csv") {
        let path = format!(
            "/cases?where={}&sort={}&projection={}",
            enc(&Value::Object(w).to_string()),
            enc(sort),
            enc(
                r#"{"debt":1,"customer_name":1,"customer_id_number":1,"creditor_name":1,"state":1,"status":1,"total_remaining_transaction_amount":1,"total_remaining_capital_amount":1,"reference_number":1,"closed":1,"_created":1,"next_flow_item":1}"#
            )
        );
        return export::csv(&api, &path, "cases", CASE_COLUMNS).await;
    }
    let page: i64 = field(&f, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let path = format!(
        "/cases?where={}&sort={}&max_results={PER_PAGE}&page={page}&projection={}",
        enc(&Value::Object(w).to_string()),
        enc(sort),
        enc(
            r#"{"debt":1,"customer_name":1,"customer_id_number":1,"creditor_name":1,"state":1,"status":1,"total_remaining_transaction_amount":1,"reference_number":1,"closed":1,"_created":1}"#
        )
    );
    let creditors = creditor_names(&api).await;
    let (rows, flash) = match api.list(&path).await {
        Ok(found) => (Some(found), None),
        Err(p) => (None, Some(p.flash())),
    };
    let mut base: Vec<(String, String)> = f
        .iter()
        .filter(|(k, v)| k.as_str() != "page" && k.as_str() != "format" && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    base.sort();
    let base = format!(
        "/console/cases?{}",
        base.iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    );
    let sel = |name: &str, value: &str| field(&f, name) == Some(value);
    let body = html! {
        form.filters method="get" action="/console/cases" {
            label { "Creditor"
                select name="creditor" {
                    option value="" { "All" }
                    @for (id, name) in &creditors { option value=(id) selected[sel("creditor", id)] { (name) } }
                }
            }
            label { "State"
                select name="state" {
                    option value="" { "Any" }
                    @for s in CaseState::ALL { @let s = s.as_str(); option value=(s) selected[sel("state", &s)] { (label(&s)) } }
                }
            }
            label { "Status"
                select name="status" {
                    option value="" { "Any" }
                    option value="open" selected[sel("status", "open")] { "Open (not closed)" }
                    @for s in STATUSES { option value=(s) selected[sel("status", s)] { (label(s)) } }
                }
            }
            @if let Some(q) = field(&f, "q") { input type="hidden" name="q" value=(q); }
            label { "Invoice number" input name="invoice" value=(field(&f, "invoice").unwrap_or("")); }
            label { "OCR number" input name="ocr" inputmode="numeric" value=(field(&f, "ocr").unwrap_or("")); }
            label { "Identity number" input name="id_number" value=(field(&f, "id_number").unwrap_or("")); }
            label { "Name (exact)" input name="name" value=(field(&f, "name").unwrap_or("")); }
            label { "Closed since" input type="date" name="closed_since" value=(field(&f, "closed_since").unwrap_or("")); }
            label { "Sort"
                select name="sort" {
                    @for (k, l, _) in SORTS { option value=(k) selected[*k == sort_key] { (l) } }
                }
            }
            button type="submit" { "Search" }
        }
        @match rows {
            Some((items, total)) => {
                @if items.is_empty() {
                    (view::empty("No case matches. Loosen the filters, or register a case under Register."))
                } @else {
                    p.muted {
                        (total) " case(s). "
                        a.csv href={ (base) "&format=csv" } download { "Download CSV" }
                        @if total > export::MAX_ROWS { " (the first " (export::MAX_ROWS) ")" }
                    }
                    div.table-wrap { table {
                        thead { tr {
                            th { "Invoice" } th { "Debtor" } th.hide-narrow { "Creditor" }
                            th { "State" } th.hide-narrow { "Reference" } th.num { "Remaining" } th.hide-narrow { "Registered" }
                        } }
                        tbody {
                            @for case in &items {
                                tr {
                                    td { a href={ "/console/cases/" (str_of(case, "_id")) } {
                                        (case.pointer("/debt/invoice_number").and_then(Value::as_str).unwrap_or("—"))
                                    } }
                                    td { (str_of(case, "customer_name")) br; span.muted { (str_of(case, "customer_id_number")) } }
                                    td.hide-narrow { (str_of(case, "creditor_name")) }
                                    td { (badge(str_of(case, "state"))) " "
                                        @if case.get("closed").is_some() { (badge("closed")) } }
                                    td.hide-narrow { code { (str_of(case, "reference_number")) } }
                                    td.num { (kr_json(case.get("total_remaining_transaction_amount"))) }
                                    td.hide-narrow { (when(case.get("_created"))) }
                                }
                            }
                        }
                    } }
                    (view::pager(&base, page, total, PER_PAGE))
                }
            }
            None => {}
        }
    };
    view::page(&who, "/console/cases", "Cases", flash, body).into_response()
}

/// What an action form sends.
pub type ActionForm = HashMap<String, String>;

pub async fn case_page(
    State(c): State<Console>,
    who: Signed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let flash = q.get("done").map(|done| Flash::Done(done_text(done)));
    render_case(&c, &who, &id, flash).await
}

fn done_text(action: &str) -> String {
    match action {
        "payment" => "The payment is registered.",
        "crediting" => "The crediting is registered.",
        "cancellation" => "The case is cancelled.",
        "respite" => "The respite is given.",
        "dispute" => "The case is on hold as disputed.",
        "resolve" => "The dispute is resolved; the case continues.",
        "clock" => "The sandbox clock moved; due flow items ran.",
        "registered" => "The case is registered.",
        "note" => "The note is added.",
        _ => "Done.",
    }
    .to_string()
}

/// The case page, with a message on top (the answer to an action).
async fn render_case(c: &Console, who: &Signed, id: &str, flash: Option<Flash>) -> Response {
    let api = who.api(c);
    let case = match api.item(&format!("/cases/{}", enc(id)), "case").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let account = ObjectId::parse(str_of(&case, "account")).ok();
    let own = account.and_then(|a| who.api_in(c, &a));
    let forecast = api.get(&format!("/cases/{}/forecast", enc(id))).await.ok();
    let letters = api
        .items(&format!(
            "/case--letters?where={}&sort=sent_date&max_results=100",
            enc(&json!({"case": id}).to_string())
        ))
        .await;
    let ocr = ocr_of(&api, &case).await;
    // Notes are read with the operator's own scope, like the case.
    let case_notes = match (ObjectId::parse(id), account.and_then(|a| who.actor_in(&a))) {
        (Ok(case_id), Some(actor)) => notes::list(&c.app, &actor, case_id)
            .await
            .unwrap_or_default(),
        _ => vec![],
    };
    let clock = match &own {
        Some(api) => api.get("/sandbox/clock").await.ok(),
        None => None,
    };
    let body = case_body(
        who,
        &case,
        &ocr,
        forecast.as_ref(),
        &letters,
        clock.as_ref(),
        &case_notes,
    );
    let title = format!(
        "Case {}",
        case.pointer("/debt/invoice_number")
            .and_then(Value::as_str)
            .unwrap_or(id)
    );
    view::page(who, "/console/cases", &title, flash, body).into_response()
}

/// A timeline entry: (time, kind, text).
fn timeline(case: &Value, letters: &[Value]) -> Vec<(i64, &'static str, String)> {
    let t = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|s| HttpDate::parse_lenient(s).ok())
            .map(|d| d.unix())
            .unwrap_or(0)
    };
    let mut out = vec![(t(case.get("_created")), "state", "Registered".to_string())];
    for s in case
        .get("state_history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push((
            t(s.get("state_date")),
            "state",
            format!("State: {}", label(str_of(s, "state"))),
        ));
    }
    for l in letters {
        out.push((
            t(l.get("sent_date")),
            "letter",
            format!(
                "Letter sent: {} ({}, pay by {})",
                label(str_of(l, "type")),
                kr_json(l.get("total")),
                when(l.get("pay_by"))
            ),
        ));
    }
    for tr in case
        .get("transactions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let amount = ore(tr.get("amount"));
        if amount < 0 && str_of(tr, "origin") != "solicitor_system" {
            out.push((
                t(tr.get("registration_date")),
                "payment",
                format!(
                    "Payment {} on {} ({})",
                    kr(-amount),
                    label(str_of(tr, "type")),
                    label(str_of(tr, "origin"))
                ),
            ));
        }
    }
    if let Some(closed) = case.get("closed") {
        out.push((
            t(closed.get("close_date")),
            "state",
            format!("Closed: {}", label(str_of(closed, "reason"))),
        ));
    }
    out.sort_by_key(|e| e.0);
    out
}

fn case_body(
    who: &Signed,
    case: &Value,
    ocr: &str,
    forecast: Option<&Value>,
    letters: &[Value],
    clock: Option<&Value>,
    case_notes: &[notes::CaseNote],
) -> Markup {
    let id = str_of(case, "_id");
    let open = case.get("closed").is_none();
    let status = str_of(case, "status");
    let next = case.get("next_flow_item");
    let transactions: Vec<&Value> = case
        .get("transactions")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let today = clock
        .and_then(|c| c.get("now"))
        .and_then(Value::as_str)
        .and_then(|s| HttpDate::parse_lenient(s).ok())
        .map(|d| d.date().format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let balances: Vec<i64> = transactions
        .iter()
        .scan(0i64, |running, t| {
            *running += ore(t.get("amount"));
            Some(*running)
        })
        .collect();
    html! {
        div.grid {
            div.stat { div.l { "State" } div.n { (badge(str_of(case, "state"))) " " @if !open { (badge("closed")) } } }
            div.stat { div.l { "Remaining" } div.n { (kr_json(case.get("total_remaining_transaction_amount"))) } }
            div.stat { div.l { "Capital remaining" } div.n { (kr_json(case.get("total_remaining_capital_amount"))) } }
            div.stat { div.l { "OCR number" } div.n { code #ocr { (ocr) } } }
        }
        @if let Some(c) = clock {
            div.card {
                form.clock method="post" action="/console/clock" {
                    (view::csrf(who))
                    input type="hidden" name="account" value=(str_of(case, "account"));
                    input type="hidden" name="back" value={ "/console/cases/" (id) };
                    span.now { "Sandbox clock: " (when(c.get("now"))) }
                    button.secondary type="submit" name="days" value="1" { "+1 day" }
                    button.secondary type="submit" name="days" value="7" { "+7 days" }
                    button.secondary type="submit" name="days" value="30" { "+30 days" }
                    @if let Some(at) = next.and_then(|n| n.get("schedule_to_execute")).and_then(Value::as_str) {
                        input type="hidden" name="next_at" value=(at);
                        button type="submit" name="days" value="next" { "To the next flow item" }
                    }
                }
            }
        }
        div.grid2 {
            div.card {
                h2 { "Case" }
                dl.facts {
                    dt { "Debtor" }
                    dd {
                        (str_of(case, "customer_name")) " · " (str_of(case, "customer_id_number"))
                        @if !str_of(case, "customer_id_number").is_empty() {
                            " · " a href={ "/console/cases?id_number=" (enc(str_of(case, "customer_id_number"))) } { "all cases of this debtor" }
                        }
                    }
                    dt { "Creditor" } dd { a href={ "/console/creditors/" (str_of(case, "creditor")) } { (str_of(case, "creditor_name")) } }
                    dt { "Invoice" } dd { (case.pointer("/debt/invoice_number").and_then(Value::as_str).unwrap_or("")) " of " (when(case.pointer("/debt/invoice_date"))) }
                    dt { "Description" } dd { (case.pointer("/debt/debt_description").and_then(Value::as_str).unwrap_or("")) }
                    dt { "Status" } dd { (badge(status)) " since " (when(case.get("status_history").and_then(Value::as_array).and_then(|h| h.last()).and_then(|s| s.get("status_date")))) }
                    dt { "Registered" } dd { (when(case.get("_created"))) }
                    dt { "Case reference" } dd { (str_of(case, "reference_number")) }
                    @if let Some(closed) = case.get("closed") {
                        dt { "Closed" } dd { (when(closed.get("close_date"))) " · " (label(str_of(closed, "reason"))) }
                    }
                    @if let Some(n) = next {
                        dt { "Next flow item" } dd { (label(str_of(n, "item"))) " on " (when(n.get("schedule_to_execute"))) }
                    }
                    @if let Some(k) = case.pointer("/flow_state/kronofogden") {
                        dt { "Kronofogden" }
                        dd {
                            @if str_of(k, "status") == "simulated" {
                                (badge("simulated")) " Application and verdict simulated (sandbox account) from " (when(k.get("since")))
                            } @else {
                                (badge("awaiting filing")) " The flow stopped on " (when(k.get("since"))) ": the application for a payment order must be filed with Kronofogden. No fee is charged and limitation is not interrupted until it is."
                            }
                        }
                    }
                    @if let Some(l) = case.get("limitation") {
                        dt { "Limitation" }
                        dd {
                            (when(l.get("limitation_date"))) " · " (label(str_of(l, "locale_annotation").trim_start_matches("api.log_messages.")))
                            @if case.pointer("/flow_state/limitation_warned").is_some() {
                                " " (badge("limitation_approaching")) " Nothing the flow does interrupts it while the case is held or waits for filing: act before then."
                            }
                        }
                    }
                    @if let Some(d) = case.pointer("/flow_state/demand") {
                        dt { "Last demand" } dd { (kr_json(d.get("amount"))) " by " (when(d.get("pay_by"))) }
                    }
                    @if let Some(inv) = case.get("original_invoice") {
                        dt { "Original invoice" } dd { (str_of(inv, "filename")) }
                    }
                }
            }
            div.card {
                h2 { "Timeline" }
                ol.timeline {
                    @for (at, kind, text) in timeline(case, letters) {
                        li class=(kind) { time { (view::date_time(at)) } (text) }
                    }
                }
            }
        }
        div.card #notes {
            h2 { "Notes" }
            @if case_notes.is_empty() {
                p.muted { "No notes yet. What you write here is kept with the case, with your name and the time, and cannot be changed afterwards." }
            }
            @for n in case_notes {
                div.note {
                    div.muted { time { (view::date_time(n.created)) } " · " (n.author) }
                    p { (n.text) }
                }
            }
            form.note method="post" action={ "/console/cases/" (id) "/note" } {
                (view::csrf(who))
                label { "New note" textarea name="text" rows="3" maxlength=(notes::MAX_CHARS) required {} }
                button type="submit" { "Add note" }
            }
        }
        h2 { "Ledger" }
        @if transactions.is_empty() {
            (view::empty("No ledger lines yet."))
        } @else {
            div.table-wrap { table #ledger {
                thead { tr { th { "Date" } th { "Line" } th.hide-narrow { "Origin" } th.num { "Amount" } th.num { "Balance" } } }
                tbody {
                    @for (t, balance) in transactions.iter().zip(&balances) {
                        @let amount = ore(t.get("amount"));
                        tr {
                            td { (when(t.get("registration_date"))) }
                            td { (label(str_of(t, "type"))) br; span.muted { (view::tag(str_of(t, "description_locale_tag"))) } }
                            td.hide-narrow { (label(str_of(t, "origin"))) }
                            td.num { (kr(amount)) }
                            td.num { (kr(*balance)) }
                        }
                    }
                }
            } }
        }
        h2 { "Letters" }
        @if letters.is_empty() {
            (view::empty("No letter has been sent yet. The flow sends them as the case moves on."))
        } @else {
            div.table-wrap { table #letters {
                thead { tr { th { "Sent" } th { "Letter" } th.num { "Total" } th { "Pay by" } th { "PDF" } } }
                tbody { @for l in letters {
                    tr {
                        td { (when(l.get("sent_date"))) }
                        td { (label(str_of(l, "type"))) }
                        td.num { (kr_json(l.get("total"))) }
                        td { (when(l.get("pay_by"))) }
                        td { @if let Some(url) = l.get("url").and_then(Value::as_str) {
                            a href=(url) target="_blank" rel="noopener" hx-boost="false" { "Open PDF" }
                        } @else { span.muted { (label(str_of(l, "status"))) } } }
                    }
                } }
            } }
        }
        @if let Some(f) = forecast.filter(|_| open) {
            h2 { "Forecast" }
            @let steps: Vec<&Value> = f.get("steps").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
            @if steps.is_empty() {
                (view::empty("Nothing more is planned for this case."))
            } @else {
                div.table-wrap { table #forecast {
                    thead { tr { th { "Date" } th { "Step" } th { "State" } th.num { "Fees" } th.num { "Interest" } th.num { "Total owed" } } }
                    tbody { @for s in steps {
                        tr {
                            td { (when(s.get("date"))) }
                            td { (label(str_of(s, "item"))) @if let Some(l) = s.get("letter").and_then(Value::as_str) { br; span.muted { "letter: " (label(l)) } } }
                            td { (badge(str_of(s, "state"))) }
                            td.num { (kr_json(s.get("fees_added"))) }
                            td.num { (kr_json(s.get("interest"))) }
                            td.num { (kr_json(s.get("total"))) }
                        }
                    } }
                } }
            }
        }
        @if !open {
            h2 { "Actions" }
            (view::empty("The case is closed: nothing more can be done to it."))
        }
        @if open {
            h2 { "Actions" }
            div.actions {
                details open {
                    summary { "Register a payment" }
                    p.muted { "The debtor paid the creditor directly (a creditor payment): it settles capital." }
                    form.stack method="post" action={ "/console/cases/" (id) "/payment" } {
                        (view::csrf(who))
                        label { "Amount (kr)" input name="amount" inputmode="decimal" required placeholder="2000,00"; }
                        label { "Paid on" input type="date" name="date" required value=(today); }
                        label { "Payment reference" input name="reference"; }
                        button type="submit" { "Register payment" }
                    }
                }
                details {
                    summary { "Credit" }
                    form.stack method="post" action={ "/console/cases/" (id) "/crediting" } {
                        (view::csrf(who))
                        label { "Amount (kr)" input name="amount" inputmode="decimal" required; }
                        label { "Reference" input name="reference"; }
                        button type="submit" { "Register crediting" }
                    }
                }
                details {
                    summary { "Give a respite" }
                    form.stack method="post" action={ "/console/cases/" (id) "/respite" } {
                        (view::csrf(who))
                        label { "Days (1–30)" input type="number" name="days" min="1" max="30" value="14" required; }
                        button type="submit" { "Give respite" }
                    }
                }
                details {
                    @if status == "dispute" {
                        summary { "Resolve the dispute" }
                        form.stack method="post" action={ "/console/cases/" (id) "/resolve" } {
                            (view::csrf(who))
                            p.muted { "The claim stands: the case goes back to where it was and the flow continues." }
                            button type="submit" { "Resolve dispute" }
                        }
                    } @else {
                        summary { "Register a dispute" }
                        form.stack method="post" action={ "/console/cases/" (id) "/dispute" } {
                            (view::csrf(who))
                            p.muted { "The debtor objects to the claim: the flow stops until the dispute is resolved." }
                            button type="submit" { "Put on hold as disputed" }
                        }
                    }
                }
                details {
                    summary { "Cancel the case" }
                    form.stack method="post" action={ "/console/cases/" (id) "/cancellation" } {
                        (view::csrf(who))
                        label { "Type CANCEL to confirm" input name="confirm" required pattern="CANCEL" autocomplete="off"; }
                        button.danger type="submit" { "Cancel case" }
                    }
                }
            }
        }
    }
}

/// `2 000,50`, `2000.50`, `2000` → kronor as a number (the API's wire form).
fn parse_amount(s: &str) -> Option<f64> {
    let cleaned: String = s
        .trim()
        .trim_end_matches("kr")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    // A value a double cannot keep (`1.000000000000000000001`) is refused, not rounded.
    let exact = crate::eve::literal::is_exact(&cleaned);
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && exact)
}

pub async fn act(
    State(c): State<Console>,
    Path((id, action)): Path<(String, String)>,
    Posted { who, form: f }: Posted,
) -> Response {
    let api = who.api(&c);
    let case = match api.item(&format!("/cases/{}", enc(&id)), "case").await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(account) = ObjectId::parse(str_of(&case, "account"))
        .ok()
        .filter(|a| who.grant_in(a).is_some())
    else {
        return refused(StatusCode::FORBIDDEN, "You may not act on this case.");
    };
    let result = run_action(&c, &who, &account, &case, &action, &f).await;
    match result {
        Ok(()) => Redirect::to(&format!("/console/cases/{id}?done={action}")).into_response(),
        Err(p) => {
            let mut resp = render_case(&c, &who, &id, Some(p.flash())).await;
            if resp.status().is_success() {
                *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            resp
        }
    }
}

fn problem(message: &str) -> Problem {
    Problem {
        status: 422,
        message: message.to_string(),
        issues: vec![],
    }
}

async fn run_action(
    c: &Console,
    who: &Signed,
    account: &ObjectId,
    case: &Value,
    action: &str,
    f: &ActionForm,
) -> Result<(), Problem> {
    let actor = who
        .actor_in(account)
        .ok_or_else(|| problem("You may not act on this case."))?;
    let (Ok(case_id), Ok(creditor)) = (
        ObjectId::parse(str_of(case, "_id")),
        ObjectId::parse(str_of(case, "creditor")),
    ) else {
        return Err(problem("No such case."));
    };
    let now = c
        .app
        .clocks
        .now(&c.app.store, account)
        .await
        .map_err(|e| problem(&e.to_string()))?;
    let amount = || {
        f.get("amount")
            .and_then(|a| parse_amount(a))
            .and_then(|a| Money::from_kronor_f64(a).ok())
            .ok_or_else(|| problem("Enter the amount in kronor, for example 2000,00."))
    };
    let reference = f
        .get("reference")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let creditor_action = |kind: Kind| creditor_action::Input {
        kind,
        creditor,
        case: CaseRef::Id(case_id),
        amount: None,
        date: None,
        registered: None,
        currency: Some("SEK".into()),
        creditor_payment_reference: None,
        credit_invoice: None,
        creditor_reference: None,
        idempotency: None,
    };
    let done = match action {
        "payment" => {
            let date = f
                .get("date")
                .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
                .map(|d| HttpDate::midnight(d).min(now))
                .ok_or_else(|| problem("Enter the date the payment was made."))?;
            let input = creditor_action::Input {
                amount: Some(amount()?),
                date: Some(date),
                creditor_payment_reference: reference,
                ..creditor_action(Kind::Payment)
            };
            creditor_action::run(&c.app, &actor, input).await.map(drop)
        }
        "crediting" => {
            let input = creditor_action::Input {
                amount: Some(amount()?),
                creditor_reference: reference,
                ..creditor_action(Kind::Crediting)
            };
            creditor_action::run(&c.app, &actor, input).await.map(drop)
        }
        "cancellation" => {
            if f.get("confirm").map(|s| s.trim()) != Some("CANCEL") {
                return Err(problem("Type CANCEL to confirm the cancellation."));
            }
            creditor_action::run(&c.app, &actor, creditor_action(Kind::Cancellation))
                .await
                .map(drop)
        }
        "respite" => {
            let days: i64 = f
                .get("days")
                .and_then(|d| d.trim().parse().ok())
                .ok_or_else(|| problem("Enter the number of days (1–30)."))?;
            let input = respite::Input {
                case: case_id,
                days,
            };
            respite::run(&c.app, &actor, input).await.map(drop)
        }
        // Amili's integrators have no call for these; operators do them here.
        "dispute" => hold::run(&c.app, &actor, case_id, Some(Hold::Dispute))
            .await
            .map(drop),
        "resolve" => hold::run(&c.app, &actor, case_id, None).await.map(drop),
        "note" => notes::add(
            &c.app,
            &actor,
            case_id,
            f.get("text").map(String::as_str).unwrap_or(""),
        )
        .await
        .map(drop),
        _ => return Err(problem("No such action.")),
    };
    done.map_err(|e| refusal(&e))
}

/// A use case's refusal as the console shows it.
pub fn refusal(e: &ActionError) -> Problem {
    let (status, message) = match e {
        ActionError::NotFound(what) => {
            (404, format!("There is no such {what} in what you may see."))
        }
        ActionError::Forbidden(m) => (403, m.clone()),
        ActionError::Invalid(_) => (422, "The request was refused.".to_string()),
        ActionError::Busy(m) => (409, m.clone()),
        ActionError::Store(e) => (500, e.to_string()),
    };
    Problem {
        status,
        message,
        issues: match e {
            ActionError::Invalid(issues) => issues.messages(),
            _ => vec![],
        },
    }
}

pub async fn register_page(State(c): State<Console>, who: Signed) -> Response {
    let creditors = creditor_names(&who.api(&c)).await;
    register_form(&who, &creditors, &HashMap::new(), None).into_response()
}

fn register_form(
    who: &Signed,
    creditors: &[(String, String)],
    f: &HashMap<String, String>,
    flash: Option<Flash>,
) -> Markup {
    let v = |name: &str, default: &str| -> String {
        f.get(name).cloned().unwrap_or_else(|| default.to_string())
    };
    let body = html! {
        @if creditors.is_empty() {
            (view::empty("There is no creditor to register cases for. Creditors are created with `indriva admin creditor create`."))
        } @else {
            div.card {
                p.muted { "A case as a creditor's system registers it (POST /case--registrations). The example is seed 002's invoice." }
                form.stack method="post" action="/console/register" {
                    (view::csrf(who))
                    label { "Creditor" select name="creditor" required {
                        @for (id, name) in creditors { option value=(id) selected[f.get("creditor") == Some(id)] { (name) } }
                    } }
                    label { "First step" select name="first_action" {
                        @for a in ["debt_collection", "reminder"] { option value=(a) selected[v("first_action", "debt_collection") == a] { (label(a)) } }
                    } }
                    div.grid {
                        label { "Debtor's name" input name="name" required value=(v("name", "ACME Inc.")); }
                        label { "Identity number" input name="id_number" required value=(v("id_number", "5560269986")); }
                        label { "Company" select name="is_company" {
                            option value="true" selected[v("is_company", "true") == "true"] { "Yes" }
                            option value="false" selected[v("is_company", "true") == "false"] { "No, a person" }
                        } }
                    }
                    div.grid {
                        label { "Street address" input name="address" required value=(v("address", "Storgatan 42")); }
                        label { "Postcode" input name="zip" required value=(v("zip", "12345")); }
                        label { "City" input name="city" required value=(v("city", "Stockholm")); }
                    }
                    div.grid {
                        label { "Invoice number" input name="invoice" required value=(v("invoice", "INV-2025-003")); }
                        label { "Description" input name="description" required value=(v("description", "Services")); }
                        label { "Invoice date" input type="date" name="invoice_date" required value=(v("invoice_date", "2025-07-07")); }
                        label { "Days to pay" input type="number" name="due_days" min="0" required value=(v("due_days", "31")); }
                        label { "Capital (kr)" input name="amount" inputmode="decimal" required value=(v("amount", "2000,00")); }
                    }
                    button type="submit" { "Register case" }
                }
            }
        }
    };
    view::page(who, "/console/register", "Register a case", flash, body)
}

pub async fn register(State(c): State<Console>, Posted { who, form: f }: Posted) -> Response {
    let api = who.api(&c);
    let creditors = creditor_names(&api).await;
    let refuse = |p: Problem| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            register_form(&who, &creditors, &f, Some(p.flash())),
        )
            .into_response()
    };
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let creditor_id = get("creditor");
    // The creditor's account: read through the API, so it is one the operator may see.
    let creditor = match api.get(&format!("/creditors/{}", enc(&creditor_id))).await {
        Ok(cr) => cr,
        Err(p) => return refuse(p),
    };
    let (Ok(account), Ok(creditor)) = (
        ObjectId::parse(str_of(&creditor, "account")),
        ObjectId::parse(&creditor_id),
    ) else {
        return refuse(problem("Choose a creditor."));
    };
    let Some(actor) = who.actor_in(&account) else {
        return refused(
            StatusCode::FORBIDDEN,
            "You may not register cases for this creditor.",
        );
    };
    let registration = match registration_of(&f, account, creditor) {
        Ok(r) => r,
        Err(p) => return refuse(p),
    };
    match registration::run(&c.app, &actor, registration, None).await {
        Ok(outcome) => match outcome.cases().first() {
            Some(case) => {
                Redirect::to(&format!("/console/cases/{case}?done=registered")).into_response()
            }
            None => Redirect::to("/console/cases").into_response(),
        },
        Err(e) => refuse(refusal(&e)),
    }
}

/// The registration the form describes: one debt, seed 002's shape.
fn registration_of(
    f: &HashMap<String, String>,
    account: ObjectId,
    creditor: ObjectId,
) -> Result<CaseRegistration, Problem> {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let required = |k: &str, what: &str| {
        Some(get(k))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| problem(&format!("Enter the {what}.")))
    };
    let invoice_date = chrono::NaiveDate::parse_from_str(&get("invoice_date"), "%Y-%m-%d")
        .map(HttpDate::midnight)
        .map_err(|_| problem("Enter the invoice date."))?;
    let capital = parse_amount(&get("amount"))
        .and_then(|a| Money::from_kronor_f64(a).ok())
        .filter(|a| *a > Money::ZERO)
        .ok_or_else(|| problem("Enter the capital in kronor, for example 2000,00."))?;
    let due_days = get("due_days")
        .parse::<i64>()
        .ok()
        .filter(|d| *d >= 0)
        .ok_or_else(|| problem("Enter the days to pay (0 or more)."))?;
    let first_action = match get("first_action").as_str() {
        "reminder" => FirstAction::Reminder,
        _ => FirstAction::DebtCollection,
    };
    let epoch = HttpDate::midnight(chrono::NaiveDate::default());
    Ok(CaseRegistration {
        // Stamped by the use case.
        id: ObjectId::at(0),
        account,
        creditor,
        first_action,
        currency: "SEK".into(),
        customer: RegisteredCustomer {
            name: required("name", "debtor's name")?,
            id_number: required("id_number", "identity number")?,
            is_company: Some(get("is_company") != "false"),
            address: Address {
                address_line_1: required("address", "street address")?,
                zip_code: required("zip", "postcode")?,
                city: required("city", "city")?,
                country: "SE".into(),
            },
            mobile_number: None,
            email: None,
            customer_number: None,
        },
        debts: vec![RegisteredDebt {
            invoice_number: required("invoice", "invoice number")?,
            debt_description: required("description", "description")?,
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
        created: epoch,
        updated: epoch,
        etag: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_amount;

    #[test]
    fn an_amount_a_double_cannot_keep_is_refused_not_rounded() {
        assert_eq!(parse_amount("2 000,50 kr"), Some(2000.5));
        assert_eq!(parse_amount("2000.50"), Some(2000.5));
        assert_eq!(parse_amount("1,000000000000000000001"), None);
        assert_eq!(parse_amount("abc"), None);
    }
}
