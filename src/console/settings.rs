//! Creditors (policy, flow, API users), the sandbox clock and the audit trail.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde_json::{json, Value};

use super::call::enc;
use super::view::{self, badge, kr, label, str_of, when, Flash};
use super::{internal, refused, safe_next, Console, Posted, Signed};
use crate::actions::{api_users, clock, creditor_rules, ActionError};
use crate::domain::party::Creditor;
use crate::domain::{HttpDate, ObjectId};

const CREDITOR_COLUMNS: &[super::export::Col] = &[
    super::export::Col::text("creditor", "/_id"),
    super::export::Col::text("name", "/name"),
    super::export::Col::text("organization_no", "/organization_no"),
    super::export::Col::text("active", "/is_active"),
    super::export::Col::text("account", "/account"),
    super::export::Col::time("created", "/_created"),
];

pub async fn creditors(
    State(c): State<Console>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("format").map(String::as_str) == Some("csv") {
        return super::export::csv(
            &who.api(&c),
            "/creditors?sort=name",
            "creditors",
            CREDITOR_COLUMNS,
        )
        .await;
    }
    let (items, _) = match who
        .api(&c)
        .list("/creditors?max_results=500&sort=name")
        .await
    {
        Ok(l) => l,
        Err(p) => return internal(p.message),
    };
    let body = html! {
        @if items.is_empty() {
            (view::empty("No creditors yet. Create one with `indriva admin creditor create --account … --name … --organization-no …`."))
        } @else {
            p.muted { (items.len()) " creditor(s). " a.csv href="/console/creditors?format=csv" download { "Download CSV" } }
            div.table-wrap { table {
                thead { tr { th { "Creditor" } th { "Organisation number" } th { "Active" } th.hide-narrow { "Created" } } }
                tbody { @for cr in &items {
                    tr {
                        td { a href={ "/console/creditors/" (str_of(cr, "_id")) } { (str_of(cr, "name")) } }
                        td { (str_of(cr, "organization_no")) }
                        td { @if cr.get("is_active").and_then(Value::as_bool) == Some(true) { (badge("active")) } @else { (badge("inactive")) } }
                        td.hide-narrow { (when(cr.get("_created"))) }
                    }
                } }
            } }
        }
    };
    view::page(&who, "/console/creditors", "Creditors", None, body).into_response()
}

pub async fn creditor(State(c): State<Console>, who: Signed, Path(id): Path<String>) -> Response {
    render_creditor(&c, &who, &id, None, None).await
}

