//! The operator console in a real browser: headless Chromium driven through chromedriver
//! (Debian's `chromium` and `chromium-driver`). A new operator signs in, sets the sandbox
//! clock, registers seed 002's case, lets the flow run, registers the debtor's payment, sees
//! the case close `fully_paid_depreciation` with its ledger, opens every page, and signs out;
//! a form posted without its CSRF token and another tenant's case are refused.
//!
//! Needs a browser, so it is built only with the `browser-tests` feature; `.ci/console-browser`
//! installs both packages and runs it (`.ci/run` does, on SQLite and PostgreSQL):
//! `cargo test --features browser-tests --test console_browser`. With
//! `CONSOLE_SCREENSHOTS=docs/console` it writes a screenshot of each page there.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{free_port, indriva, Server};
use fantoccini::{Client, ClientBuilder, Locator};
use indriva::domain::bgmax::{GeneratedPayment, Generator};
use indriva::domain::Money;
use serde_json::json;

const PASSWORD: &str = "a long enough password";

struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser() -> (Driver, Client) {
    let port = free_port();
    let driver = Command::new(std::env::var("CHROMEDRIVER").unwrap_or("chromedriver".into()))
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian package chromium-driver) must be installed");
    let driver = Driver(driver);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,1000", "--hide-scrollbars", "--lang=en-GB"]}),
    );
    let start = Instant::now();
    loop {
        // chromedriver speaks plain HTTP on loopback: no TLS connector needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = ClientBuilder::new(connector);
        builder.capabilities(caps.clone());
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => return (driver, c),
            Err(e) if start.elapsed() > Duration::from_secs(30) => panic!("chromedriver: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Waits until the page shows `text` (htmx swaps pages in place).
async fn wait_text(c: &Client, text: &str) -> String {
    let start = Instant::now();
    loop {
        let html = c.source().await.expect("page source");
        if html.contains(text) {
            return html;
        }
        if start.elapsed() > Duration::from_secs(20) {
            panic!("the page never showed {text:?}; it shows:\n{html}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.expect(css);
    e.clear().await.expect("clear");
    e.send_keys(value).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("CONSOLE_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(format!("{dir}/{name}.png"), png).expect("write screenshot");
    }
}

async fn sign_in(c: &Client, server: &Server, email: &str) {
    c.goto(&server.url("/console")).await.expect("open console");
    wait_text(c, "Sign in").await;
    fill(c, "input[name=email]", email).await;
    fill(c, "input[name=password]", PASSWORD).await;
    click(c, "button[type=submit]").await;
    wait_text(c, "Sign out").await;
}

/// The case id in the address bar (`/console/cases/{id}`).
async fn case_id(c: &Client) -> String {
    let url = c.current_url().await.expect("url");
    url.path().trim_start_matches("/console/cases/").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_follows_seed_002_from_registration_to_fully_paid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path").to_string();
    let database = common::database_url(dir.path()).await;
    let base = ["--data-dir", &data, "--database", &database];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(base.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: &[&str], stdin: &str| {
        let args = with(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        indriva(&args, &format!("{stdin}\n"))
    };
    // The server first: it creates the sandbox account and creditor.
    let server = Server::start(dir.path(), &database, &["--worker-interval-ms", "200"]).await;
    run(
        &[
            "admin",
            "operator",
            "create",
            "--email",
            "Ops@Example.com",
            "--password-stdin",
        ],
        PASSWORD,
    );
    let other = run(
        &[
            "admin",
            "account",
            "create",
            "--name",
            "Other Client AB",
            "--organization-no",
            "5560269986",
        ],
        "",
    );
    let other = other
        .split_whitespace()
        .last()
        .expect("account id")
        .to_string();
    run(
        &[
            "admin",
            "operator",
            "create",
            "--email",
            "other@example.com",
            "--password-stdin",
            "--account",
            &other,
        ],
        PASSWORD,
    );

    let listed = run(&["admin", "operator", "list"], "");
    assert!(
        listed.contains("\"email\":\"ops@example.com\"") && listed.contains(&other),
        "{listed}"
    );

    let (_driver, c) = browser().await;

    // Signing in: a wrong password is refused with a message.
    c.goto(&server.url("/console/cases")).await.expect("open");
    wait_text(&c, "Sign in").await;
    shot(&c, "sign-in").await;
    fill(&c, "input[name=email]", "ops@example.com").await;
    fill(&c, "input[name=password]", "not the password").await;
    click(&c, "button[type=submit]").await;
    wait_text(&c, "do not match an operator").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "button[type=submit]").await;
    // Back where the operator was going.
    wait_text(&c, "<h1>Cases</h1>").await;
    wait_text(&c, "No case matches").await;

    // The sandbox clock to the morning of seed 002 (no cases yet: it may be set anywhere).
    click(&c, "nav a[href='/console/clock']").await;
    wait_text(&c, "<h1>Sandbox clock</h1>").await;
    c.execute(
        "document.querySelector('input[name=to]').value = '2025-09-03';",
        vec![],
    )
    .await
    .expect("set date");
    click(&c, "form.clock button[type=submit]:not([name])").await;
    wait_text(&c, "The clock moved").await;
    wait_text(&c, "2025-09-03").await;

    // Register seed 002's case: the form is filled with it.
    click(&c, "nav a[href='/console/register']").await;
    wait_text(&c, "Register a case").await;
    shot(&c, "register").await;
    click(&c, "form.stack button[type=submit]").await;
    let page = wait_text(&c, "The case is registered").await;
    assert!(
        page.contains("INV-2025-003"),
        "the case page names the invoice"
    );
    let case = case_id(&c).await;
    assert_eq!(case.len(), 24, "a case id in the address: {case}");

    // One day on: the flow runs, the debt-collection letter is sent.
    click(&c, "form.clock button[value='1']").await;
    let page = wait_text(&c, "The sandbox clock moved").await;
    assert!(
        page.contains("Debt collection"),
        "the case moved to debt collection"
    );
    // The letter is rendered by the worker just after: reload until its PDF is there.
    let start = Instant::now();
    while !c.source().await.expect("page").contains("Open PDF") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the letter was never rendered"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.expect("reload");
    }
    assert!(
        page.contains("2\u{a0}000,00\u{a0}kr") || page.contains("2&nbsp;000,00&nbsp;kr"),
        "Swedish amounts on the case page"
    );
    shot(&c, "case").await;
    // The letter opens as a PDF.
    let pdf = c
        .find(Locator::LinkText("Open PDF"))
        .await
        .expect("letter link")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    let bytes = reqwest::get(&pdf)
        .await
        .expect("pdf")
        .bytes()
        .await
        .expect("pdf body");
    assert!(bytes.starts_with(b"%PDF"), "the letter is a PDF");

    // A refusal the API would give shows as a clear error on the page: a payment dated in
    // the future of the account's clock is clamped, but an amount of zero is refused.
    c.execute(
        "document.querySelector('form[action$=\"/payment\"] input[name=amount]').value = '0';",
        vec![],
    )
    .await
    .expect("set amount");
    click(&c, "form[action$='/payment'] button[type=submit]").await;
    wait_text(&c, "flash err").await;

    // The debtor paid the creditor 2 000 kr: the case closes fully paid.
    fill(&c, "form[action$='/payment'] input[name=amount]", "2000,00").await;
    fill(
        &c,
        "form[action$='/payment'] input[name=reference]",
        "PAY-REF-001",
    )
    .await;
    click(&c, "form[action$='/payment'] button[type=submit]").await;
    let page = wait_text(&c, "The payment is registered").await;
    assert!(
        page.contains("Fully paid depreciation"),
        "closed fully_paid_depreciation"
    );
    assert!(
        page.contains("−2\u{a0}000,00\u{a0}kr") || page.contains("−2&nbsp;000,00&nbsp;kr"),
        "the payment is a ledger line"
    );
    // The running balance ends at zero.
    let last_balance: String = c
        .execute(
            "const rows = [...document.querySelectorAll('#ledger tbody tr')]; \
             return rows.length ? rows[rows.length - 1].lastElementChild.textContent : '';",
            vec![],
        )
        .await
        .expect("balance")
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(
        last_balance, "0,00\u{a0}kr",
        "the ledger's running balance ends at 0"
    );
    shot(&c, "case-closed").await;

    // A second case, paid by bank file: one payment finds it by its OCR reference, one
    // nobody can match waits on the Payments page and is matched by hand.
    click(&c, "nav a[href='/console/register']").await;
    wait_text(&c, "Register a case").await;
    fill(&c, "input[name=invoice]", "INV-2025-004").await;
    click(&c, "form.stack button[type=submit]").await;
    wait_text(&c, "The case is registered").await;
    let second = case_id(&c).await;
    let reference: String = c
        .execute("return document.querySelector('#ocr').textContent;", vec![])
        .await
        .expect("OCR")
        .as_str()
        .expect("text")
        .to_string();
    let payment = |reference: &str, ocr: bool, kronor: i64| GeneratedPayment {
        reference: reference.into(),
        ocr,
        amount: Money::from_ore(kronor * 100),
        payer_name: Some("ACME Inc.".into()),
        parts: vec![],
    };
    let file = Generator {
        payee_bankgiro: indriva::letters::SANDBOX_BANKGIRO.replace('-', ""),
        payment_date: chrono::NaiveDate::from_ymd_opt(2025, 9, 4).expect("date"),
        written: "20250904120000000000".into(),
        payments: vec![
            payment(&reference, true, 500),
            payment("see invoice INV-2025-004", false, 300),
        ],
        deductions: vec![],
    }
    .render();
    let path = dir.path().join("bgmax-20250904.txt");
    std::fs::write(&path, file).expect("bank file");
    click(&c, "nav a[href='/console/payments']").await;
    wait_text(&c, "Import a bank file").await;
    c.find(Locator::Css("input[type=file]"))
        .await
        .expect("file input")
        .send_keys(path.to_str().expect("path"))
        .await
        .expect("choose file");
    click(&c, "form[action='/console/bank-files'] button").await;
    let page = wait_text(&c, "Import report").await;
    assert!(page.contains("The bank file is imported"), "imported");
    assert!(
        page.contains("see invoice INV-2025-004"),
        "the unmatched payment is listed"
    );
    shot(&c, "payments").await;
    fill(
        &c,
        "form[action$='/match'] input[name=reference]",
        "INV-2025-004",
    )
    .await;
    click(&c, "form[action$='/match'] button").await;
    let page = wait_text(&c, "The payment is registered").await;
    assert!(
        page.contains(&format!("/console/cases/{second}"))
            || c.current_url()
                .await
                .expect("url")
                .path()
                .ends_with(&second),
        "the match leads to the case"
    );
    // 2 000 kr and the day's interest, less 500 kr by OCR and 300 kr matched by hand.
    let remaining: String = c
        .execute(
            "return document.querySelectorAll('.stat .n')[1].textContent;",
            vec![],
        )
        .await
        .expect("remaining")
        .as_str()
        .expect("text")
        .to_string();
    let interest: String = c
        .execute("return [...document.querySelectorAll('#ledger tbody tr')].filter(r => r.textContent.includes('Case flow')).map(r => r.children[3].textContent).join('|');", vec![])
        .await
        .expect("interest")
        .as_str()
        .expect("text")
        .to_string();
    assert_eq!(interest, "15,00\u{a0}kr", "one interest posting");
    assert_eq!(
        remaining, "1\u{a0}215,00\u{a0}kr",
        "2 015 kr less 800 kr paid"
    );

    // Search finds it by OCR reference and by identity number.
    c.goto(&server.url("/console/cases?id_number=556026-9986"))
        .await
        .expect("search");
    wait_text(&c, "INV-2025-003").await;
    shot(&c, "cases").await;

    // The search box in the header finds it by its OCR number, typed with spaces.
    c.goto(&server.url("/console/payouts"))
        .await
        .expect("payouts");
    wait_text(&c, "<h1>Payouts</h1>").await;
    let spaced: String = reference
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    fill(&c, "form.quick input[name=q]", &spaced).await;
    click(&c, "form.quick button").await;
    wait_text(&c, "INV-2025-004").await;

    // A note on the case, with who wrote it.
    c.goto(&server.url(&format!("/console/cases/{case}")))
        .await
        .expect("case");
    wait_text(&c, "Ledger").await;
    fill(
        &c,
        "form.note textarea",
        "Called the debtor; paid 800 kr, the rest next week.",
    )
    .await;
    click(&c, "form.note button").await;
    let page = wait_text(&c, "The note is added.").await;
    assert!(
        page.contains("ops@example.com"),
        "the note names its author"
    );

    // Every page opens, and fits a phone (nothing wider than the screen) and a wide screen.
    let pages = [
        ("/console?account=all", "Overview", "overview-all-accounts"),
        ("/console", "Overview", "overview-default"),
        ("/console/cases?status=open", "Cases", "cases-open"),
        ("/console/register", "Register a case", "register"),
        ("/console/payments", "Payments", "payments"),
        ("/console/payouts", "Payouts", "payouts"),
        ("/console/creditors", "Creditors", "creditors"),
        ("/console/audit", "Audit trail", "audit"),
        ("/console/clock", "Sandbox clock", "clock"),
    ];
    let case_page = format!("/console/cases/{case}");
    for (width, height, suffix) in [(390, 844, "-phone"), (1440, 900, "-1440"), (1280, 1000, "")] {
        c.set_window_size(width, height).await.expect("resize");
        for (path, heading, name) in
            pages
                .iter()
                .copied()
                .chain([(case_page.as_str(), "Case INV-2025-003", "case-detail")])
        {
            c.goto(&server.url(path)).await.expect("open page");
            let page = wait_text(&c, &format!("<h1>{heading}</h1>")).await;
            assert!(!page.contains("Something went wrong"), "{path} failed");
            let overflow = c
                .execute(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                    vec![],
                )
                .await
                .expect("widths")
                .as_i64()
                .expect("a number");
            assert!(
                overflow <= 0,
                "{path} is {overflow} px wider than a {width} px screen"
            );
            if !(suffix.is_empty() && name == "case-detail") {
                shot(&c, &format!("{name}{suffix}")).await;
            }
        }
    }
    // The audit trail names the operator for the payment.
    c.goto(&server.url("/console/audit")).await.expect("audit");
    let page = wait_text(&c, "Console operator").await;
    assert!(
        page.contains("creditor--payments"),
        "the payment is in the audit trail"
    );
    // Collected this month: the bank file's two payments, before the seed adds its own.
    c.goto(&server.url("/console?account=674dbeaf08847b9501cc9132"))
        .await
        .expect("overview");
    wait_text(&c, "Open cases by state").await;
    let collected: String = c
        .execute(
            "return document.querySelectorAll('.stat .n')[2].textContent;",
            vec![],
        )
        .await
        .expect("collected")
        .as_str()
        .expect("text")
        .to_string();
    assert_eq!(
        collected, "800,00\u{a0}kr",
        "the bank file's two payments this month"
    );
    // The overview of the sandbox account, on its own clock, once it has some history: the
    // demo seed lives 150 cases up to the clock's day (and writes what its debtors paid).
    run(&["seed", "--cases", "150"], "");
    c.goto(&server.url("/console?account=674dbeaf08847b9501cc9132"))
        .await
        .expect("overview");
    let page = wait_text(&c, "Open cases by state").await;
    assert!(
        page.contains("As of 2025-09-04"),
        "the sandbox account's own time"
    );
    let open: i64 = c
        .execute(
            "return document.querySelector('.stat .n').textContent;",
            vec![],
        )
        .await
        .expect("open cases")
        .as_str()
        .and_then(|s| s.trim().parse().ok())
        .expect("a number of open cases");
    assert!(open > 0, "seeded cases are open");
    let collected: String = c
        .execute(
            "return document.querySelectorAll('.stat .n')[2].textContent;",
            vec![],
        )
        .await
        .expect("collected")
        .as_str()
        .expect("text")
        .to_string();
    let ore = |s: &str| -> i64 {
        s.trim_end_matches("\u{a0}kr")
            .replace(['\u{a0}', ','], "")
            .parse()
            .unwrap_or(0)
    };
    assert!(
        ore(&collected) >= 800_00,
        "the bank file's payments and the seed's: {collected}"
    );
    let bars: i64 = c
        .execute("return [...document.querySelectorAll('figure.chart rect')].filter(r => +r.getAttribute('height') > 0).length;", vec![])
        .await
        .expect("bars")
        .as_i64()
        .expect("a count");
    assert!(bars > 0, "the charts draw the history");
    shot(&c, "overview").await;
    // The creditor page with its policy and flow.
    click(&c, "nav a[href='/console/creditors']").await;
    wait_text(&c, "<h1>Creditors</h1>").await;
    click(&c, "table a").await;
    wait_text(&c, "Fee policy").await;
    shot(&c, "creditor").await;

    // A form posted without the CSRF token is refused.
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, \
               body: 'amount=1&date=2025-09-03'}).then(r => done(r.status));",
            vec![json!(format!("/console/cases/{case}/payment"))],
        )
        .await
        .expect("post");
    assert_eq!(status, json!(403), "no CSRF token, no action");

    // On a phone.
    c.set_window_size(390, 844).await.expect("resize");
    c.goto(&server.url(&format!("/console/cases/{case}")))
        .await
        .expect("case");
    wait_text(&c, "Ledger").await;
    shot(&c, "case-phone").await;
    c.set_window_size(1280, 1000).await.expect("resize");

    // Sign out: the console asks to sign in again.
    click(&c, "form.signout button").await;
    wait_text(&c, "<h1>Sign in</h1>").await;
    c.goto(&server.url("/console/cases")).await.expect("open");
    wait_text(&c, "<h1>Sign in</h1>").await;

    // Another account's operator does not see the sandbox's case.
    sign_in(&c, &server, "other@example.com").await;
    c.goto(&server.url(&format!("/console/cases/{case}")))
        .await
        .expect("open");
    wait_text(&c, "no such case").await;
    c.goto(&server.url("/console/cases")).await.expect("open");
    let page = wait_text(&c, "<h1>Cases</h1>").await;
    assert!(
        !page.contains("INV-2025-003"),
        "another tenant's case is not listed"
    );
    c.close().await.expect("close the browser");
}
