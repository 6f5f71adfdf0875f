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
    /// Public base URL of this server, used in signed media URLs (default: http:// + Host).
    #[arg(long, env = "INDRIVA_PUBLIC_URL")]
    pub public_url: Option<String>,
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
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("INDRIVA_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
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
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Seed(args) => seed(args).await,
            Command::Admin(args) => admin(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let store = Arc::new(args.store.open().await?);
    let clock = Arc::new(SystemClock::new());
    crate::sandbox::ensure(&store, clock.as_ref(), Some(&args.store.data_dir)).await?;
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
    let state = AppState {
        store: store.clone(),
        clock,
        auth: Arc::new(auth),
        limits: Default::default(),
        media,
        registrar: crate::registrar::Registrar::start(store.clone()),
        public_url: args.public_url.clone(),
    };
    let service = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        std::net::SocketAddr,
    >(app(state));
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    store.close().await;
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
