//! How the console looks: the page frame, Swedish amounts, readable dates, state badges,
//! tables and the charts (SVG drawn here, no script).

use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

use super::Signed;
use crate::domain::{HttpDate, Money};

/// The stylesheet and the vendored htmx (BSD-0, <https://htmx.org>), served from the binary.
pub const CSS: &str = include_str!("assets/console.css");
pub const HTMX: &str = include_str!("assets/htmx.min.js");

/// Something to tell the operator at the top of the page.
pub enum Flash {
    Done(String),
    Problem(String, Vec<(String, String)>),
}

/// The menu: (path, label, agency operators only).
const MENU: &[(&str, &str, bool)] = &[
    ("/console", "Overview", false),
    ("/console/cases", "Cases", false),
    ("/console/register", "Register", false),
    ("/console/payments", "Payments", true),
    ("/console/payouts", "Payouts", false),
    ("/console/creditors", "Creditors", false),
    ("/console/clock", "Sandbox clock", false),
    ("/console/audit", "Audit trail", false),
];

/// A whole page for a signed-in operator.
pub fn page(who: &Signed, active: &str, title: &str, flash: Option<Flash>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Indriva" }
                // Pages that answer a refused form (422, 403, …) are shown too, not dropped.
                meta name="htmx-config" content=r#"{"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}],"includeIndicatorStyles":false}"#;
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/htmx.min.js" defer {}
            }
            body hx-boost="true" {
                header.top {
                    a.brand href="/console" { "Indriva" }
                    input #menu-toggle type="checkbox" hidden;
                    label.menu-button for="menu-toggle" { "Menu" }
                    nav {
                        @for (path, label, agency) in MENU {
                            @if !agency || who.op.account.is_none() {
                                a href=(path) class=@if *path == active { "active" } { (label) }
                            }
                        }
                    }
                    form.quick method="get" action="/console/cases" role="search" {
                        input type="search" name="q" aria-label="Search cases"
                            placeholder="Invoice, OCR, ID no., name";
                        button.secondary type="submit" { "Search" }
                    }
                    form.signout method="post" action="/console/sign-out" {
                        input type="hidden" name="_csrf" value=(who.csrf);
                        span.who { (who.op.email) " · " (who.scope_label()) }
                        button.link type="submit" { "Sign out" }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(f) = flash { (flash_box(f)) }
                    (body)
                }
            }
        }
    }
}

/// A page for someone not signed in.
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Indriva" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body.bare { main.narrow { a.brand.big href="/console" { "Indriva" } (body) } }
        }
    }
}

pub fn flash_box(f: Flash) -> Markup {
    match f {
        Flash::Done(text) => html! { div.flash.ok role="status" { (text) } },
        Flash::Problem(text, issues) => html! {
            div.flash.err role="alert" {
                strong { (text) }
                @if !issues.is_empty() {
                    ul { @for (field, msg) in issues { li { code { (field) } ": " (msg) } } }
                }
            }
        },
    }
}

/// `201400` öre → `2 014,00 kr`.
pub fn kr(ore: i64) -> String {
    Money::from_ore(ore).to_swedish()
}

/// A wire amount (kronor as a JSON number) in Swedish format; blank when absent.
pub fn kr_json(v: Option<&Value>) -> String {
    v.and_then(Value::as_f64)
        .and_then(|k| Money::from_kronor_f64(k).ok())
        .map(|m| kr(m.ore()))
        .unwrap_or_default()
}

/// Öre of a wire amount (0 when absent).
pub fn ore(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_f64)
        .and_then(|k| Money::from_kronor_f64(k).ok())
        .map(|m| m.ore())
        .unwrap_or(0)
}

/// `Wed, 03 Sep 2025 11:18:59 GMT` → `2025-09-03 11:18` (`2025-09-03` at midnight).
pub fn when(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .and_then(|s| HttpDate::parse_lenient(s).ok())
        .map(|d| date_time(d.unix()))
        .unwrap_or_default()
}

pub fn date_time(unix: i64) -> String {
    match chrono::DateTime::from_timestamp(unix, 0) {
        Some(t) if unix % 86_400 == 0 => t.format("%Y-%m-%d").to_string(),
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => String::new(),
    }
}

/// `debt_collection` → `Debt collection`.
pub fn label(wire: &str) -> String {
    let mut s = wire
        .replace("__", " · ")
        .replace("--", " ")
        .replace(['_', '-'], " ");
    if let Some(first) = s.get(0..1) {
        let up = first.to_uppercase();
        s.replace_range(0..1, &up);
    }
    s
}

