//! The HTTP API: axum routes assembled in one router, Eve envelopes for every error, one log
//! line per request (method, path without the query string, status, latency, request id —
//! never a token, key or identity number).

pub mod auth;
pub mod body;
pub mod error;
pub mod eve;
pub mod routes;
pub mod scope;
pub mod write;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use self::error::{envelope, ApiError, MSG_500};
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    /// Real time, and each account's time (a sandbox account's clock).
    pub clocks: crate::clocks::Clocks,
    /// The flow engine's settings (the reference-rate table).
    pub engine: crate::cases::Engine,
    pub auth: Arc<auth::Auth>,
    pub limits: Limits,
    pub media: crate::media::Media,
    /// Writes case registrations in batches (group commit).
    pub registrar: crate::registrar::Registrar,
    /// The server's public base URL (`https://collect.example.com`) for the signed media URLs
    /// it hands out; `None`: `http://` + the request's `Host`.
    pub public_url: Option<String>,
    /// The agency's bankgiro number: bank files must pay into it.
    pub bankgiro: String,
    /// What `/readyz` checks besides the database.
    pub health: crate::observe::Health,
}

/// Size limits on request bodies (larger ones get a 413).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// JSON bodies, in bytes.
    pub json_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_body: body::DEFAULT_JSON_LIMIT,
        }
    }
}

/// The whole application: routes, error fallbacks, panics → 500 envelope, request ids,
/// request logging, and trailing slashes ignored (Eve's `strict_slashes=False`).
pub fn app(state: AppState) -> NormalizePath<Router> {
    let router = Router::new()
        .route("/healthz", get(crate::observe::healthz))
        .route("/readyz", get(crate::observe::readyz))
        .route(
            "/authenticates/api-code",
            get(routes::authenticates::get::handler).post(routes::authenticates::post::handler),
        )
        .route(
            "/case--registrations",
            get(routes::case_registrations::list::handler)
                .post(routes::case_registrations::post::handler),
        )
        .route(
            "/case--registrations/{id}",
            get(routes::case_registrations::get::handler),
        )
        .route(
            "/media--upload/{reference_id}",
            axum::routing::post(routes::media::upload::handler)
                // The handler counts the bytes itself, against the media limit.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/media/{*key}", get(routes::media::download::handler))
        .route("/cases", get(routes::cases::list::handler))
        .route("/cases/{id}", get(routes::cases::get::handler))
        .route("/cases/{id}/forecast", get(routes::cases::forecast::handler))
        .route(
            "/creditor--payments",
            get(routes::creditor_actions::payments::list)
                .post(routes::creditor_actions::payments::post),
        )
        .route(
            "/creditor--payments/{id}",
            get(routes::creditor_actions::payments::get),
        )
        .route(
            "/creditor--creditings",
            get(routes::creditor_actions::creditings::list)
                .post(routes::creditor_actions::creditings::post),
        )
        .route(
            "/creditor--creditings/{id}",
            get(routes::creditor_actions::creditings::get),
        )
        .route(
            "/creditor--cancellations",
            get(routes::creditor_actions::cancellations::list)
                .post(routes::creditor_actions::cancellations::post),
        )
        .route(
            "/creditor--cancellations/{id}",
            get(routes::creditor_actions::cancellations::get),
        )
        .route(
            "/bank--files",
            get(routes::bank_files::list)
                .post(routes::bank_files::post)
                .layer(axum::extract::DefaultBodyLimit::max(
                    routes::bank_files::MAX_FILE_BYTES + 64 * 1024,
                )),
        )
        .route("/bank--files/{id}", get(routes::bank_files::get))
        .route(
            "/payments--unmatched",
            get(routes::unmatched_payments::list),
        )
        .route(
            "/payments--unmatched/{id}",
            get(routes::unmatched_payments::get),
        )
        .route(
            "/payments--unmatched/{id}/match",
            axum::routing::post(routes::unmatched_payments::match_to_case),
        )
        .route(
            "/finance--payout-specifications",
            get(routes::finance::specifications),
        )
        .route(
            "/finance--payout-specifications/{id}",
            get(routes::finance::specification),
        )
        .route("/finance--payouts", get(routes::finance::payouts))
        .route("/finance--payouts/{id}", get(routes::finance::payout))
        .route("/case--respites", get(routes::case_respites::list))
        .route(
            "/case--respites/{id}",
            get(routes::case_respites::get).post(routes::case_respites::post),
        )
        .route("/case--letters", get(routes::case_letters::list::handler))
        .route("/case--letters/{id}", get(routes::case_letters::get::handler))
        .route(
            "/sandbox/clock",
            get(routes::sandbox::clock::get).post(routes::sandbox::clock::post),
        )
        .route("/sandbox/reset", axum::routing::post(routes::sandbox::reset::post))
        .route(
            "/accounts",
            get(routes::accounts::list::handler).post(routes::accounts::post),
        )
        .route(
            "/accounts/{id}",
            get(routes::accounts::get::handler).patch(routes::accounts::patch::handler),
        )
        .route("/access--groups", get(routes::access_groups::list::handler))
        .route("/access--groups/{id}", get(routes::access_groups::get::handler))
        .route("/customers", get(routes::customers::list::handler))
        .route("/customers/{id}", get(routes::customers::get::handler))
        .route(
            "/users",
            get(routes::users::list::handler).post(routes::users::post::handler),
        )
        .route("/users/{id}", get(routes::users::get::handler))
        .route(
            "/creditors",
            get(routes::creditors::list::handler).post(routes::creditors::post::handler),
        )
        .route(
            "/creditors/{id}",
            get(routes::creditors::get::handler)
                .patch(routes::creditors::patch::handler)
                .delete(routes::creditors::delete::handler),
        )
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
        .route_layer(axum::middleware::from_fn(crate::observe::track))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| -> Response {
            tracing::error!("handler panicked");
            envelope(StatusCode::INTERNAL_SERVER_ERROR, MSG_500)
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|r| r.header_value().to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_request(())
                .on_response(|resp: &Response, latency: Duration, _: &tracing::Span| {
                    tracing::info!(status = resp.status().as_u16(), latency_us = latency.as_micros() as u64, "served");
                })
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(Counter::default()));
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// Request ids: a process-unique counter, cheap and readable in logs.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{n:x}"))
            .ok()
            .map(RequestId::new)
    }
}

impl IntoResponse for crate::store::StoreError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
