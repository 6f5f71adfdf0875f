//! Command-line interface: `indriva serve`, `indriva seed` and `indriva admin`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::domain::{ObjectId, SystemClock};
use crate::http::{app, AppState};
use crate::store::{default_sqlite_url, Store};

#[derive(Parser, Debug)]
#[command(
    name = "indriva",
    version,
    about = "Debt-collection case management server, wire-compatible with Amili's creditor API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP API server.
    Serve(ServeArgs),
    /// Fill the database with realistic demo cases.
    Seed(SeedArgs),
    /// Onboard clients: accounts, creditors and API users.
    Admin(AdminArgs),
    /// The case flow: run due items now (as the server's worker does every second).
    Flow(FlowCommandArgs),
    /// Import a bank file of debtor payments (as `POST /bank--files` does).
    Import(ImportArgs),
    /// Bankgirot BgMax files: write one for tests and demos.
    Bgmax(BgmaxArgs),
    /// Payouts to creditors.
    Finance(FinanceArgs),
    /// Personal data: export what is held about one person; pseudonymise closed cases past
    /// their retention.
    #[command(name = "personal-data")]
    PersonalData(PersonalDataArgs),
    /// Print the audit trail, newest first, one JSON event per line.
    Audit(AuditArgs),
    /// Write a backup (one archive: a consistent copy of the SQLite database, the media and
    /// the keys) while the server runs. With PostgreSQL, back the database up with `pg_dump`;
    /// the archive then holds the media and keys.
    Backup(BackupArgs),
    /// Unpack a backup into an empty data dir, then open and check its database.
    Restore(RestoreArgs),
    /// Print the OpenAPI 3.1 document (the one served at `/openapi.json`), for client
    /// generators.
    Openapi,
}

#[derive(Args, Debug)]
pub struct FinanceArgs {
    #[command(subcommand)]
    pub command: FinanceCommand,
}

