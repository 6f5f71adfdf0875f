//! Test harness: a fresh database per test. SQLite (a temp file) by default; PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL=postgres://…` is set — each test then gets its own schema.
#![allow(dead_code)]

pub mod seed002;
pub mod server;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use indriva::auth::jwt::Algorithm;
use indriva::auth::ApiCredential;
use indriva::auth::Auth;
use indriva::domain::clock::FixedClock;
use indriva::domain::{HttpDate, ObjectId};
use indriva::http::{app, AppState};
use indriva::store::Store;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestDb {
    pub store: Arc<Store>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A store the test opened itself (its files are the test's to keep).
    pub fn of(store: Arc<Store>) -> TestDb {
        TestDb { store, _dir: None }
    }
}

pub fn backend() -> &'static str {
    match std::env::var("INDRIVA_TEST_DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

pub async fn db() -> TestDb {
    match std::env::var("INDRIVA_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("t_{}", hex::encode(rand::random::<[u8; 8]>()));
            let admin = sqlx::PgPool::connect(&url)
                .await
                .expect("connect to the test PostgreSQL");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .expect("create schema");
            admin.close().await;
            let sep = if url.contains('?') { '&' } else { '?' };
            let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            TestDb {
                store: Arc::new(Store::open(&scoped).await.expect("open store")),
                _dir: None,
            }
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = indriva::store::default_sqlite_url(dir.path());
            TestDb {
                store: Arc::new(Store::open(&url).await.expect("open store")),
                _dir: Some(dir),
            }
        }
    }
}

/// A database URL for a test that runs the real binary: a SQLite file in `dir`, or a fresh
/// schema of the PostgreSQL that `INDRIVA_TEST_DATABASE_URL` names.
pub async fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("INDRIVA_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("t_{}", hex::encode(rand::random::<[u8; 8]>()));
            let admin = sqlx::PgPool::connect(&url).await.expect("connect");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin)
                .await
                .expect("create schema");
            admin.close().await;
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{schema}")
        }
        _ => indriva::store::default_sqlite_url(dir),
    }
}

pub fn clock() -> FixedClock {
    FixedClock::at(HttpDate::from_ymd_hms(2026, 11, 1, 12, 0, 0).unwrap())
}