async fn render_creditor(
    c: &Console,
    who: &Signed,
    id: &str,
    flash: Option<Flash>,
    secret: Option<Value>,
) -> Response {
    let api = who.api(c);
    let cr = match api
        .item(&format!("/creditors/{}", enc(id)), "creditor")
        .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(creditor_id) = ObjectId::parse(id) else {
        return refused(StatusCode::NOT_FOUND, "There is no such creditor.");
    };
    let Some(actor) = ObjectId::parse(str_of(&cr, "account"))
        .ok()
        .and_then(|a| who.actor_in(&a))
    else {
        return refused(StatusCode::NOT_FOUND, "There is no such creditor.");
    };
    let rules = creditor_rules::read(&c.app, &actor, &creditor_id).await;
    let (policy, flow) = match rules {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let policy_json = serde_json::to_value(&*policy).unwrap_or_default();
    let users = api
        .items(&format!(
            "/users?where={}&max_results=200",
            enc(&json!({"account": str_of(&cr, "account")}).to_string())
        ))
        .await;
    let users: Vec<&Value> = users
        .iter()
        .filter(|u| {
            let bound = u.get("creditor").and_then(Value::as_str);
            bound.is_none() || bound == Some(id)
        })
        .collect();
    let fees = policy_json
        .get("fees")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let body = html! {
        @if let Some(s) = &secret {
            div.card {
                h2 { "The new API user's credentials" }
                p { strong { "Shown once." } " Give this to the integrator over a safe channel; the private key is not stored on the server." }
                pre.secret { (serde_json::to_string_pretty(s).unwrap_or_default()) }
            }
        }
        div.grid2 {
            div.card {
                h2 { "Creditor" }
                dl.facts {
                    dt { "Name" } dd { (str_of(&cr, "name")) }
                    dt { "Organisation number" } dd { (str_of(&cr, "organization_no")) }
                    dt { "Active" } dd { @if cr.get("is_active").and_then(Value::as_bool) == Some(true) { (badge("active")) } @else { (badge("inactive")) } }
                    dt { "Account" } dd { code { (str_of(&cr, "account")) } }
                    dt { "Cases" } dd { a href={ "/console/cases?creditor=" (id) } { "Search this creditor's cases" } }
                }
            }
            div.card {
                h2 { "Fee policy" }
                dl.facts {
                    @for (k, v) in &fees {
                        dt { (label(k)) }
                        dd { @match v.as_f64() {
                            Some(x) if k.contains("rate") || k.contains("percent") => (format!("{x}")),
                            Some(x) => (crate::domain::Money::from_kronor_f64(x).map(|m| kr(m.ore())).unwrap_or_else(|_| x.to_string())),
                            None => (v.to_string()),
                        } }
                    }
                    dt { "Payouts" } dd { (label(str_of(&policy_json, "payout_frequency"))) " · " (str_of(&policy_json, "payout_day")) }
                    dt { "Respite" } dd {
                        @for (k, v) in policy_json.get("respite").and_then(Value::as_object).into_iter().flatten() {
                            (label(k)) ": " (v.to_string().trim_matches('"')) br;
                        }
                    }
                }
                p.muted { "Changed with " code { "indriva admin creditor policy --creditor " (id) " --json FILE" } "." }
            }
        }
        div.card {
            h2 { "Flow: " (view::tag(&flow.name_locale)) }
            p.muted { (flow.description) }
            div.table-wrap { table {
                thead { tr { th { "Step" } th { "Waiting for" } th.num { "Payment days" } th { "Moves state" } } }
                tbody { @for s in &flow.steps {
                    tr {
                        td { (label(&s.item)) }
                        td { (view::tag(&s.waiting_for)) }
                        td.num { (s.payment_days.map(|d| d.to_string()).unwrap_or_default()) }
                        td { @if s.moved_to_next_state { "yes" } }
                    }
                } }
            } }
        }
        h2 { "API users" }
        @if users.is_empty() {
            (view::empty("No API user yet. Create one below and give its credentials to the creditor's integrator."))
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Name" } th { "For" } th { "Enabled" } th.hide-narrow { "Created" } th {} } }
                tbody { @for u in &users {
                    @let enabled = u.get("is_enabled").and_then(Value::as_bool) == Some(true);
                    tr {
                        td { (str_of(u, "name")) br; code.muted { (str_of(u, "_id")) } }
                        td { @if u.get("creditor").is_some() { "this creditor" } @else { "the whole account" } }
                        td { @if enabled { (badge("active")) } @else { (badge("revoked")) } }
                        td.hide-narrow { (when(u.get("_created"))) }
                        td { @if enabled {
                            form.inline method="post" action={ "/console/api-users/" (str_of(u, "_id")) "/revoke" } {
                                (view::csrf(who))
                                input type="hidden" name="creditor" value=(id);
                                button.danger type="submit" { "Revoke" }
                            }
                        } }
                    }
                } }
            } }
        }
        div.card {
            h2 { "Create an API user" }
            form.clock method="post" action={ "/console/creditors/" (id) "/api-users" } {
                (view::csrf(who))
                label { "Name" input name="name" required value="API user"; }
                button type="submit" { "Create" }
            }
            p.muted { "A key pair (ES256) is generated; the credentials are shown once. Integrators with their own key use " code { "indriva admin api-user create --public-key" } "." }
        }
    };
    let title = str_of(&cr, "name").to_string();
    view::page(who, "/console/creditors", &title, flash, body).into_response()
}