/// A locale tag (`api.wait.waiting_for_letter`) as text: its last part, labelled.
pub fn tag(wire: &str) -> String {
    label(wire.rsplit('.').next().unwrap_or(wire))
}

/// A state or status as a coloured, labelled badge.
pub fn badge(wire: &str) -> Markup {
    let tone = match wire {
        "invoice" | "initializing" | "ongoing" => "blue",
        "reminder" => "teal",
        "debt_collection" => "amber",
        "enforcement" | "bankruptcy_estate" | "estate" | "limitation_approaching" => "red",
        "dispute" | "respite" | "on_hold" => "violet",
        "closed" | "completed" | "paid" | "matched" => "green",
        _ => "grey",
    };
    html! { span class={ "badge " (tone) } { (label(wire)) } }
}

pub fn str_of<'a>(doc: &'a Value, field: &str) -> &'a str {
    doc.get(field).and_then(Value::as_str).unwrap_or("")
}

/// One bar series as an SVG column chart; `labels` under each bar, values formatted by `fmt`.
pub fn column_chart(
    title: &str,
    series: &[(&str, &str, Vec<i64>)],
    labels: &[String],
    fmt: impl Fn(i64) -> String,
) -> Markup {
    let n = labels.len().max(1);
    let max = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, left, bottom) = (640.0_f64, 200.0_f64, 8.0, 28.0);
    let slot = (w - left) / n as f64;
    let bar = (slot * 0.8) / series.len().max(1) as f64;
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox={ "0 0 " (w) " " (h) } role="img" aria-label=(title) preserveAspectRatio="none" {
                line x1=(left) y1=(h - bottom) x2=(w) y2=(h - bottom) class="axis" {}
                @for (s, (name, class, values)) in series.iter().enumerate() {
                    @for (i, v) in values.iter().enumerate() {
                        @let bh = (*v as f64 / max as f64) * (h - bottom - 14.0);
                        @let x = left + i as f64 * slot + slot * 0.1 + s as f64 * bar;
                        rect class=(class) x=(x) y=(h - bottom - bh) width=(bar.max(1.0)) height=(bh) {
                            title { (name) " " (labels.get(i).map(String::as_str).unwrap_or("")) ": " (fmt(*v)) }
                        }
                    }
                }
                @for (i, l) in labels.iter().enumerate() {
                    @if n <= 12 || i % 2 == 0 {
                        text x=(left + i as f64 * slot + slot / 2.0) y=(h - 8.0) text-anchor="middle" { (l) }
                    }
                }
            }
            @if series.len() > 1 {
                p.legend { @for (name, class, _) in series { span class={ "key " (class) } {} (name) " " } }
            }
            @if series.iter().all(|(_, _, v)| v.iter().all(|x| *x == 0)) {
                p.chart-max { "Nothing in these weeks yet." }
            } @else {
                p.chart-max { "Highest: " (fmt(max)) }
            }
        }
    }
}

/// Pagination links for a list page (`base` already has its query, without `page`).
pub fn pager(base: &str, page: i64, total: i64, per_page: i64) -> Markup {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let sep = if base.contains('?') { "&" } else { "?" };
    html! {
        nav.pager {
            @if page > 1 { a href={ (base) (sep) "page=" (page - 1) } { "← Previous" } }
            span { "Page " (page) " of " (pages) " · " (total) " in all" }
            @if page < pages { a href={ (base) (sep) "page=" (page + 1) } { "Next →" } }
        }
    }
}

pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}

pub fn csrf(who: &Signed) -> Markup {
    html! { input type="hidden" name="_csrf" value=(who.csrf); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_swedish() {
        assert_eq!(kr(201_400), "2\u{a0}014,00\u{a0}kr");
        assert_eq!(kr(5), "0,05\u{a0}kr");
        assert_eq!(kr(-123_456_789), "−1\u{a0}234\u{a0}567,89\u{a0}kr");
        assert_eq!(kr(100_000_00), "100\u{a0}000,00\u{a0}kr");
    }

    #[test]
    fn labels_and_dates_read_well() {
        assert_eq!(label("debt_collection"), "Debt collection");
        assert_eq!(
            label("case--debt-collections__debt_statement"),
            "Case debt collections · debt statement"
        );
        assert_eq!(date_time(1_756_898_339), "2025-09-03 11:18");
        assert_eq!(date_time(1_756_857_600), "2025-09-03");
    }
}
