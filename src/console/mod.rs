//! The operator console at `/console`: server-rendered pages (maud) for the people who run the
//! collection business, with a vendored htmx for partial page loads; everything works
//! without JavaScript.
//!
//! The console is a client of the API, in-process: every page reads through the same handlers
//! (scope, Eve queries) and every action goes through the same command path as an API call
//! ([`call::Api`]), with the signed-in operator's grant. Operators are people with a password
//! (argon2id); a session is a random token in an HttpOnly, SameSite=Strict cookie, stored as
//! its SHA-256; every form carries the session's CSRF token; sign-in failures are limited per
//! address and per email.

mod call;
mod cases;
mod export;
mod money;
mod settings;
mod view;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;
use subtle::ConstantTimeEq;

pub use self::call::Api;
use self::view::Flash;
use crate::actions::overview::{self, Overview};
use crate::actions::Actor;
use crate::app::App;
use crate::auth::operators::{self, ConsoleOperator};
use crate::auth::Auth;
use crate::auth::Grant;
use crate::domain::bank::AGENCY_ACCOUNT;
use crate::domain::ObjectId;
use crate::observe::Health;

/// The session cookie.
pub const COOKIE: &str = "indriva_console";
/// A session ends this long after sign-in…
const SESSION_SECS: i64 = 12 * 3600;
/// …or after this long without a request.
const IDLE_SECS: i64 = 2 * 3600;

/// What the console is built with (by the HTTP layer that mounts it).
#[derive(Clone)]
pub struct ConsoleDeps {
    /// The application context the use cases work with.
    pub app: App,
    /// The token cache (a revoked API user's tokens are dropped) and the sign-in limits.
    pub auth: Arc<Auth>,
    /// Whether the worker runs here, for the overview.
    pub health: Health,
    /// The server's public URL: its origin is accepted for forms behind a proxy.
    pub public_url: Option<String>,
}

/// What the console's handlers share.
#[derive(Clone)]
pub struct Console {
    pub app: App,
    pub auth: Arc<Auth>,
    pub health: Health,
    pub public_url: Option<String>,
    /// The API's router: the console's reads go through it.
    api: Router,
    /// Mark the cookie `Secure` (the public URL is https).
    secure: bool,
    /// The overview's totals, per scope and period, for [`OVERVIEW_TTL_SECS`]: they read
    /// every open case, which takes seconds at a million.
    overviews: Arc<Mutex<HashMap<String, CachedOverview>>>,
}

/// When the totals were read, and the totals.
type CachedOverview = (i64, Arc<Overview>);

/// How long the overview's totals are reused.
const OVERVIEW_TTL_SECS: i64 = 60;

impl Console {
    /// The overview's totals within `scope`, at most [`OVERVIEW_TTL_SECS`] old.
    pub async fn overview(
        &self,
        actor: &Actor,
        since: i64,
        month_start: i64,
    ) -> Result<Arc<Overview>, crate::actions::ActionError> {
        let key = format!("{:?}|{since}|{month_start}", actor.scope);
        let now = self.app.clocks.real().unix();
        if let Some((at, o)) = self
            .overviews
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if now - at < OVERVIEW_TTL_SECS {
                return Ok(o.clone());
            }
        }
        let fresh = Arc::new(overview::read(&self.app, actor, since, month_start).await?);
        let mut map = self.overviews.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (at, _)| now - *at < OVERVIEW_TTL_SECS);
        map.insert(key, (now, fresh.clone()));
        Ok(fresh)
    }
}

/// The console's routes, mounted beside the API.
pub fn router(deps: ConsoleDeps, api: Router) -> Router {
    let secure = deps
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let console = Console {
        app: deps.app,
        auth: deps.auth,
        health: deps.health,
        public_url: deps.public_url,
        api,
        secure,
        overviews: Default::default(),
    };
    Router::new()
        .route("/console", get(money::overview))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/assets/{name}", get(asset))
        .route("/console/cases", get(cases::search))
        .route("/console/cases/{id}", get(cases::case_page))
        .route("/console/cases/{id}/{action}", post(cases::act))
        .route(
            "/console/register",
            get(cases::register_page).post(cases::register),
        )
        .route("/console/payments", get(money::payments))
        .route("/console/payments/{id}/match", post(money::match_payment))
        .route("/console/bank-files", post(money::upload_bank_file))
        .route("/console/payouts", get(money::payouts))
        .route("/console/payouts/run", post(money::payout_run))
        .route("/console/payouts/{id}", get(money::payout))
        .route("/console/creditors", get(settings::creditors))
        .route("/console/creditors/{id}", get(settings::creditor))
        .route(
            "/console/creditors/{id}/api-users",
            post(settings::create_api_user),
        )
        .route(
            "/console/api-users/{id}/revoke",
            post(settings::revoke_api_user),
        )
        .route(
            "/console/clock",
            get(settings::clock).post(settings::move_clock),
        )
        .route("/console/clock/reset", post(settings::reset_sandbox))
        .route("/console/audit", get(settings::audit))
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            same_origin,
        ))
        .layer(axum::middleware::from_fn(no_store))
        .with_state(console)
}

