//! Seeds a data dir, starts `indriva serve` on it and load-tests three read scenarios.
//!
//! Run with `cargo build --release && cargo run --release -p indriva-bench -- [options]`;
//! see `--help` for the options.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Seed an indriva data dir, start the server and measure read throughput and latency.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Number of cases to seed (ignored with --reuse).
    #[arg(long, default_value_t = 1_000_000)]
    cases: u64,
    /// Data dir for the seeded database and the server log. Deleted and re-seeded unless --reuse.
    #[arg(long, default_value = "./target/bench-data")]
    data_dir: PathBuf,
    /// Reuse an already-seeded --data-dir instead of deleting and seeding it again.
    #[arg(long)]
    reuse: bool,
    /// Path to the indriva server binary [default: `indriva` next to this executable].
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Port the server listens on (bound to 127.0.0.1).
    #[arg(long, default_value_t = 18080)]
    port: u16,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unrecorded warm-up seconds before each scenario's measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Number of concurrent keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Creditor whose cases scenarios (a) and (b) query. The default is the sandbox creditor,
    /// which `indriva seed` gives the largest share (40 %) of the cases.
    #[arg(long, default_value = "674dbeb208847b9501cc9138")]
    creditor: String,
    /// Comma-separated scenarios: a = open cases of a creditor, b = cases closed since a date,
    /// c = one case by id, d = open cases whose next step is due by a date (an hour, a week
    /// and a quarter ahead, in turn), r = case registrations (POST, one debt each; writes!),
    /// m = half the connections run (a) while the other half run (r),
    /// f = move the sandbox clock 30 days forward, running every flow item due by then
    /// (writes!; run it last or on its own).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "a,b,c,d,r")]
    scenarios: Vec<Scenario>,
    /// Run the server's background flow worker during the scenarios. Off by default so that
    /// the read and write figures are not blurred by the worker catching up on the cases the
    /// seed registered in its last minutes (and rendering their letters); (f) runs the flow
    /// itself either way.
    #[arg(long)]
    worker: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Scenario {
    A,
    B,
    C,
    D,
    R,
    M,
    F,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::A => "(a) open cases",
            Scenario::B => "(b) closed since",
            Scenario::C => "(c) one case",
            Scenario::D => "(d) due by a date",
            Scenario::R => "(r) registrations",
            Scenario::M => "(m) reads + writes",
            Scenario::F => "(f) clock +30 days",
        }
    }
}

/// Kills the server process when dropped, so it never outlives the benchmark.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Outcome {
    label: String,
    hist: Histogram<u64>,
    errors: u64,
    secs: f64,
    peak_rss_kb: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.duration > 0.0, "--duration must be positive");
    ensure!(args.warmup >= 0.0, "--warmup must not be negative");
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    tokio::select! {
        result = run(&args) => result,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

async fn run(args: &Args) -> Result<()> {
    let bin = match &args.bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()
            .context("cannot determine the bench executable's path")?
            .with_file_name("indriva"),
    };
    if !bin.is_file() {
        bail!(
            "server binary not found at {}: run `cargo build --release` first (or pass --bin PATH)",
            bin.display()
        );
    }
    println!("server binary: {}", bin.display());
    let mut seed_secs = None;
    if args.reuse {
        ensure!(
            args.data_dir.is_dir(),
            "--reuse given but {} does not exist",
            args.data_dir.display()
        );
    } else {
        seed_secs = Some(seed(&bin, args).await?);
    }

    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    if TcpStream::connect(addr).await.is_ok() {
        bail!("something already listens on {addr}; stop it or pick another --port");
    }
    let log_path = args.data_dir.join("server.log");
    let log =
        File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let child = Command::new(&bin)
        .arg("serve")
        .args(["--bind", &addr.to_string()])
        .args(["--worker", if args.worker { "true" } else { "false" }])
        .arg("--data-dir")
        .arg(&args.data_dir)
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .context("cannot duplicate the log file handle")?,
        )
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {} serve", bin.display()))?;
    let mut server = ServerGuard(child);
    let pid = server.0.id();
    wait_ready(addr, &mut server, &log_path).await?;
    println!(
        "server ready on {addr} (pid {pid}, log {})",
        log_path.display()
    );

    authenticate(addr, &args.data_dir).await?;
    let (ids, total) = discover(addr).await?;
    let creditor = args.creditor.clone();
    println!(
        "creditor {creditor}, {} case ids collected, {total} cases in total",
        ids.len()
    );

    let mut outcomes = Vec::new();
    let mut flow = None;
    for &scenario in &args.scenarios {
        if scenario == Scenario::F {
            flow = Some(move_clock(addr, pid).await?);
            continue;
        }
        for o in run_scenario(scenario, addr, pid, &creditor, &ids, args).await? {
            println!(
            "{:<19} {:>6.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}  peak RSS {}  ({} requests, {:.1} s, concurrency {})",
            o.label,
            o.hist.len() as f64 / o.secs,
            ms(&o.hist, 0.5),
            ms(&o.hist, 0.99),
            o.errors,
            mb(o.peak_rss_kb),
            o.hist.len(),
            o.secs,
            args.concurrency
        );
            outcomes.push(o);
        }
    }
    let hwm = proc_status_kb(pid, "VmHWM:");
    println!("server VmHWM {}", mb(hwm));
    print_summary(args, total, seed_secs, hwm, &outcomes);
    if let Some(f) = flow {
        println!(
            "- (f) clock +30 days: {} flow items and {} interest postings on {} cases, {} letters queued, in {:.1} s: **{:.0} items/s**; then nothing left due ({} items at the same time again); peak RSS {}",
            f.items, f.interest, f.cases, f.letters, f.secs, (f.items + f.interest) as f64 / f.secs, f.again, mb(f.peak_rss_kb)
        );
    }
    Ok(())
}