pub async fn create_api_user(
    State(c): State<Console>,
    Path(id): Path<String>,
    Posted { who, form: f }: Posted,
) -> Response {
    let cr = match who
        .api(&c)
        .item(&format!("/creditors/{}", enc(&id)), "creditor")
        .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let creditor: Creditor = match serde_json::from_value(cr) {
        Ok(cr) => cr,
        Err(e) => return internal(e),
    };
    let Some(actor) = who.actor_in(&creditor.account) else {
        return refused(StatusCode::FORBIDDEN, "You may not create API users here.");
    };
    let name = f
        .get("name")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .unwrap_or("API user");
    let made = api_users::create(&c.app, &actor, &creditor, name).await;
    match made {
        Ok(user) => {
            let secret = json!({
                "api_user": user.user.id.to_hex(),
                "api_code": user.credential.api_code,
                "private_key_pem": user.private_key_pem,
                "algorithm": user.credential.algorithm.as_str(),
                "account": creditor.account.to_hex(),
                "creditor": creditor.id.to_hex(),
            });
            render_creditor(
                &c,
                &who,
                &id,
                Some(Flash::Done("The API user is created.".into())),
                Some(secret),
            )
            .await
        }
        Err(e) => internal(e),
    }
}

pub async fn revoke_api_user(
    State(c): State<Console>,
    Path(id): Path<String>,
    Posted { who, form: f }: Posted,
) -> Response {
    let back = f.get("creditor").cloned().unwrap_or_default();
    let user = match who
        .api(&c)
        .item(&format!("/users/{}", enc(&id)), "API user")
        .await
    {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (Ok(user_id), Ok(account)) = (
        ObjectId::parse(&id),
        ObjectId::parse(str_of(&user, "account")),
    ) else {
        return refused(StatusCode::NOT_FOUND, "There is no such API user.");
    };
    let Some(actor) = who.actor_in(&account) else {
        return refused(StatusCode::FORBIDDEN, "You may not revoke this API user.");
    };
    let done = match api_users::revoke(&c.app, &actor, user_id).await {
        Ok(_) => Ok(true),
        Err(ActionError::Busy(_)) => Ok(false),
        Err(ActionError::NotFound(_)) | Err(ActionError::Forbidden(_)) => {
            return refused(StatusCode::FORBIDDEN, "You may not revoke this API user.")
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(true) => {
            c.auth.forget_user(&user_id);
            if ObjectId::parse(&back).is_ok() {
                render_creditor(
                    &c,
                    &who,
                    &back,
                    Some(Flash::Done(
                        "The API user is revoked: its code and tokens stop working now.".into(),
                    )),
                    None,
                )
                .await
            } else {
                Redirect::to("/console/creditors").into_response()
            }
        }
        Ok(false) => refused(
            StatusCode::CONFLICT,
            "The API user changed meanwhile; reload and try again.",
        ),
        Err(e) => internal(e),
    }
}

/// Sandbox accounts the operator may move the clock of: (account, name, clock answer).
async fn sandbox_clocks(c: &Console, who: &Signed) -> Vec<(ObjectId, String, Value)> {
    let accounts = match who.api(c).list("/accounts?max_results=200").await {
        Ok((a, _)) => a,
        Err(_) => vec![],
    };
    let mut out = vec![];
    for a in accounts {
        let Ok(id) = ObjectId::parse(str_of(&a, "_id")) else {
            continue;
        };
        if let Some(api) = who.api_in(c, &id) {
            if let Ok(clock) = api.get("/sandbox/clock").await {
                out.push((id, str_of(&a, "name").to_string(), clock));
            }
        }
    }
    out
}

pub async fn clock(
    State(c): State<Console>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let flash = match (q.get("done").map(String::as_str), q.get("cases")) {
        (Some("reset"), cases) => Some(Flash::Done(format!(
            "The sandbox is empty ({} case(s) deleted): set the clock to any time and start again.",
            cases.map(String::as_str).unwrap_or("0")
        ))),
        (Some(_), _) => Some(Flash::Done("The clock moved; due flow items ran.".into())),
        (None, _) => None,
    };
    render_clock(&c, &who, flash).await
}

/// Empties a sandbox account (`POST /sandbox/reset`), once the operator has typed RESET.
pub async fn reset_sandbox(State(c): State<Console>, Posted { who, form: f }: Posted) -> Response {
    let Some(account) = f.get("account").and_then(|a| ObjectId::parse(a).ok()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "Choose the sandbox account to reset.",
        );
    };
    let Some(actor) = who.actor_in(&account) else {
        return refused(StatusCode::FORBIDDEN, "You may not reset this account.");
    };
    if f.get("confirm").map(|s| s.trim()) != Some("RESET") {
        let mut resp = render_clock(
            &c,
            &who,
            Some(Flash::Problem(
                "Nothing was deleted: type RESET to confirm.".into(),
                vec![],
            )),
        )
        .await;
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return resp;
    }
    let done = match clock::sandbox_account(&c.app, &actor).await {
        Ok(_) => clock::reset(&c.app, &actor, account).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(r) => {
            Redirect::to(&format!("/console/clock?done=reset&cases={}", r.cases)).into_response()
        }
        Err(e) => render_clock(&c, &who, Some(super::cases::refusal(&e).flash())).await,
    }
}

async fn render_clock(c: &Console, who: &Signed, flash: Option<Flash>) -> Response {
    let clocks = sandbox_clocks(c, who).await;
    let body = html! {
        p.muted { "A sandbox account has a clock of its own. Moving it forward runs every flow item that falls due on the way, each at its own time: a case lives through weeks in seconds. It never goes back while the sandbox has cases; " em { "Reset the sandbox" } " below (or " code { "POST /sandbox/reset" } ") starts over." }
        @if clocks.is_empty() {
            (view::empty("You see no sandbox account. Production accounts follow real time."))
        }
        @for (id, name, clock) in &clocks {
            div.card {
                h2 { (name) }
                form.clock method="post" action="/console/clock" {
                    (view::csrf(who))
                    input type="hidden" name="account" value=(id.to_hex());
                    input type="hidden" name="back" value="/console/clock";
                    span.now { (when(clock.get("now"))) }
                    button.secondary type="submit" name="days" value="1" { "+1 day" }
                    button.secondary type="submit" name="days" value="7" { "+7 days" }
                    button.secondary type="submit" name="days" value="30" { "+30 days" }
                    label { "Or to" input type="date" name="to"; }
                    button type="submit" { "Move" }
                }
                form.reset method="post" action="/console/clock/reset" {
                    (view::csrf(who))
                    input type="hidden" name="account" value=(id.to_hex());
                    label {
                        "Start over: deletes this sandbox's cases, letters, payments and payout lines (creditors, API users and keys stay); the clock may then be set to any time. Type RESET to confirm."
                        input name="confirm" autocomplete="off" spellcheck="false";
                    }
                    button.danger type="submit" { "Reset the sandbox" }
                }
            }
        }
    };
    view::page(who, "/console/clock", "Sandbox clock", flash, body).into_response()
}

pub async fn move_clock(State(c): State<Console>, Posted { who, form: f }: Posted) -> Response {
    let back = safe_next(f.get("back").map(String::as_str));
    let Some(account) = f.get("account").and_then(|a| ObjectId::parse(a).ok()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            "Choose the sandbox account whose clock to move.",
        );
    };
    let Some(actor) = who.actor_in(&account) else {
        return refused(
            StatusCode::FORBIDDEN,
            "You may not move this account's clock.",
        );
    };
    let now = match clock::sandbox_account(&c.app, &actor).await {
        Ok(_) => match clock::read(&c.app, &account).await {
            Ok(t) => t.now,
            Err(e) => return render_clock(&c, &who, Some(super::cases::refusal(&e).flash())).await,
        },
        Err(e) => return render_clock(&c, &who, Some(super::cases::refusal(&e).flash())).await,
    };
    let to = match f.get("days").map(String::as_str) {
        Some("next") => f
            .get("next_at")
            .and_then(|s| HttpDate::parse_lenient(s).ok())
            .map(|t| t.max(now)),
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(|d| now.plus_days(d)),
        None => f
            .get("to")
            .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
            .map(HttpDate::midnight),
    };
    let Some(to) = to else {
        return render_clock(
            &c,
            &who,
            Some(Flash::Problem(
                "Choose how far to move the clock.".into(),
                vec![],
            )),
        )
        .await;
    };
    match clock::move_to(&c.app, &actor, account, to).await {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{back}{sep}done=clock")).into_response()
        }
        Err(e) => render_clock(&c, &who, Some(super::cases::refusal(&e).flash())).await,
    }
}