/// A signed-in operator, from the session cookie. Pages without one redirect to sign-in.
pub struct Signed {
    pub op: ConsoleOperator,
    pub csrf: String,
    token_hash: String,
    expires: i64,
    /// The request's `Host`, passed on to the API (for the signed URLs it hands out).
    host: Option<HeaderValue>,
}

impl Signed {
    /// The operator's own grant: the agency (every account), an account, or one creditor.
    pub fn grant(&self) -> Grant {
        Grant {
            account: self.op.account.unwrap_or(AGENCY_ACCOUNT),
            creditor: self.op.creditor,
            expires: self.expires,
            user: Some(self.op.id),
        }
    }

    /// A grant to act in `account` (the API's actions are per account): the agency's
    /// operators act in any, others only in their own.
    pub fn grant_in(&self, account: &ObjectId) -> Option<Grant> {
        match self.op.account {
            None => Some(Grant {
                account: *account,
                creditor: None,
                ..self.grant()
            }),
            Some(own) if own == *account => Some(self.grant()),
            Some(_) => None,
        }
    }

    /// The operator as the actor of a use case in `account` (see [`Signed::grant_in`]).
    pub fn actor_in(&self, account: &ObjectId) -> Option<Actor> {
        self.grant_in(account)
            .map(|g| Actor::of_grant(&g, self.audit_actor(&g)))
    }

    /// The operator as the agency's actor (bank files, matching, payout runs): an agency
    /// operator only.
    pub fn agency_actor(&self) -> Option<Actor> {
        let g = self.grant();
        (self.is_agency()).then(|| Actor::of_grant(&g, self.audit_actor(&g)))
    }

    fn audit_actor(&self, grant: &Grant) -> crate::audit::Actor {
        crate::audit::Actor::console_operator(grant.account, self.op.id, &self.op.email)
    }

    pub fn api(&self, console: &Console) -> Api {
        Api::new(console, self.grant(), &self.op.email, self.host.clone())
    }

    pub fn api_in(&self, console: &Console, account: &ObjectId) -> Option<Api> {
        self.grant_in(account)
            .map(|g| Api::new(console, g, &self.op.email, self.host.clone()))
    }

    pub fn is_agency(&self) -> bool {
        self.op.account.is_none()
    }

    pub fn scope_label(&self) -> String {
        match (self.op.account, self.op.creditor) {
            (None, _) => "agency".into(),
            (Some(_), None) => "one account".into(),
            (Some(_), Some(_)) => "one creditor".into(),
        }
    }

    /// The refusal of a form whose CSRF token is not the session's (`None`: it is).
    pub fn csrf_refusal(&self, form_token: Option<&str>) -> Option<Response> {
        let given = form_token.unwrap_or("").as_bytes();
        if !given.is_empty() && bool::from(given.ct_eq(self.csrf.as_bytes())) {
            None
        } else {
            Some(refused(
                StatusCode::FORBIDDEN,
                "The form was not sent from this console session (its CSRF token is missing \
                 or wrong). Reload the page and try again.",
            ))
        }
    }
}

/// A form posted by a signed-in operator, its CSRF token checked: every console action
/// takes one, so none can forget the check.
pub struct Posted {
    pub who: Signed,
    pub form: HashMap<String, String>,
}

impl FromRequest<Console> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, c: &Console) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let who = Signed::from_request_parts(&mut parts, c).await?;
        let Form(form) =
            Form::<HashMap<String, String>>::from_request(Request::from_parts(parts, body), &())
                .await
                .map_err(|e| refused(StatusCode::BAD_REQUEST, &e.body_text()))?;
        if let Some(r) = who.csrf_refusal(form.get("_csrf").map(String::as_str)) {
            return Err(r);
        }
        Ok(Posted { who, form })
    }
}

/// Where an unauthenticated page request is sent.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next: String = form_urlencoded::byte_serialize(self.0.as_bytes()).collect();
        Redirect::to(&format!("/console/sign-in?next={next}")).into_response()
    }
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, Response> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/console".into());
        let next = if parts.method == axum::http::Method::GET {
            next
        } else {
            "/console".into()
        };
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(SignInFirst(next).into_response());
        };
        let now = c.app.clocks.real().unix();
        let found = operators::session(&c.app.store, &token, now, IDLE_SECS)
            .await
            .map_err(internal)?;
        let Some((session, op, hash)) = found else {
            return Err(SignInFirst(next).into_response());
        };
        Ok(Signed {
            op,
            csrf: session.csrf,
            token_hash: hash,
            expires: session.expires,
            host: parts.headers.get(header::HOST).cloned(),
        })
    }
}

/// A cookie's value from the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A page for a failure that is not the operator's to fix (the database is down, …).
pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console request failed");
    refused(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server; the problem is in its log. Try again in a moment.",
    )
}

/// A plain error page.
pub fn refused(status: StatusCode, text: &str) -> Response {
    (
        status,
        view::bare(
            "Refused",
            html! {
                (view::flash_box(Flash::Problem(text.to_string(), vec![])))
                p { a href="/console" { "Back to the console" } }
            },
        ),
    )
        .into_response()
}

