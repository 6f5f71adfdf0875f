//! `indriva serve`: the HTTP API (and the console), and on worker nodes the flow worker
//! and the job runner.

use std::sync::Arc;

use clap::Args;

use super::compose::{application, FlowArgs, StoreArgs};
use crate::domain::SystemClock;
use crate::http::AppState;

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

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut store = args.store.open().await?;
    store.set_query_budget(std::time::Duration::from_millis(
        args.query_timeout_ms.max(1),
    ));
    let store = Arc::new(store);
    crate::sandbox::ensure(&store, &SystemClock::new(), Some(&args.store.data_dir)).await?;
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
    let app = application(store.clone(), &args.flow, media.clone())?;
    let auth = crate::auth::Auth::new(crate::auth::AuthSettings {
        token_ttl_secs: i64::from(args.token_ttl_minutes.max(1)) * 60,
        static_ip_networks: args.static_ip_networks.clone(),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let interval = std::time::Duration::from_millis(args.worker_interval_ms.max(10));
    let beat = args
        .worker
        .then(|| crate::observe::WorkerBeat::new(interval));
    let webhook_settings = crate::webhooks::SenderSettings {
        allow_private: args.webhook_allow_private,
        timeout: std::time::Duration::from_secs(args.webhook_timeout_secs.max(1)),
    };
    // The flow worker and the job runner (letters, webhook deliveries, files, scheduled
    // payouts) run on the nodes that run the worker.
    let mut background = Vec::new();
    if let Some(beat) = &beat {
        background.push(tokio::spawn(crate::audit::scope(
            crate::audit::Actor::worker(),
            crate::worker::run_forever(app.clone(), interval, beat.clone(), stopped.clone()),
        )));
        crate::worker::ensure_recurring_jobs(&store, app.clocks.real().unix()).await?;
        let runner = crate::worker::job_runner(
            crate::worker::JobContext {
                app: app.clone(),
                renderer: args.flow.renderer(media.clone(), &args.store.data_dir),
                sender: crate::webhooks::Sender::new(webhook_settings.clone())?,
            },
            crate::worker::Jobs::All,
        );
        let stop = stopped.clone();
        background.push(tokio::spawn(crate::audit::scope(
            crate::audit::Actor::worker(),
            async move { runner.run_until_stopped(interval, stop).await },
        )));
    }
    let state = AppState {
        app,
        auth: Arc::new(auth),
        limits: crate::http::Limits {
            json_body: args.max_json_body_kb.max(1) * 1024,
        },
        public_url: args.public_url.clone(),
        health: crate::observe::Health { worker: beat },
        webhooks: webhook_settings,
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
            store.clone(),
        ));
    }
    crate::http::serve::serve(
        listener,
        crate::http::app(state),
        crate::http::serve::ConnectionLimits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
            body_timeout: std::time::Duration::from_secs(args.body_timeout_secs.max(1)),
            max_connections: args.max_connections.max(1),
        },
        shutdown_signal(),
    )
    .await?;
    // The worker finishes the case batch it is writing, the runner its round, then stop.
    let _ = stop.send(true);
    for task in background {
        let _ = task.await;
    }
    store.close().await;
    tracing::info!("stopped");
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
    let signal = tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = term => "SIGTERM",
    };
    tracing::info!(
        signal,
        "shutting down: no new connections; finishing the requests in flight and the worker's batch"
    );
}
