//! What operators watch: the flow worker's heartbeat (which `/readyz` checks, with the
//! database), and Prometheus metrics on a separate address (`--metrics-bind`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Registrar batch sizes.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The flow worker's heartbeat: when it last finished a loop.
#[derive(Clone, Debug)]
pub struct WorkerBeat {
    last: Arc<AtomicI64>,
    /// How long without a beat before the worker counts as stuck.
    pub allowed_silence: Duration,
}

impl WorkerBeat {
    pub fn new(interval: Duration) -> WorkerBeat {
        WorkerBeat {
            last: Arc::new(AtomicI64::new(unix_now())),
            // A loop can be long (a moved sandbox clock over many cases); ten minutes or
            // twenty intervals, whichever is longer.
            allowed_silence: (interval * 20).max(Duration::from_secs(600)),
        }
    }

    pub fn beat(&self) {
        self.last.store(unix_now(), Ordering::Relaxed);
    }

    /// Sets when the last beat was (seconds since the epoch): for tests of a stuck worker.
    pub fn beat_at(&self, unix: i64) {
        self.last.store(unix, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        Duration::from_secs((unix_now() - self.last.load(Ordering::Relaxed)).max(0) as u64)
    }
}

/// What `/readyz` looks at besides the database.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// `None` when this server runs no worker (`--worker false`).
    pub worker: Option<WorkerBeat>,
}

impl Health {
    /// What is wrong with the worker, if it runs here and has been silent too long.
    pub fn worker_problem(&self) -> Option<String> {
        let w = self.worker.as_ref()?;
        let silent = w.silent_for();
        (silent > w.allowed_silence).then(|| {
            format!(
                "flow worker has not finished a run for {} s",
                silent.as_secs()
            )
        })
    }
}

/// Installs the Prometheus recorder (once per process); the handle renders the text format.
pub fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("indriva_http_request_duration_seconds".into()),
            LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full("indriva_registrar_batch_size".into()),
            BATCH_BUCKETS,
        )?
        .install_recorder()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))?;
    // The gauges are there from the first scrape, before the worker and sender first report.
    metrics::gauge!("indriva_flow_lag_seconds").set(0.0);
    metrics::gauge!("indriva_webhook_delivery_lag_seconds").set(0.0);
    Ok(handle)
}

/// Serves `/metrics` on its own listener until the process ends.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    store: std::sync::Arc<crate::store::Store>,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            let store = store.clone();
            async move {
                let (open, idle) = store.pool_use();
                metrics::gauge!("indriva_db_pool_connections", "state" => "open").set(open as f64);
                metrics::gauge!("indriva_db_pool_connections", "state" => "idle").set(idle as f64);
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }
        }),
    );
    axum::serve(listener, app).await
}

/// Counts every request and its latency, by route (the matched pattern, not the raw path:
/// ids do not make new series), method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("indriva_http_requests_total", &labels).increment(1);
    metrics::histogram!("indriva_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