/// What moving the clock did.
struct FlowRun {
    items: u64,
    interest: u64,
    cases: u64,
    letters: u64,
    secs: f64,
    /// Items run by moving the clock to the same time again (0: nothing was left due).
    again: u64,
    peak_rss_kb: Option<u64>,
}

/// (f): reads the sandbox clock, moves it 30 days forward and times the answer (the server
/// runs every flow item and interest posting due by then before it answers).
async fn move_clock(addr: SocketAddr, pid: u32) -> Result<FlowRun> {
    let now = get_json(addr, "/sandbox/clock").await?;
    let now = now["now"]
        .as_str()
        .context("no `now` in GET /sandbox/clock")?;
    let then = httpdate_plus_days(now, 30)?;
    println!("(f) moving the sandbox clock from {now} to {then}");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = None;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(proc_status_kb(pid, "VmRSS:"));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            peak
        })
    };
    let start = Instant::now();
    let r = post_json(addr, "/sandbox/clock", &serde_json::json!({"now": then})).await?;
    let secs = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let peak_rss_kb = sampler.await.context("memory sampler panicked")?;
    let again = post_json(addr, "/sandbox/clock", &serde_json::json!({"now": then})).await?;
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    let f = FlowRun {
        items: n(&r, "flow_items_run"),
        interest: n(&r, "interest_postings"),
        cases: n(&r, "cases_changed"),
        letters: n(&r, "letters_queued"),
        secs,
        again: n(&again, "flow_items_run") + n(&again, "interest_postings"),
        peak_rss_kb,
    };
    println!(
        "(f) clock +30 days   {:>6.0} items/s  ({} flow items + {} interest postings on {} cases, {} letters queued, {:.1} s; again: {})",
        (f.items + f.interest) as f64 / f.secs, f.items, f.interest, f.cases, f.letters, f.secs, f.again
    );
    Ok(f)
}

/// An RFC 1123 date `days` later.
fn httpdate_plus_days(date: &str, days: u64) -> Result<String> {
    let t = httpdate::parse_http_date(date).context("not an HTTP date")?;
    Ok(httpdate::fmt_http_date(
        t + Duration::from_secs(days * 86_400),
    ))
}

async fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value> {
    let mut sender = connect(addr).await?;
    let req = Request::post(path)
        .header(header::HOST, addr.to_string())
        .header("x-api-key", token())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    ensure!(
        status == StatusCode::OK,
        "POST {path}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).with_context(|| format!("POST {path}: invalid JSON"))
}

/// Deletes the data dir and runs `indriva seed`; returns the seconds it took.
async fn seed(bin: &Path, args: &Args) -> Result<f64> {
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("cannot delete {}", args.data_dir.display()))?;
    }
    let start = Instant::now();
    let status = tokio::process::Command::new(bin)
        .arg("seed")
        .args(["--cases", &args.cases.to_string()])
        .arg("--data-dir")
        .arg(&args.data_dir)
        .status()
        .await
        .with_context(|| format!("cannot run {} seed", bin.display()))?;
    ensure!(
        status.success(),
        "`{} seed` failed: {status}",
        bin.display()
    );
    let secs = start.elapsed().as_secs_f64();
    ensure!(
        args.data_dir.is_dir(),
        "`{} seed` succeeded but did not create {}",
        bin.display(),
        args.data_dir.display()
    );
    println!(
        "seeded {} cases in {secs:.1} s ({:.0} cases/s)",
        args.cases,
        args.cases as f64 / secs
    );
    Ok(secs)
}

