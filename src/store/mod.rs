//! The document store: SQLite by default (one file, WAL), PostgreSQL when the database URL
//! says so. Each resource is a table holding the full wire document plus typed, indexed
//! columns (see `migrations/`). One file per concern:
//!
//! * [`documents`]: resources' documents — list with totals, get, find; insert, replace.
//! * [`cases`]: claiming due cases for the flow; [`clocks`]: account clocks; [`rules`]:
//!   creditor policies and flow configurations; [`jobs`]: the job queue; [`reset`]: deleting
//!   a sandbox account's data; [`audit`]: what a transaction wrote (the audit trail, the
//!   count cache's write versions).
//! * [`credentials`], [`console`], [`webhooks`], [`bank`], [`idempotency`]: the plain tables.
//! * [`exec`]: running a statement on either backend; `sqlite` and `postgres`: only what
//!   truly differs (connections, pools, time budgets, bulk loading).
//!
//! Every statement is written with [`crate::sql::Statement`]; the filters and sorts of
//! list queries come from the Eve compiler in [`crate::eve::sql`].

mod audit;
mod backfill;
mod bank;
mod cases;
mod clocks;
mod console;
mod counts;
mod credentials;
mod document;
mod documents;
mod exec;
mod idempotency;
mod jobs;
mod migrations;
mod notes;
mod postgres;
mod reset;
mod rules;
mod sqlite;
mod webhooks;

use std::path::Path;

pub use self::clocks::AccountClock;
pub use self::console::{ConsoleOperator, ConsoleSession, Overview, StateTotal};
pub use self::credentials::{token_hash, StoredCredential, StoredToken};
pub use self::document::{prepare_document, ColumnValue, StoredDoc};
pub use self::documents::Replacement;
pub use self::idempotency::{Idempotency, KeyRecord, UsedKey};
pub use self::jobs::{ClaimedJob, NewJob};
pub use self::notes::CaseNote;
pub use self::reset::{ACCOUNT_DATA_TABLES, KEPT_ON_RESET};
use crate::eve::{Filter, Paging, QueryError, Sort};
use crate::scope::Scope;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("document error: {0}")]
    Document(String),
}

/// One stored document as served.
#[derive(Debug, Clone)]
pub struct Row {
    /// The document's JSON text, exactly as stored.
    pub doc: String,
    pub updated: i64,
    pub etag: String,
}

/// A page of a collection query.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Row>,
    pub total: i64,
}

/// What a collection GET asks for.
pub struct ListQuery<'a> {
    pub scope: &'a Scope,
    pub filter: &'a Filter,
    pub sort: &'a Sort,
    pub paging: Paging,
    /// Resource-specific search parameters (`/customers?name=…`), ANDed with the filter.
    pub search: &'a [Search],
}

