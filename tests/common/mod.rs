//! Test harness: a fresh database per test. SQLite (a temp file) by default; PostgreSQL when
//! `INDRIVA_TEST_DATABASE_URL=postgres://…` is set — each test then gets its own schema.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use indriva::domain::clock::FixedClock;
use indriva::domain::HttpDate;
use indriva::http::{app, AppState};
use indriva::store::Store;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestDb {
    pub store: Arc<Store>,
    _dir: Option<tempfile::TempDir>,
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

pub fn clock() -> FixedClock {
    FixedClock::at(HttpDate::from_ymd_hms(2026, 11, 1, 12, 0, 0).unwrap())
}

pub struct Api {
    pub db: TestDb,
    pub clock: FixedClock,
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
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    pub async fn new() -> Api {
        let db = db().await;
        Api { db, clock: clock() }
    }

    pub fn state(&self) -> AppState {
        AppState {
            store: self.db.store.clone(),
            clock: Arc::new(self.clock.clone()),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
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

    /// GET with query parameters, URL-encoded like Python's `requests` does.
    pub async fn get_q(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.get(&format!("{path}?{q}")).await
    }
}

/// Seeds `n` generated cases into the sandbox account and returns their documents.
pub async fn seed_cases(store: &Store, n: u64) -> Vec<Value> {
    let clock = clock();
    indriva::seed::run(store, &clock, n, None, false)
        .await
        .expect("seed");
    all_cases(store).await
}

/// Every case document in the store, in id order.
pub async fn all_cases(store: &Store) -> Vec<Value> {
    use indriva::eve::sql::Scope;
    use indriva::eve::{Filter, Paging, Sort};
    let mut out = Vec::new();
    for page in 1.. {
        let p = store
            .list(
                &indriva::resources::CASES,
                &indriva::store::ListQuery {
                    scope: &Scope::unrestricted(),
                    filter: &Filter::True,
                    sort: &Sort::default(),
                    paging: Paging {
                        page,
                        max_results: 100,
                    },
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