async fn wait_ready(addr: SocketAddr, server: &mut ServerGuard, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server
            .0
            .try_wait()
            .context("cannot poll the server process")?
        {
            bail!(
                "server exited during start-up ({status}); see {}",
                log.display()
            );
        }
        let probe = tokio::time::timeout(Duration::from_secs(5), get(addr, "/cases?max_results=1"));
        // Ready once it answers at all: 401 without a token is an answer.
        if let Ok(Ok((StatusCode::OK | StatusCode::UNAUTHORIZED, _))) = probe.await {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("server not ready after 60 s; see {}", log.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Collects up to 2000 case ids; also returns the total number of cases.
async fn discover(addr: SocketAddr) -> Result<(Vec<String>, u64)> {
    let mut ids = Vec::new();
    let mut total = 0;
    for page in 1..=20 {
        let path = format!(
            "/cases?max_results=100&page={page}&projection={}",
            enc(r#"{"_id":1}"#)
        );
        let body = match get_json(addr, &path).await {
            Ok(body) => body,
            Err(_) if !ids.is_empty() => break, // Eve answers 404 past the last page
            Err(e) => return Err(e),
        };
        total = body["_meta"]["total"].as_u64().unwrap_or(total);
        let items = body["_items"]
            .as_array()
            .context("response has no `_items` array")?;
        for item in items {
            ids.push(
                item["_id"]
                    .as_str()
                    .context("case without string `_id`")?
                    .to_owned(),
            );
        }
        if items.len() < 100 {
            break;
        }
    }
    ensure!(!ids.is_empty(), "no case ids found");
    Ok((ids, total))
}

fn scenario_uris(scenario: Scenario, creditor: &str, ids: &[String]) -> Result<Vec<Uri>> {
    let c = serde_json::to_string(creditor)?;
    let paths = match scenario {
        Scenario::A => vec![format!(
            "/cases?where={}&projection={}&sort=-_created&max_results=50",
            enc(&format!(
                r#"{{"creditor":{c},"closed":{{"$exists":false}}}}"#
            )),
            enc(
                r#"{"_id":1,"state":1,"status":1,"debt.invoice_number":1,"total_remaining_capital_amount":1}"#
            )
        )],
        Scenario::B => vec![format!(
            "/cases?where={}&projection={}&sort=-closed.close_date&max_results=50",
            enc(&format!(
                r#"{{"creditor":{c},"closed.close_date":{{"$gt":"Mon, 13 Jan 2025 00:00:00 GMT"}}}}"#
            )),
            enc(
                r#"{"_id":1,"closed":1,"debt.invoice_number":1,"total_remaining_capital_amount":1}"#
            )
        )],
        Scenario::C => ids.iter().map(|id| format!("/cases/{}", enc(id))).collect(),
        // Issue 24: the due-date query over the whole account. The seed schedules the next
        // steps from its own time onwards; an hour ahead matches few cases, late in creation
        // order (the worst case for a page in `_id` order), a quarter ahead most of them.
        Scenario::D => [3_600u64, 7 * 86_400, 90 * 86_400]
            .iter()
            .map(|ahead| {
                let d = httpdate::fmt_http_date(
                    std::time::SystemTime::now() + Duration::from_secs(*ahead),
                );
                format!(
                    "/cases?where={}&max_results=25",
                    enc(&format!(
                        r#"{{"closed":{{"$exists":false}},"next_flow_item.schedule_to_execute":{{"$lte":"{d}"}}}}"#
                    ))
                )
            })
            .collect(),
        Scenario::R => vec!["/case--registrations".to_string()],
        Scenario::M => bail!("(m) is (a) and (r) at once; it has no URIs of its own"),
        Scenario::F => bail!("(f) is one request, not a load test"),
    };
    paths
        .iter()
        .map(|p| {
            p.parse()
                .with_context(|| format!("invalid request URI {p}"))
        })
        .collect()
}

/// Runs one scenario; (m) gives two outcomes, one per half of the connections.
async fn run_scenario(
    scenario: Scenario,
    addr: SocketAddr,
    pid: u32,
    creditor: &str,
    ids: &[String],
    args: &Args,
) -> Result<Vec<Outcome>> {
    // What each connection runs.
    let parts: Vec<(Scenario, String)> = match scenario {
        Scenario::M => vec![
            (Scenario::A, "(m) open cases, beside writes".into()),
            (Scenario::R, "(m) registrations, beside reads".into()),
        ],
        s => vec![(s, s.label().into())],
    };
    let mut part_uris = Vec::new();
    for (s, _) in &parts {
        let uris: Arc<[Uri]> = scenario_uris(*s, creditor, ids)?.into();
        part_uris.push(uris);
    }
    let record_from = Instant::now() + Duration::from_secs_f64(args.warmup);
    let end = record_from + Duration::from_secs_f64(args.duration);
    let reported = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|i| {
            let part = i % parts.len();
            let uris = part_uris[part].clone();
            let first = i * uris.len() / args.concurrency; // spread workers over the ids
            let task = tokio::spawn(worker(
                addr,
                parts[part].0,
                uris,
                first,
                record_from,
                end,
                reported.clone(),
            ));
            (part, task)
        })
        .collect();

    let sampler = tokio::spawn(async move {
        let mut peak = None;
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        while Instant::now() < end {
            tick.tick().await;
            peak = peak.max(proc_status_kb(pid, "VmRSS:"));
        }
        peak
    });

    let mut hists = Vec::new();
    for _ in &parts {
        hists.push((new_histogram()?, 0));
    }
    for (part, w) in workers {
        let (h, e) = w.await.context("load worker panicked")??;
        hists[part].0.add(&h).context("cannot merge histograms")?;
        hists[part].1 += e;
    }
    let peak_rss_kb = sampler.await.context("memory sampler panicked")?;
    Ok(parts
        .into_iter()
        .zip(hists)
        .map(|((_, label), (hist, errors))| Outcome {
            label,
            hist,
            errors,
            secs: args.duration,
            peak_rss_kb,
        })
        .collect())
}

/// One keep-alive connection sending requests back to back until `end`; records only
/// requests started at or after `record_from`. Returns the latency histogram and error count.
#[allow(clippy::too_many_arguments)]
async fn worker(
    addr: SocketAddr,
    scenario: Scenario,
    uris: Arc<[Uri]>,
    first: usize,
    record_from: Instant,
    end: Instant,
    reported: Arc<AtomicBool>,
) -> Result<(Histogram<u64>, u64)> {
    let mut hist = new_histogram()?;
    let mut errors = 0;
    let host = header::HeaderValue::from_str(&addr.to_string())?;
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let mut next = first;
    loop {
        let start = Instant::now();
        if start >= end {
            return Ok((hist, errors));
        }
        let record = start >= record_from;
        let result = async {
            let mut s = match sender.take() {
                Some(s) => s,
                None => connect(addr).await?,
            };
            if s.ready().await.is_err() {
                s = connect(addr).await?; // the server closed the keep-alive connection
            }
            let (req, expected) = if scenario == Scenario::R {
                let body = registration();
                (
                    Request::post(uris[0].clone())
                        .header(header::HOST, host.clone())
                        .header("x-api-key", token())
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Full::new(Bytes::from(body)))?,
                    StatusCode::CREATED,
                )
            } else {
                (
                    Request::get(uris[next % uris.len()].clone())
                        .header(header::HOST, host.clone())
                        .header("x-api-key", token())
                        .body(Full::default())?,
                    StatusCode::OK,
                )
            };
            let resp = s.send_request(req).await?;
            sender = Some(s);
            let status = resp.status();
            let mut body = resp.into_body();
            if status != expected {
                let bytes = body.collect().await?.to_bytes();
                return Ok::<_, anyhow::Error>(Some(format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&bytes)
                )));
            }
            while let Some(frame) = body.frame().await {
                frame?;
            }
            Ok(None)
        }
        .await;
        next = next.wrapping_add(1);
        let error = match result {
            Ok(None) => {
                if record {
                    hist.saturating_record(start.elapsed().as_micros().max(1) as u64);
                }
                continue;
            }
            Ok(Some(msg)) => msg,
            Err(e) => {
                sender = None;
                tokio::time::sleep(Duration::from_millis(10)).await; // don't spin if the server is down
                format!("request failed: {e:#}")
            }
        };
        if record {
            errors += 1;
        }
        if !reported.swap(true, Ordering::Relaxed) {
            eprintln!(
                "first error: {}",
                error.chars().take(1000).collect::<String>()
            );
        }
    }
}