/// A form posted from another site is refused before anything reads it (the cookie is
/// SameSite=Strict too; this covers sign-in, which has no session yet). The site is the
/// request's `Host`, or `--public-url` (a proxy may pass on another `Host`).
async fn same_origin(
    State(c): State<Console>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() == axum::http::Method::POST {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|h| h.to_str().ok());
        if let (Some(origin), Some(host)) = (origin, host) {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            let public = c
                .public_url
                .as_deref()
                .is_some_and(|p| p.trim_end_matches('/').eq_ignore_ascii_case(origin));
            // `Origin: null` (a sandboxed frame, a data: URL) is another site too: the
            // console's own pages send their origin (Referrer-Policy same-origin).
            if origin == "null" || (origin_host != host && !public) {
                return refused(
                    StatusCode::FORBIDDEN,
                    "This form was sent from another site and is refused.",
                );
            }
        }
    }
    next.run(req).await
}

/// Console pages hold personal data: never cached, never framed.
async fn no_store(req: Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "console.css" => (view::CSS, "text/css; charset=utf-8"),
        "htmx.min.js" => (view::HTMX, "text/javascript; charset=utf-8"),
        _ => return refused(StatusCode::NOT_FOUND, "No such file."),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

/// Only a path inside the console (no open redirect).
/// A redirect target from a form: a path under `/console`, else `/console`. Never another
/// site (`//host`, backslashes) and never a control character (CR/LF would split the
/// `Location` header, and the answer would be a 500 after the write had committed).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/console")
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/console".into(),
    }
}

fn sign_in_form(next: &str, email: &str, problem: Option<Flash>) -> Markup {
    view::bare(
        "Sign in",
        html! {
            div.card {
                h1 { "Sign in" }
                @if let Some(p) = problem { (view::flash_box(p)) }
                form.stack method="post" action="/console/sign-in" {
                    input type="hidden" name="next" value=(next);
                    label { "Email" input type="email" name="email" value=(email) required autofocus autocomplete="username"; }
                    label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                    button type="submit" { "Sign in" }
                }
                p.muted {
                    "No account yet? An operator is created on the server with "
                    code { "indriva admin operator create --email you@example.com --password-stdin" }
                    "."
                }
            }
        },
    )
}

async fn sign_in_page(Query(q): Query<Next>) -> Markup {
    sign_in_form(&safe_next(q.next.as_deref()), "", None)
}

#[derive(Deserialize)]
pub struct SignIn {
    email: String,
    password: String,
    next: Option<String>,
}

async fn sign_in(State(c): State<Console>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let address = crate::auth::client_ip(&parts)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let Ok(Form(form)) = Form::<SignIn>::from_request(Request::from_parts(parts, body), &()).await
    else {
        return (
            StatusCode::BAD_REQUEST,
            sign_in_form(
                "/console",
                "",
                Some(Flash::Problem(
                    "Enter your email and password.".into(),
                    vec![],
                )),
            ),
        )
            .into_response();
    };
    let email = form.email.trim().to_lowercase();
    let next = safe_next(form.next.as_deref());
    let now = c.app.clocks.real().unix();
    let (email_key, address_key) = (format!("email:{email}"), format!("ip:{address}"));
    // Each attempt is counted before the password is checked (check and count in one
    // step), so concurrent guesses cannot all pass the limit; a success takes it back.
    let by_email = c.auth.console_by_email.attempt(&email_key, now);
    let by_address = by_email && c.auth.console_by_address.attempt(&address_key, now);
    if !by_address {
        if by_email {
            c.auth.console_by_email.forgive(&email_key);
        }
        return (
            StatusCode::TOO_MANY_REQUESTS,
            sign_in_form(
                &next,
                &email,
                Some(Flash::Problem(
                    "Too many failed sign-ins. Wait 15 minutes and try again, or ask another \
                     operator to reset your password."
                        .into(),
                    vec![],
                )),
            ),
        )
            .into_response();
    }
    let op = match operators::check_password(&c.app.store, &email, form.password).await {
        Ok(Some(op)) => {
            c.auth.console_by_email.forgive(&email_key);
            c.auth.console_by_address.forgive(&address_key);
            op
        }
        Err(e) => {
            c.auth.console_by_email.forgive(&email_key);
            c.auth.console_by_address.forgive(&address_key);
            return internal(e);
        }
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                sign_in_form(
                    &next,
                    &email,
                    Some(Flash::Problem(
                        "That email and password do not match an operator.".into(),
                        vec![],
                    )),
                ),
            )
                .into_response();
        }
    };
    let token = match operators::open_session(&c.app.store, &op, now, now + SESSION_SECS).await {
        Ok((token, _csrf)) => token,
        Err(e) => return internal(e),
    };
    tracing::info!(operator = %op.id, "console sign-in");
    let secure = if c.secure { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{secure}"
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

async fn sign_out(State(c): State<Console>, Posted { who, .. }: Posted) -> Response {
    if let Err(e) = operators::close_session(&c.app.store, &who.token_hash).await {
        return internal(e);
    }
    let cookie = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/console/sign-in"),
    )
        .into_response()
}