#[derive(Subcommand, Debug)]
pub enum FinanceCommand {
    /// Group every creditor's unpaid payout-specification lines (booked by today) into a
    /// payout, whatever its schedule (the worker pays on each creditor's schedule). A payout
    /// below the creditor's minimum waits.
    PayoutRun {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub command: ImportCommand,
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// A BgMax file of payments into the agency's bankgiro (`--bankgiro`): each payment is
    /// put on the case its OCR reference names, the rest kept as unmatched payments. The
    /// same file twice adds nothing.
    Bgmax {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        flow: FlowArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Debug)]
pub struct BgmaxArgs {
    #[command(subcommand)]
    pub command: BgmaxCommand,
}

#[derive(Subcommand, Debug)]
pub enum BgmaxCommand {
    /// Write a BgMax file (one deposit) to stdout or `--out`.
    Generate {
        /// The payee bankgiro number.
        #[arg(long, default_value = crate::letters::SANDBOX_BANKGIRO)]
        bankgiro: String,
        /// The payment date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// A payment with an OCR reference, `OCR:AMOUNT` (kronor, e.g. 20252460000000000105:2014.00).
        /// Repeat for more.
        #[arg(long = "ocr")]
        ocr: Vec<String>,
        /// A payment with a free-text reference (not matched by itself), `TEXT:AMOUNT`.
        #[arg(long = "text")]
        text: Vec<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct FlowCommandArgs {
    #[command(subcommand)]
    pub command: FlowCommand,
    #[command(flatten)]
    pub flow: FlowArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Subcommand, Debug)]
pub enum FlowCommand {
    /// Run every flow item and interest posting due, then render the letters they queued.
    Run {
        /// Run what is due by this date (RFC 1123, e.g. "Fri, 19 Sep 2025 00:00:00 GMT"):
        /// a sandbox account's clock is moved there (forward only); an ordinary account
        /// cannot run ahead of real time. Default: each account's current time.
        #[arg(long)]
        until: Option<String>,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub command: crate::admin::AdminCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Directory for the embedded database and local media.
    #[arg(
        long,
        env = "INDRIVA_DATA_DIR",
        default_value = "./indriva-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL; default is a SQLite file in the data dir. `postgres://…` selects
    /// PostgreSQL.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database: Option<String>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "INDRIVA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// How long an access token from /authenticates/api-code is valid, in minutes.
    #[arg(long, env = "INDRIVA_TOKEN_TTL_MINUTES", default_value_t = 60)]
    pub token_ttl_minutes: u32,
    /// Networks (comma-separated CIDRs) allowed to use the plain POST /authenticates/api-code
    /// method (Amili's static-IP method).
    #[arg(
        long,
        env = "INDRIVA_STATIC_IP_NETWORKS",
        default_value = "127.0.0.0/8,::1/128",
        value_delimiter = ','
    )]
    pub static_ip_networks: Vec<ipnet::IpNet>,
    /// Where uploaded files go: `s3://bucket/prefix`, `gs://…`, `az://…`; default a `media`
    /// folder in the data dir.
    #[arg(long, env = "INDRIVA_MEDIA_URL")]
    pub media_url: Option<String>,
    /// Largest file accepted by /media--upload, in MB.
    #[arg(long, env = "INDRIVA_MAX_UPLOAD_MB", default_value_t = 20)]
    pub max_upload_mb: usize,
    /// Largest JSON request body, in KB.
    #[arg(long, env = "INDRIVA_MAX_JSON_BODY_KB", default_value_t = 1024)]
    pub max_json_body_kb: usize,
    /// How long a client has to send a request's headers, in seconds; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "INDRIVA_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,
    /// How long a client has to send a request's whole body, in seconds (408 after).
    #[arg(long, env = "INDRIVA_BODY_TIMEOUT_SECS", default_value_t = 120)]
    pub body_timeout_secs: u64,
    /// Connections open at once; further ones wait until one closes.
    #[arg(long, env = "INDRIVA_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// How long one list query (`GET /<resource>` with its `where` and `sort`) may run before
    /// it is stopped and answered 400, in milliseconds.
    #[arg(long, env = "INDRIVA_QUERY_TIMEOUT_MS", default_value_t = 5000)]
    pub query_timeout_ms: u64,
    /// Public base URL of this server, used in signed media URLs (default: http:// + Host).
    #[arg(long, env = "INDRIVA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve Prometheus metrics at `http://<this address>/metrics` (off by default; keep it
    /// on a private interface).
    #[arg(long, env = "INDRIVA_METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Let webhooks call loopback and private addresses (refused by default, so a tenant
    /// cannot make the server call into its own network).
    #[arg(long, env = "INDRIVA_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub webhook_allow_private: bool,
    /// How long a webhook receiver has to answer, in seconds, before the attempt counts as
    /// failed (and is retried).
    #[arg(long, env = "INDRIVA_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    #[command(flatten)]
    pub flow: FlowArgs,
    /// Run the flow worker in this process (turn off on API-only nodes).
    #[arg(long, env = "INDRIVA_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub worker: bool,
    /// How often the flow worker looks for due cases, in milliseconds.
    #[arg(long, env = "INDRIVA_WORKER_INTERVAL_MS", default_value_t = 1000)]
    pub worker_interval_ms: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The flow engine's and the letters' settings (`serve` and `flow run`).
#[derive(Args, Debug, Clone)]
pub struct FlowArgs {
    /// A reference-rate table (`effective_from,percent` lines) to use instead of the built-in
    /// one; see docs/interest.md.
    #[arg(long, env = "INDRIVA_REFERENCE_RATES")]
    pub reference_rates: Option<PathBuf>,
    /// The agency's bankgiro number, printed on letters with each case's OCR reference.
    #[arg(long, env = "INDRIVA_BANKGIRO", default_value = crate::letters::SANDBOX_BANKGIRO)]
    pub bankgiro: String,
    /// The agency's name on letters.
    #[arg(
        long,
        env = "INDRIVA_AGENCY_NAME",
        default_value = "Indriva Inkasso (sandbox)"
    )]
    pub agency_name: String,
    /// The agency's organisation number on letters.
    #[arg(long, env = "INDRIVA_AGENCY_ORG_NO", default_value = "559000-0000")]
    pub agency_org_no: String,
    /// The agency's postal address on letters, lines separated by `|`.
    #[arg(
        long,
        env = "INDRIVA_AGENCY_ADDRESS",
        default_value = "Box 100|111 21 Stockholm"
    )]
    pub agency_address: String,
    /// Where debtors write to object, printed on letters.
    #[arg(
        long,
        env = "INDRIVA_AGENCY_EMAIL",
        default_value = "inkasso@example.se"
    )]
    pub agency_email: String,
    #[arg(long, env = "INDRIVA_AGENCY_PHONE", default_value = "08-000 00 00")]
    pub agency_phone: String,
    /// Directory of letter templates replacing the built-in one (default:
    /// `<data dir>/templates`); see docs/letters.md.
    #[arg(long, env = "INDRIVA_TEMPLATES_DIR")]
    pub templates_dir: Option<PathBuf>,
    /// Cases per transaction when the flow worker writes in bulk (a moved sandbox clock, a
    /// backlog): more is faster and holds more memory meanwhile.
    #[arg(long, env = "INDRIVA_FLOW_BATCH", default_value_t = crate::cases::DEFAULT_BATCH)]
    pub flow_batch: i64,
}