/// Seed 000's registration body with an invoice number no other request uses (in this run
/// or another: the run's start time is part of it).
fn registration() -> String {
    static RUN: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default()
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    serde_json::json!({
        "account": "674dbeaf08847b9501cc9132",
        "creditor": "674dbeb208847b9501cc9138",
        "first_action": "debt_collection",
        "currency": "SEK",
        "customer": {
            "name": "Jane Doe",
            "id_number": "202501012385",
            "address": {"address_line_1": "Business Street 456", "zip_code": "54321",
                        "city": "Gothenburg", "country": "SE"},
            "mobile_number": "+46709876543",
            "email": "jane.doe@domain.se"
        },
        "debts": [{
            "invoice_number": format!("BENCH-{run}-{n}"),
            "debt_description": "Consulting fee",
            "invoice_date": "Mon, 16 Jun 2025 00:00:00 GMT",
            "capital_to_claim": 250.0,
            "invoice_due_days_after_invoice_date": 10
        }]
    })
    .to_string()
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One GET on a fresh connection; returns status and body.
async fn get(addr: SocketAddr, path: &str) -> Result<(StatusCode, Bytes)> {
    let mut sender = connect(addr).await?;
    let req = Request::get(path)
        .header(header::HOST, addr.to_string())
        .header("x-api-key", token())
        .body(Full::default())?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    Ok((status, resp.into_body().collect().await?.to_bytes()))
}

async fn get_json(addr: SocketAddr, path: &str) -> Result<serde_json::Value> {
    let (status, body) = get(addr, path)
        .await
        .with_context(|| format!("GET {path}"))?;
    ensure!(
        status == StatusCode::OK,
        "GET {path}: {status}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).with_context(|| format!("GET {path}: invalid JSON"))
}

/// The access token every request carries.
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn token() -> &'static str {
    TOKEN.get().map(String::as_str).unwrap_or("")
}

/// Gets an access token for the sandbox API user whose credentials `indriva seed` / `serve`
/// wrote to the data dir, with the plain api-code method (allowed from loopback).
async fn authenticate(addr: SocketAddr, data_dir: &Path) -> Result<()> {
    let path = data_dir.join("sandbox-credentials.json");
    let creds: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )?;
    let body = serde_json::json!({"api_code": creds["api_code"]}).to_string();
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) =
        http1::handshake::<_, http_body_util::Full<Bytes>>(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = Request::post("/authenticates/api-code")
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, "application/json")
        .body(http_body_util::Full::new(Bytes::from(body)))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    ensure!(
        status == StatusCode::OK,
        "authentication failed: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    let token = v["token"]
        .as_str()
        .context("no token in the answer")?
        .to_string();
    let _ = TOKEN.set(token);
    Ok(())
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn new_histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("cannot create histogram")
}