pub struct Api {
    /// Request body limits (`--max-json-body-kb`); the server's defaults unless a test sets
    /// them.
    pub limits: indriva::http::Limits,
    /// What `/readyz` checks besides the database (no worker by default).
    pub health: indriva::observe::Health,
    /// Whether webhooks may name loopback and private addresses (the server's
    /// `--webhook-allow-private`); true by default, so tests can run receivers.
    pub webhooks_allow_private: bool,
    clocks: indriva::clocks::Clocks,
    pub db: TestDb,
    pub clock: FixedClock,
    pub auth: Arc<Auth>,
    /// An access token for the whole sandbox account, sent by default.
    pub token: String,
    /// In memory, shared by every request of the test.
    pub media: indriva::media::Media,
    /// One registration writer for every request of the test, as in the server.
    pub registrar: indriva::registrar::Registrar,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// Whether the body is a JSON document.
    pub fn json_ok(&self) -> bool {
        serde_json::from_slice::<Value>(&self.body).is_ok()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A compact JWT signed with ES256.
pub fn sign_jwt(sk: &p256::ecdsa::SigningKey, claims: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use p256::ecdsa::signature::Signer;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
    );
    let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

impl Api {
    /// A fresh database with the sandbox account, and a token for that account.
    pub async fn new() -> Api {
        Api::with_db(db().await).await
    }

    /// [`Api::new`] on a database the test has set up (e.g. with another query budget).
    pub async fn with_db(db: TestDb) -> Api {
        let clock = clock();
        indriva::sandbox::ensure(&db.store, &clock, None)
            .await
            .expect("sandbox");
        let mut api = Api::without_token(db, clock);
        api.token = api
            .token_for(indriva::sandbox::sandbox_account_id(), None)
            .await;
        api
    }

    pub fn without_token(db: TestDb, clock: FixedClock) -> Api {
        Api {
            limits: Default::default(),
            health: Default::default(),
            webhooks_allow_private: true,
            clocks: indriva::clocks::Clocks::new(Arc::new(clock.clone())),
            clock,
            auth: Arc::new(Auth::new(Default::default())),
            token: String::new(),
            media: indriva::media::Media::in_memory(20 * 1024 * 1024),
            registrar: indriva::registrar::Registrar::start(
                db.store.clone(),
                indriva::cases::Engine::default(),
            ),
            db,
        }
    }

    pub fn state(&self) -> AppState {
        AppState {
            app: self.app(),
            auth: self.auth.clone(),
            limits: self.limits,
            public_url: None,
            health: self.health.clone(),
            // Tests' receivers listen on loopback.
            webhooks: indriva::webhooks::SenderSettings {
                allow_private: self.webhooks_allow_private,
                ..Default::default()
            },
        }
    }

    /// The application context the use cases work with: this test's store, clocks, media
    /// and registration writer.
    pub fn app(&self) -> indriva::app::App {
        indriva::app::App {
            store: self.db.store.clone(),
            clocks: self.clocks(),
            engine: indriva::cases::Engine::default(),
            media: self.media.clone(),
            bankgiro: indriva::letters::SANDBOX_BANKGIRO.into(),
            registrar: self.registrar.clone(),
        }
    }

    /// A payout run, as the agency's (the worker's schedule, an operator's button).
    pub async fn payout_run(
        &self,
        run: indriva::actions::payout_run::Run,
    ) -> Result<Vec<indriva::domain::finance::Payout>, indriva::actions::ActionError> {
        let actor = indriva::actions::Actor::agency(indriva::audit::Actor::system());
        indriva::actions::payout_run::run(&self.app(), &actor, run).await
    }

    /// Real time is the test's fixed clock; one `Clocks` (and its caches) for every request
    /// of the test, as in the server.
    pub fn clocks(&self) -> indriva::clocks::Clocks {
        self.clocks.clone()
    }

    /// The server's job runner over this test's store, clocks and media, sending webhooks
    /// with `sender`.
    pub fn job_runner(
        &self,
        sender: indriva::webhooks::Sender,
        jobs: indriva::worker::Jobs,
    ) -> indriva::jobs::Runner<indriva::worker::JobContext> {
        indriva::worker::job_runner(
            indriva::worker::JobContext {
                app: self.app(),
                renderer: indriva::letters::Renderer {
                    media: self.media.clone(),
                    templates: Default::default(),
                    agency: Default::default(),
                },
                sender,
            },
            jobs,
        )
    }

    /// Renders every queued letter and fans events out, as the server's job runner does;
    /// how many jobs that was.
    pub async fn render_letters(&self) -> usize {
        let sender = indriva::webhooks::Sender::new(Default::default()).expect("sender");
        self.job_runner(sender, indriva::worker::Jobs::Letters)
            .drain(indriva::jobs::Priority::Backfill, None)
            .await
            .expect("jobs")
    }

    pub fn now(&self) -> i64 {
        indriva::domain::Clock::now(&self.clock).unix()
    }

    /// Registers an API user (ES256) for `account`, optionally bound to one creditor, and
    /// returns (api_code, signing key).
    pub async fn api_user(
        &self,
        account: ObjectId,
        creditor: Option<ObjectId>,
    ) -> (String, p256::ecdsa::SigningKey) {
        use p256::pkcs8::{EncodePublicKey, LineEnding};
        let sk = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let pem = sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let cred = ApiCredential {
            api_code: indriva::auth::keys::random_api_code(),
            user: ObjectId::at(1_700_000_000),
            account,
            creditor,
            algorithm: Algorithm::ES256,
            public_key_pem: pem,
        };
        let mut tx = self.db.store.begin().await.unwrap();
        tx.insert_api_credential(&cred.api_code, &cred.stored(), 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (cred.api_code, sk)
    }

    /// An access token obtained the way an integrator does: a signed JWT exchanged at
    /// `GET /authenticates/api-code`.
    pub async fn token_for(&self, account: ObjectId, creditor: Option<ObjectId>) -> String {
        let (code, sk) = self.api_user(account, creditor).await;
        let jwt = sign_jwt(
            &sk,
            &serde_json::json!({"api_code": code, "exp": self.now() + 600}),
        );
        let r = self.authenticate(&jwt).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["token"].as_str().unwrap().to_string()
    }

    pub async fn authenticate(&self, jwt: &str) -> Resp {
        self.send_as(
            None,
            Request::get("/authenticates/api-code")
                .header("x-api-key", jwt)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Sends with the default token.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let token = self.token.clone();
        self.send_as(Some(&token), req).await
    }

    /// Sends with the given token (or none); from 127.0.0.1 unless the request says otherwise.
    pub async fn send_as(&self, token: Option<&str>, mut req: Request<Body>) -> Resp {
        if let Some(t) = token.filter(|t| !t.is_empty()) {
            if !req.headers().contains_key("x-api-key") {
                req.headers_mut().insert("x-api-key", t.parse().unwrap());
            }
        }
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
        let resp = app(self.state()).oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_as(&self, token: Option<&str>, uri: &str) -> Resp {
        self.send_as(token, Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// A JSON write (`POST`, `PATCH`, …) with the default token.
    pub async fn write(
        &self,
        method: &str,
        uri: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Resp {
        let token = self.token.clone();
        self.write_as(&token, method, uri, body, if_match).await
    }

    pub async fn write_as(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(etag) = if_match {
            req = req.header("if-match", etag);
        }
        self.send_as(Some(token), req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> Resp {
        self.write("POST", uri, body, None).await
    }

    /// GET with query parameters, URL-encoded like Python's `requests` does.
    pub async fn get_q(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        let token = self.token.clone();
        self.get_q_as(&token, path, params).await
    }

    pub async fn get_q_as(&self, token: &str, path: &str, params: &[(&str, &str)]) -> Resp {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.get_as(Some(token), &format!("{path}?{q}")).await
    }
}

/// Inserts another account (no creditors) and returns its id.
pub async fn insert_account(store: &Store, name: &str, now: HttpDate) -> ObjectId {
    use indriva::domain::case::{CaseSettings, InterestRateSettings};
    use indriva::domain::party::Account;
    let id = ObjectId::at(now.unix() + 1);
    let account = Account {
        id,
        name: name.into(),
        description: None,
        organization_no: "5560269986".into(),
        standard_debt_description: None,
        agreement_address: None,
        case_settings: CaseSettings {
            interest_rate: InterestRateSettings {
                reference_rate: true,
            },
        },
        created: now,
        updated: now,
        etag: String::new(),
    };
    let mut tx = store.begin().await.unwrap();
    indriva::tenancy::create_account(&mut tx, &account)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Seeds `n` generated cases into the sandbox account and returns their documents.
pub async fn seed_cases(store: &Store, n: u64) -> Vec<Value> {
    let clock = clock();
    indriva::seed::run(store, &clock, n, None, false, None)
        .await
        .expect("seed");
    all_cases(store).await
}

/// Every case document in the store, in id order.
pub async fn all_cases(store: &Store) -> Vec<Value> {
    all_docs(store, &indriva::resources::CASES).await
}

/// Every document of a resource, in every account.
pub async fn all_docs(store: &Store, res: &indriva::eve::Resource) -> Vec<Value> {
    use indriva::eve::{Filter, Paging, Sort};
    use indriva::tenancy::Scope;
    let mut out = Vec::new();
    for page in 1.. {
        let p = store
            .list(
                res,
                &indriva::store::ListQuery {
                    scope: &Scope::unrestricted(),
                    filter: &Filter::True,
                    sort: &Sort::default(),
                    paging: Paging {
                        page,
                        max_results: 100,
                    },
                    search: &[],
                },
            )
            .await
            .expect("list");
        if p.rows.is_empty() {
            break;
        }
        out.extend(
            p.rows
                .iter()
                .map(|r| serde_json::from_str::<Value>(&r.doc).unwrap()),
        );
    }
    out
}

/// A multipart body: text fields, then an optional file part (name, type, bytes).
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----indrivatestboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, ct, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