const AUDIT_COLUMNS: &[super::export::Col] = &[
    super::export::Col::text("event", "/_id"),
    super::export::Col::time("when", "/_created"),
    super::export::Col::text("actor", "/actor/type"),
    super::export::Col::with("who", |d| {
        ["/actor/email", "/actor/command", "/actor/user"]
            .iter()
            .map(|p| d.pointer(p).and_then(Value::as_str).unwrap_or_default())
            .find(|s| !s.is_empty())
            .unwrap_or_default()
            .to_string()
    }),
    super::export::Col::text("request_id", "/actor/request_id"),
    super::export::Col::with("writes", |d| {
        d.get("writes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|w| {
                format!(
                    "{} {} {}",
                    str_of(w, "action"),
                    str_of(w, "resource"),
                    str_of(w, "item")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }),
];

pub async fn audit(
    State(c): State<Console>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let page: i64 = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let item = q.get("item").map(|s| s.trim()).filter(|s| !s.is_empty());
    let mut query = "/audit--events?sort=-_created".to_string();
    if let Some(item) = item {
        query.push_str(&format!(
            "&where={}",
            enc(&json!({"writes.item": item}).to_string())
        ));
    }
    if q.get("format").map(String::as_str) == Some("csv") {
        return super::export::csv(&who.api(&c), &query, "audit-trail", AUDIT_COLUMNS).await;
    }
    let path = format!("{query}&max_results=50&page={page}");
    let (events, total) =
        match who.api(&c).list(&path).await {
            Ok(l) => l,
            Err(p) if p.status == 403 => return refused(
                StatusCode::FORBIDDEN,
                "The audit trail is for the agency's and accounts' operators, not one creditor's.",
            ),
            Err(p) => return internal(p.message),
        };
    let base = match item {
        Some(i) => format!("/console/audit?item={}", enc(i)),
        None => "/console/audit".to_string(),
    };
    let body = html! {
        form.filters method="get" action="/console/audit" {
            label { "A document's id (case, payment, user…)" input name="item" value=(item.unwrap_or("")); }
            button type="submit" { "Show its history" }
        }
        @if events.is_empty() {
            (view::empty("Nothing recorded yet."))
        } @else {
            p.muted {
                (total) " event(s). "
                a.csv href={ (base) (if base.contains('?') { "&" } else { "?" }) "format=csv" } download { "Download CSV" }
            }
            div.table-wrap { table {
                thead { tr { th { "When" } th { "Who" } th { "What" } } }
                tbody { @for e in &events {
                    @let actor = e.get("actor").cloned().unwrap_or_default();
                    @let writes: Vec<&Value> = e.get("writes").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
                    tr {
                        td { (when(e.get("_created"))) }
                        td {
                            (badge(str_of(&actor, "type")))
                            br;
                            @if let Some(email) = actor.get("email").and_then(Value::as_str) { (email) }
                            @else if let Some(cmd) = actor.get("command").and_then(Value::as_str) { code { (cmd) } }
                            @else if let Some(u) = actor.get("user").and_then(Value::as_str) { span.muted { "user " code { (u) } } }
                        }
                        td {
                            @for w in writes.iter().take(6) {
                                div {
                                    (label(str_of(w, "action"))) " " (str_of(w, "resource")) " "
                                    @if str_of(w, "resource") == "cases" {
                                        a href={ "/console/cases/" (str_of(w, "item")) } { code { (str_of(w, "item")) } }
                                    } @else { code { (str_of(w, "item")) } }
                                }
                            }
                            @if writes.len() > 6 { span.muted { "and " (writes.len() - 6) " more" } }
                        }
                    }
                } }
            } }
            (view::pager(&base, page, total, 50))
        }
    };
    view::page(&who, "/console/audit", "Audit trail", None, body).into_response()
}
