//! The HTTP API: axum routes assembled in one router, Eve envelopes for every error, one log
//! line per request (method, path without the query string, status, latency, request id —
//! never a token, key or identity number).

pub mod api;
pub mod body;
pub mod error;
pub mod eve;
pub mod openapi;
pub mod routes;
pub mod scope;
pub mod serve;
pub mod write;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use self::error::{envelope, ApiError, MSG_500};

/// What every handler can reach: the application context and what only HTTP needs.
#[derive(Clone)]
pub struct AppState {
    /// The store, clocks, engine, media and registrar the use cases work with.
    pub app: crate::app::App,
    pub auth: Arc<crate::auth::Auth>,
    pub limits: Limits,
    /// The server's public base URL (`https://collect.example.com`) for the signed media URLs
    /// it hands out; `None`: `http://` + the request's `Host`.
    pub public_url: Option<String>,
    /// What `/readyz` checks besides the database.
    pub health: crate::observe::Health,
    /// Which webhook URLs are accepted (private addresses only when the operator allows).
    pub webhooks: crate::webhooks::SenderSettings,
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
    let api = api_router(state.clone());
    let console = crate::console::ConsoleDeps {
        app: state.app.clone(),
        auth: state.auth.clone(),
        health: state.health.clone(),
        public_url: state.public_url.clone(),
    };
    let router = api
        .clone()
        .merge(crate::console::router(console, api))
        .layer(catch_panics())
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
        .layer(axum::middleware::from_fn(audit_scope))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(Counter::default()));
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// A panic in a handler is answered 500 in the envelope (and logged), not a dropped
/// connection.
type PanicAnswer = fn(Box<dyn std::any::Any + Send>) -> Response;

fn catch_panics() -> CatchPanicLayer<PanicAnswer> {
    CatchPanicLayer::custom(|_| {
        tracing::error!("handler panicked");
        envelope(StatusCode::INTERNAL_SERVER_ERROR, MSG_500)
    })
}

/// The API's routes with their fallbacks and body-size guard (the console calls this router
/// in-process).
fn api_router(state: AppState) -> Router {
    api::endpoints()
        .into_iter()
        .fold(Router::new(), |router, endpoint| {
            router.route(endpoint.path, endpoint.into_router())
        })
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path() == "/" {
                // The root names where to go rather than a bare 404.
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "Nothing is served at /. Indriva's API documentation is at /docs (the OpenAPI \
                     document at /openapi.json), the operator console at /console, and the API's \
                     resources at their own paths (/cases, /case--registrations, …).",
                )
            } else {
                ApiError::not_found()
            }
        })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            refuse_declared_oversize,
        ))
        .with_state(state)
        .route_layer(axum::middleware::from_fn(crate::observe::track))
}

/// Runs the request as its own audit actor: its request id now, its API user once the token
/// is checked.
async fn audit_scope(req: Request, next: axum::middleware::Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or("-")
        .to_string();
    crate::audit::scope(crate::audit::Actor::request(&id), next.run(req)).await
}

/// A body whose `Content-Length` is over the route's limit is refused with 413 before any of
/// it is read, and the connection is closed (so the client stops sending).
async fn refuse_declared_oversize(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared {
        let path = req.uri().path();
        // Multipart framing around a file: a little over the file limit.
        let limit = if path.starts_with("/media--upload/") {
            state.app.media.max_bytes + 64 * 1024
        } else if path.starts_with("/bank--files") {
            routes::bank_files::MAX_FILE_BYTES + 64 * 1024
        } else {
            state.limits.json_body
        };
        if len > limit as u64 {
            let mut resp = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request body is {len} bytes; at most {limit} are accepted here."),
            )
            .into_response();
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return resp;
        }
    }
    next.run(req).await
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// docs/security.md, "The envelope, always": the layer the application uses answers a
    /// handler's panic with Eve's 500 envelope.
    #[tokio::test]
    async fn a_panicking_handler_is_answered_in_the_envelope() {
        let router: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    panic!("a bug");
                    #[allow(unreachable_code)]
                    ""
                }),
            )
            .layer(super::catch_panics());
        let r = router
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = r.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["_status"], "ERR");
        assert_eq!(v["_error"]["code"], 500);
        assert!(v["_error"]["message"]
            .as_str()
            .unwrap()
            .contains("internal error"));
    }
}