impl FlowArgs {
    pub fn engine(&self) -> anyhow::Result<crate::cases::Engine> {
        anyhow::ensure!(self.flow_batch >= 1, "--flow-batch must be at least 1");
        let engine = match &self.reference_rates {
            Some(p) => crate::cases::Engine::with_rates_file(p)?,
            None => crate::cases::Engine::default(),
        };
        Ok(crate::cases::Engine {
            batch: self.flow_batch,
            ..engine
        })
    }

    pub fn renderer(
        &self,
        media: crate::media::Media,
        data_dir: &Path,
    ) -> crate::letters::Renderer {
        crate::letters::Renderer {
            media,
            templates: crate::letters::Templates {
                dir: Some(
                    self.templates_dir
                        .clone()
                        .unwrap_or_else(|| data_dir.join("templates")),
                ),
            },
            agency: crate::letters::Agency {
                name: self.agency_name.clone(),
                org_no: self.agency_org_no.clone(),
                address: self
                    .agency_address
                    .split('|')
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect(),
                email: self.agency_email.clone(),
                phone: self.agency_phone.clone(),
                bankgiro: self.bankgiro.clone(),
            },
        }
    }
}

#[derive(Args, Debug)]
pub struct PersonalDataArgs {
    #[command(subcommand)]
    pub command: PersonalDataCommand,
}