fn ms(hist: &Histogram<u64>, quantile: f64) -> f64 {
    hist.value_at_quantile(quantile) as f64 / 1000.0
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or_else(
        || "n/a".to_owned(),
        |kb| format!("{:.1} MB", kb as f64 / 1024.0),
    )
}

/// Reads a `kB` field such as `VmRSS:` from `/proc/<pid>/status` (Linux only).
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    proc_field(&status, field)
}

fn proc_field(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

fn print_summary(
    args: &Args,
    total: u64,
    seed_secs: Option<f64>,
    hwm: Option<u64>,
    outcomes: &[Outcome],
) {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = mb(proc_field(&meminfo, "MemTotal:"));
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |l| l.trim_start_matches([' ', '\t', ':']));
    let cmd: String = std::env::args()
        .skip(1)
        .map(|a| format!(" {}", shell_quote(&a)))
        .collect();

    println!("\n---- summary (for docs/PERFORMANCE.md) ----\n");
    println!("| scenario | req/s | p50 (ms) | p99 (ms) | errors | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|");
    for o in outcomes {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {} |",
            o.label,
            o.hist.len() as f64 / o.secs,
            ms(&o.hist, 0.5),
            ms(&o.hist, 0.99),
            o.errors,
            mb(o.peak_rss_kb)
        );
    }
    println!();
    println!(
        "- cases in database: {total}; {} s per scenario after {} s warm-up, concurrency {}",
        args.duration, args.warmup, args.concurrency
    );
    if let Some(secs) = seed_secs {
        println!(
            "- seed: {} cases in {secs:.1} s ({:.0} cases/s)",
            args.cases,
            args.cases as f64 / secs
        );
    }
    println!("- server VmHWM (peak RSS over the whole run): {}", mb(hwm));
    println!("- machine: nproc = {nproc}, MemTotal = {mem}, CPU: {cpu} (load generator shares these CPUs with the server)");
    println!("- command: `cargo run --release -p indriva-bench --{cmd}`");
}

fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=,:+".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