/// A search parameter on a typed column.
#[derive(Clone, Debug)]
pub enum Search {
    /// The column equals the value.
    Eq(&'static str, String),
    /// The (lower-cased) column contains the value, lower-cased.
    Contains(&'static str, String),
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

pub struct Store {
    backend: Backend,
    counts: counts::CountCache,
    /// How long one client list query (its page or its count) may run.
    query_budget: std::time::Duration,
}

/// The default for [`Store::set_query_budget`] (`--query-timeout-ms`).
pub const DEFAULT_QUERY_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// The database URL for the embedded default in a data dir.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("indriva.db").display())
}

/// The SQLite file a database URL names (`sqlite://path?options`); `None` for PostgreSQL or
/// an in-memory database.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Whether the database at `url` has been made (by `serve` or `seed`): the SQLite file
/// exists, or the PostgreSQL schema has the migrations table. Nothing is created.
pub async fn database_exists(url: &str) -> Result<bool, StoreError> {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await?;
        let found: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                .fetch_one(&pool)
                .await?;
        pool.close().await;
        return Ok(found.is_some());
    }
    Ok(sqlite_file(url).is_none_or(|f| f.exists()))
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs the embedded migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, true).await
    }

    /// For bulk loading (`indriva seed`): on SQLite, one connection for reads and writes, so
    /// the file can be switched to journal-less loading (see `bulk_load_mode`).
    pub async fn open_for_bulk_load(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, false).await
    }

    async fn open_with(url: &str, separate_readers: bool) -> Result<Store, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::Postgres::open(url).await?)
        } else if url.starts_with("sqlite:") || !url.contains("://") {
            Backend::Sqlite(sqlite::Sqlite::open(url, separate_readers).await?)
        } else {
            // Not a file name: a scheme this server does not speak (`mysql://…`, a typo).
            return Err(StoreError::Document(format!(
                "unsupported database URL '{}': use postgres://… or a SQLite file (sqlite://path)",
                url.split("://").next().unwrap_or_default()
            )));
        };
        let store = Store {
            backend,
            counts: counts::CountCache::new(4096),
            query_budget: DEFAULT_QUERY_BUDGET,
        };
        store.backfill_columns().await?;
        let hashed = store.hash_plain_api_codes().await?;
        if hashed > 0 {
            tracing::info!(
                api_codes = hashed,
                "API codes stored in plain text are now hashed"
            );
        }
        Ok(store)
    }

    /// How long a client's list query may run before it is stopped with a 400.
    pub fn set_query_budget(&mut self, budget: std::time::Duration) {
        self.query_budget = budget;
    }

    /// Writes a consistent copy of the database to `path` (SQLite's `VACUUM INTO`, one read
    /// transaction); `false` on PostgreSQL, which is backed up with `pg_dump`.
    pub async fn snapshot_into(&self, path: &Path) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query("VACUUM INTO ?")
                    .bind(path.to_string_lossy().to_string())
                    .execute(s.reader())
                    .await?;
                Ok(true)
            }
            Backend::Postgres(_) => Ok(false),
        }
    }

    /// SQLite's `PRAGMA integrity_check` (`ok`), or `ok` on PostgreSQL.
    pub async fn integrity(&self) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => Ok(sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(s.reader())
                .await?),
            Backend::Postgres(_) => Ok("ok".into()),
        }
    }

    /// Whether the database answers and has every migration this binary knows: `Err` with
    /// the reason when not.
    pub async fn readiness(&self) -> Result<(), String> {
        let versions = match &self.backend {
            Backend::Sqlite(s) => s.migration_versions().await,
            Backend::Postgres(p) => p.migration_versions().await,
        };
        match versions {
            Ok((applied, known)) if applied >= known => Ok(()),
            Ok((applied, known)) => Err(format!(
                "database migrations not applied: at {applied}, this server needs {known}"
            )),
            Err(e) => Err(format!("database unreachable: {e}")),
        }
    }

    /// (connections open, connections idle) in the database pools.
    pub fn pool_use(&self) -> (u32, usize) {
        match &self.backend {
            Backend::Sqlite(s) => s.pool_use(),
            Backend::Postgres(p) => p.pool_use(),
        }
    }

    /// Starts a write transaction. Everything a request writes goes through one of these
    /// and commits before the response is sent.
    pub async fn begin(&self) -> Result<Tx<'_>, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(s) => Tx::Sqlite(s.begin().await?, Default::default()),
            Backend::Postgres(p) => Tx::Postgres(p.begin().await?, Default::default()),
        })
    }

    /// Trades per-transaction durability for speed on this process's writer (SQLite only);
    /// used by `indriva seed`. Call [`Store::finish_bulk_load`] with the result when done.
    pub async fn bulk_load_mode(&self) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.bulk_load_mode().await,
            Backend::Postgres(_) => Ok(vec![]),
        }
    }

    pub async fn finish_bulk_load(&self, deferred_indexes: &[String]) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.finish_bulk_load(deferred_indexes).await,
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// SQLite: checkpoints the WAL on the writer connection (see `Sqlite::checkpoint`), for
    /// long runs of writes; PostgreSQL: nothing.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.checkpoint().await,
            Backend::Postgres(_) => Ok(()),
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(p) => p.close().await,
        }
    }
}

/// A write transaction.
pub enum Tx<'a> {
    Sqlite(sqlx::Transaction<'a, sqlx::Sqlite>, audit::Touched),
    Postgres(sqlx::Transaction<'a, sqlx::Postgres>, audit::Touched),
}