#[derive(Subcommand, Debug)]
pub enum PersonalDataCommand {
    /// Everything held about the holder of an identity number, as JSON (right of access).
    Export {
        /// Personnummer, samordningsnummer or organisationsnummer, in any accepted notation.
        #[arg(long)]
        id_number: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Pseudonymise the name, identity number, customer number, address and contact details
    /// of cases closed before the retention ends (and their registrations, and customers
    /// with no case left), and delete their uploaded invoices and letter PDFs. Amounts, dates
    /// and the ledger are kept.
    Purge {
        /// Years kept after the end of the year a case closed (the Bookkeeping Act's seven).
        #[arg(long, env = "INDRIVA_RETENTION_YEARS", default_value_t = 7)]
        retention_years: u32,
        /// Count what would be purged; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where uploaded files are (as `serve --media-url`).
        #[arg(long, env = "INDRIVA_MEDIA_URL")]
        media_url: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only this account's events.
    #[arg(long)]
    pub account: Option<String>,
    /// Only the events of this document (a case's id, …).
    #[arg(long)]
    pub item: Option<String>,
    /// How many events.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The archive to write (it must not exist).
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The archive `indriva backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Number of cases to create.
    #[arg(long)]
    pub cases: u64,
    /// Seed this account (over its creditors) instead of the sandbox account.
    #[arg(long)]
    pub account: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl StoreArgs {
    /// Creates the data dir and opens the store.
    pub async fn open(&self) -> anyhow::Result<Store> {
        Store::open(&self.url()?)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))
    }

    /// Opens the store for bulk loading (the seed).
    pub async fn open_for_bulk_load(&self) -> anyhow::Result<Store> {
        Store::open_for_bulk_load(&self.url()?)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))
    }

    fn url(&self) -> anyhow::Result<String> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create data dir {}: {e}", self.data_dir.display())
        })?;
        crate::datadir::check(&self.data_dir);
        Ok(self
            .database
            .clone()
            .unwrap_or_else(|| default_sqlite_url(&self.data_dir)))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("INDRIVA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // INDRIVA_LOG_FORMAT=json: one JSON object per line, for log shippers.
    if std::env::var("INDRIVA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    crate::datadir::owner_only_from_now_on();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The command as the audit trail names it: its words, not its arguments.
    let words: Vec<String> = std::env::args()
        .skip(1)
        .take_while(|a| !a.starts_with('-'))
        .collect();
    let actor = crate::audit::Actor::command(&format!("indriva {}", words.join(" ")));
    let result = rt.block_on(crate::audit::scope(actor, async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Seed(args) => seed(args).await,
            Command::Admin(args) => admin(args).await,
            Command::Flow(args) => flow(args).await,
            Command::Import(args) => import(args).await,
            Command::Bgmax(args) => bgmax(args),
            Command::Finance(args) => finance(args).await,
            Command::Audit(args) => audit(args).await,
            Command::PersonalData(args) => personal_data(args).await,
            Command::Backup(args) => backup(args).await,
            Command::Restore(args) => restore(args).await,
            Command::Openapi => {
                println!("{:#}", crate::http::openapi::build());
                Ok(())
            }
        }
    }));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let engine = args.flow.engine()?;
    let mut store = args.store.open().await?;
    store.set_query_budget(std::time::Duration::from_millis(
        args.query_timeout_ms.max(1),
    ));
    let store = Arc::new(store);
    let clock = Arc::new(SystemClock::new());
    crate::sandbox::ensure(&store, clock.as_ref(), Some(&args.store.data_dir)).await?;
    let clocks = crate::clocks::Clocks::new(clock);
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.bind))?;
    tracing::info!(bind = %args.bind, data_dir = %args.store.data_dir.display(), backend = ?store.dialect(), "indriva listening");
    let creds = crate::sandbox::credentials_path(&args.store.data_dir);
    if creds.exists() {
        tracing::info!(
            "sandbox API user: see {}. Sign a JWT {{\"api_code\", \"exp\": now + 600}} with its ES256 private key and \
             GET /authenticates/api-code with header X-API-Key: <jwt>; or, from this machine, POST /authenticates/api-code \
             with {{\"api_code\": \"…\"}}. Send the returned token as X-API-Key.",
            creds.display()
        );
    }
    let media = crate::media::Media::open(
        args.media_url.as_deref(),
        &args.store.data_dir,
        args.max_upload_mb.max(1) * 1024 * 1024,
    )?;
    let auth = crate::http::auth::Auth::new(crate::http::auth::AuthSettings {
        token_ttl_secs: i64::from(args.token_ttl_minutes.max(1)) * 60,
        static_ip_networks: args.static_ip_networks.clone(),
    });
    let renderer = args.flow.renderer(media.clone(), &args.store.data_dir);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop_sending = stopped.clone();
    let interval = std::time::Duration::from_millis(args.worker_interval_ms.max(10));
    let beat = args
        .worker
        .then(|| crate::observe::WorkerBeat::new(interval));
    let worker_beat = beat.clone();
    let worker = args.worker.then(|| {
        tokio::spawn(crate::audit::scope(
            crate::audit::Actor::worker(),
            crate::worker::run_forever(
                store.clone(),
                engine.clone(),
                clocks.clone(),
                renderer,
                interval,
                worker_beat.unwrap_or_else(|| crate::observe::WorkerBeat::new(interval)),
                stopped,
            ),
        ))
    });
    let webhook_settings = crate::webhooks::SenderSettings {
        allow_private: args.webhook_allow_private,
        timeout: std::time::Duration::from_secs(args.webhook_timeout_secs.max(1)),
    };
    // Webhook deliveries are sent by the nodes that run the worker.
    let sender = args
        .worker
        .then(|| crate::webhooks::Sender::new(webhook_settings.clone()))
        .transpose()?
        .map(|sender| {
            tokio::spawn(crate::audit::scope(
                crate::audit::Actor::worker(),
                crate::webhooks::run_forever(
                    store.clone(),
                    clocks.clone(),
                    sender,
                    interval,
                    stop_sending.clone(),
                ),
            ))
        });
    let state = AppState {
        store: store.clone(),
        clocks,
        engine: engine.clone(),
        auth: Arc::new(auth),
        limits: crate::http::Limits {
            json_body: args.max_json_body_kb.max(1) * 1024,
        },
        media,
        registrar: crate::registrar::Registrar::start(store.clone(), engine),
        public_url: args.public_url.clone(),
        bankgiro: args.flow.bankgiro.clone(),
        health: crate::observe::Health { worker: beat },
        webhooks: webhook_settings.clone(),
    };
    if let Some(addr) = &args.metrics_bind {
        let handle = crate::observe::install_metrics()?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on --metrics-bind {addr}: {e}"))?;
        tracing::info!(address = %addr, "metrics at /metrics");
        tokio::spawn(crate::observe::serve_metrics(
            listener,
            handle,
            state.clone(),
        ));
    }
    crate::http::serve::serve(
        listener,
        app(state),
        crate::http::serve::ConnectionLimits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
            body_timeout: std::time::Duration::from_secs(args.body_timeout_secs.max(1)),
            max_connections: args.max_connections.max(1),
        },
        shutdown_signal(),
    )
    .await?;
    // The worker finishes the case batch it is writing, then stops.
    let _ = stop.send(true);
    if let Some(w) = worker {
        let _ = w.await;
    }
    if let Some(s) = sender {
        let _ = s.await;
    }
    store.close().await;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

async fn personal_data(args: PersonalDataArgs) -> anyhow::Result<()> {
    let today = crate::domain::clock::Clock::now(&SystemClock::new());
    match args.command {
        PersonalDataCommand::Export { id_number, store } => {
            let store = store.open().await?;
            let out = crate::personal::export(&store, &id_number, today).await;
            store.close().await;
            println!("{:#}", out?);
        }
        PersonalDataCommand::Purge {
            retention_years,
            dry_run,
            media_url,
            store: store_args,
        } => {
            let store = store_args.open().await?;
            let result = crate::personal::purge(&store, today, retention_years, dry_run).await;
            store.close().await;
            let purged = result?;
            let mut deleted = 0;
            if !dry_run && !purged.files.is_empty() {
                let media =
                    crate::media::Media::open(media_url.as_deref(), &store_args.data_dir, 1)?;
                for key in &purged.files {
                    match media.store.delete(&media.path(key)).await {
                        Ok(()) => deleted += 1,
                        Err(e) => tracing::warn!(error = %e, "could not delete a purged file"),
                    }
                }
            }
            let cutoff = crate::personal::cutoff(today, retention_years)
                .map(|d| d.to_string())
                .unwrap_or_default();
            println!(
                "{}cases closed before {cutoff}: {} case(s), {} registration(s), {} customer(s), {} letter(s) pseudonymised; {} file(s) {}",
                if dry_run { "dry run, nothing changed. " } else { "" },
                purged.cases,
                purged.registrations,
                purged.customers,
                purged.letters,
                if dry_run { purged.files.len() } else { deleted },
                if dry_run { "to delete" } else { "deleted" },
            );
        }
    }
    Ok(())
}

async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    use crate::eve::{Filter, Paging, Sort, Val};
    let mut parts = Vec::new();
    if let Some(a) = &args.account {
        let id = crate::domain::ObjectId::parse(a)
            .map_err(|_| anyhow::anyhow!("--account {a} is not an id"))?;
        parts.push(Filter::eq("account", Val::Oid(id)));
    }
    if let Some(i) = &args.item {
        let id = crate::domain::ObjectId::parse(i)
            .map_err(|_| anyhow::anyhow!("--item {i} is not an id"))?;
        parts.push(Filter::eq("writes.item", Val::Oid(id)));
    }
    let filter = match parts.len() {
        0 => Filter::True,
        _ => Filter::And(parts),
    };
    let store = args.store.open().await?;
    let page = store
        .list(
            &crate::resources::AUDIT_EVENTS,
            &crate::store::ListQuery {
                scope: &crate::tenancy::Scope::unrestricted(),
                filter: &filter,
                sort: &Sort::parse("-_created,-_id")?,
                paging: Paging {
                    page: 1,
                    max_results: args.limit.max(1),
                },
                search: &[],
            },
        )
        .await;
    store.close().await;
    for row in page?.rows {
        println!("{}", row.doc);
    }
    Ok(())
}

async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    let result = crate::backup::backup(&store, &args.store.data_dir, &args.to).await;
    store.close().await;
    let report = result?;
    println!(
        "wrote {} ({} bytes): {}, {} media file(s), keys",
        args.to.display(),
        report.bytes,
        if report.database {
            "the database"
        } else {
            "no database (PostgreSQL: back it up with pg_dump)"
        },
        report.media_files
    );
    Ok(())
}

async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let dir = &args.store.data_dir;
    let restored = crate::backup::unpack(&args.from, dir)?;
    let has_db = restored
        .iter()
        .any(|p| p == std::path::Path::new("indriva.db"));
    if args.store.database.is_some() || !has_db {
        println!(
            "unpacked {} file(s) into {}; the database is not in the archive: restore it with pg_restore/psql",
            restored.len(),
            dir.display()
        );
        return Ok(());
    }
    let store = args.store.open().await?;
    let integrity = store.integrity().await;
    let cases = store.count_all(&crate::resources::CASES).await;
    store.close().await;
    let integrity = integrity?;
    if integrity != "ok" {
        anyhow::bail!("the restored database is damaged: {integrity}");
    }
    println!(
        "restored {} file(s) into {}: database ok, {} case(s)",
        restored.len(),
        dir.display(),
        cases?
    );
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let ImportCommand::Bgmax { file, flow, store } = args.command;
    let bytes =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let engine = flow.engine()?;
    let store = store.open().await?;
    let clocks = crate::clocks::Clocks::new(Arc::new(SystemClock::new()));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let result = crate::bank::import(&store, &engine, &clocks, &flow.bankgiro, &name, &bytes).await;
    store.close().await;
    let imported = result?;
    let f = &imported.file;
    if imported.already_imported {
        println!(
            "{} was imported before (bank file {}); nothing added",
            file.display(),
            f.id
        );
    } else {
        println!(
            "imported bank file {}: {} payments, {} matched ({} settled), {} unmatched ({}), {} already imported",
            f.id,
            f.payment_count,
            f.matched_count,
            f.settled_amount,
            f.unmatched_count,
            f.unmatched_amount,
            f.duplicate_count
        );
    }
    Ok(())
}

async fn finance(args: FinanceArgs) -> anyhow::Result<()> {
    let FinanceCommand::PayoutRun { store } = args.command;
    let store = store.open().await?;
    let clocks = crate::clocks::Clocks::new(Arc::new(SystemClock::new()));
    let result = crate::finance::payout_run(&store, &clocks, crate::finance::Run::All).await;
    store.close().await;
    let payouts = result?;
    if payouts.is_empty() {
        println!("nothing to pay out");
    }
    for p in payouts {
        println!(
            "payout {} to {} ({}): {} lines, {} + VAT {} = {} ({:?}, {})",
            p.id,
            p.creditor_name,
            p.creditor,
            p.line_count,
            p.amount,
            p.vat_amount,
            p.total_amount,
            p.status,
            p.payout_reference
        );
    }
    Ok(())
}

/// `KEY:AMOUNT` with the amount in kronor.
fn reference_and_amount(s: &str) -> anyhow::Result<(String, crate::domain::Money)> {
    let (reference, amount) = s
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("'{s}': expected REFERENCE:AMOUNT"))?;
    let amount: f64 = amount
        .parse()
        .map_err(|_| anyhow::anyhow!("'{s}': the amount is not a number"))?;
    let amount =
        crate::domain::Money::from_kronor_f64(amount).map_err(|e| anyhow::anyhow!("'{s}': {e}"))?;
    anyhow::ensure!(
        amount > crate::domain::Money::ZERO,
        "'{s}': the amount must be positive"
    );
    Ok((reference.to_string(), amount))
}

fn bgmax(args: BgmaxArgs) -> anyhow::Result<()> {
    use crate::domain::bgmax::{GeneratedPayment, Generator};
    let BgmaxCommand::Generate {
        bankgiro,
        date,
        ocr,
        text,
        out,
    } = args.command;
    let payment_date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--date must be YYYY-MM-DD"))?;
    let mut payments = Vec::new();
    for (list, is_ocr) in [(&ocr, true), (&text, false)] {
        for p in list {
            let (reference, amount) = reference_and_amount(p)?;
            payments.push(GeneratedPayment {
                reference,
                ocr: is_ocr,
                amount,
                payer_name: None,
            });
        }
    }
    anyhow::ensure!(
        !payments.is_empty(),
        "give at least one --ocr or --text payment"
    );
    let generator = Generator {
        payee_bankgiro: crate::bank::bankgiro_digits(&bankgiro),
        payment_date,
        written: chrono::Utc::now().format("%Y%m%d%H%M%S%6f").to_string(),
        payments,
        deductions: vec![],
    };
    let file = generator.render_bytes().map_err(|e| anyhow::anyhow!(e))?;
    match out {
        Some(path) => std::fs::write(&path, file)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&file)?;
        }
    }
    Ok(())
}

async fn flow(args: FlowCommandArgs) -> anyhow::Result<()> {
    let FlowCommand::Run { until, account } = args.command;
    let until = until
        .map(|u| {
            crate::domain::HttpDate::parse_lenient(&u).map_err(|_| {
                anyhow::anyhow!(
                    "--until must be an RFC 1123 date such as 'Fri, 19 Sep 2025 00:00:00 GMT'"
                )
            })
        })
        .transpose()?;
    let only = account
        .map(|a| {
            ObjectId::parse(&a)
                .map_err(|_| anyhow::anyhow!("--account must be a 24-character hex id"))
        })
        .transpose()?;
    let engine = args.flow.engine()?;
    let store = args.store.open().await?;
    let clocks = crate::clocks::Clocks::new(Arc::new(SystemClock::new()));
    let media = crate::media::Media::open(None, &args.store.data_dir, 1)?;
    let renderer = args.flow.renderer(media, &args.store.data_dir);
    let mut total = crate::worker::RunReport::default();
    let result: anyhow::Result<()> = async {
        for (account, _) in store.account_times().await? {
            if only.is_some_and(|o| o != account) {
                continue;
            }
            let t = clocks.time(&store, &account).await?;
            let (to, simulate) = match until {
                None => (t.now, t.set),
                Some(u) if t.sandbox => {
                    let mut tx = store.begin().await?;
                    let moved = tx
                        .move_account_clock(&account, u.unix(), clocks.real().unix())
                        .await?;
                    tx.commit().await?;
                    anyhow::ensure!(
                        moved,
                        "account {account}: {}",
                        crate::http::routes::sandbox::clock::BACKWARDS
                    );
                    (u, true)
                }
                Some(u) => {
                    anyhow::ensure!(
                        u <= clocks.real(),
                        "account {account} lives in real time: --until cannot be in the future"
                    );
                    (u, false)
                }
            };
            let r = crate::worker::run_account(&store, &engine, &account, to, simulate).await?;
            total.cases += r.cases;
            total.items += r.items;
            total.interest_postings += r.interest_postings;
            total.letters += r.letters;
        }
        while renderer.run_once(&store, &clocks).await? > 0 {}
        Ok(())
    }
    .await;
    store.close().await;
    result?;
    println!(
        "ran {} flow items and {} interest postings on {} cases; {} letters queued",
        total.items, total.interest_postings, total.cases, total.letters
    );
    Ok(())
}

async fn admin(args: AdminArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    let result = crate::admin::run(&store, args.command).await;
    store.close().await;
    println!("{}", result?);
    Ok(())
}

async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let account = match &args.account {
        Some(a) => Some(
            ObjectId::parse(a)
                .map_err(|_| anyhow::anyhow!("--account must be a 24-character hex id"))?,
        ),
        None => None,
    };
    let store = args.store.open_for_bulk_load().await?;
    let clock = SystemClock::new();
    let report = crate::seed::run(
        &store,
        &clock,
        args.cases,
        account,
        true,
        Some(&args.store.data_dir),
    )
    .await?;
    println!(
        "seeded {} cases for account {} over {} creditor(s) in {:.1} s ({:.0} cases/s)",
        report.cases,
        report.account,
        report.creditors,
        report.seconds,
        report.cases as f64 / report.seconds.max(1e-9)
    );
    store.close().await;
    Ok(())
}
