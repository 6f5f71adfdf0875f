//! The document store: SQLite by default (one file, WAL), PostgreSQL when the database URL
//! says so. Each resource is a table holding the full wire document plus typed, indexed
//! columns (see `migrations/`). Queries come from the Eve compiler in [`crate::eve::sql`].

mod auth;
mod bank;
mod console;
mod counts;
mod document;
mod flow;
mod idempotency;
mod jobs;
mod postgres;
mod sqlite;
mod webhooks;
mod write;

use std::path::Path;

pub use self::console::{ConsoleOperator, ConsoleSession, Overview, StateTotal};
pub use self::document::{prepare_document, ColumnValue, StoredDoc};
pub use self::flow::AccountClock;
pub use self::idempotency::{Idempotency, KeyRecord, UsedKey};
pub use self::jobs::{ClaimedJob, NewJob};
use crate::domain::ObjectId;
use crate::eve::sql::{Builder, Dialect, Sql};
use crate::eve::{Filter, Paging, QueryError, Resource, Sort};
use crate::tenancy::Scope;

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

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Compiles the WHERE clause (scope + filter + search) of a query.
    fn where_clause(&self, b: &mut Builder, q: &ListQuery<'_>) {
        b.push(" WHERE ");
        b.scope(q.scope);
        if *q.filter != Filter::True {
            b.push(" AND ");
            b.filter(q.filter);
        }
        for s in q.search {
            match s {
                Search::Eq(column, v) => {
                    b.push(&format!(" AND {column} = "));
                    b.bind(crate::eve::sql::Param::Text(v.clone()));
                }
                Search::Contains(column, v) => {
                    let escaped = v
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    b.push(&format!(" AND {column} LIKE "));
                    b.bind(crate::eve::sql::Param::Text(format!("%{escaped}%")));
                    b.push(" ESCAPE '\\'");
                }
            }
        }
    }

    /// A page of documents and the total number of matches.
    pub async fn list(&self, res: &Resource, q: &ListQuery<'_>) -> Result<Page, StoreError> {
        let d = self.dialect();
        let mut b = Builder::new(d, res);
        let doc = if d == Dialect::Postgres {
            "doc::text"
        } else {
            "doc"
        };
        b.push(&format!("SELECT {doc}, updated, etag FROM {}", res.table));
        self.where_clause(&mut b, q);
        b.order_by(q.sort)?;
        b.push(" LIMIT ");
        b.bind(crate::eve::sql::Param::Int(q.paging.max_results as i64));
        b.push(" OFFSET ");
        b.bind(crate::eve::sql::Param::Int(q.paging.offset() as i64));
        let page_sql = b.finish();

        let mut cb = Builder::new(d, res);
        cb.push(&format!("SELECT COUNT(*) FROM {}", res.table));
        self.where_clause(&mut cb, q);
        let count_sql = cb.finish();

        let (rows, total) = tokio::try_join!(
            self.fetch_rows(&page_sql),
            self.count(res, q.scope, &count_sql)
        )?;
        Ok(Page { rows, total })
    }

    /// Counts come from a cache keyed by the compiled query and valid while no write has
    /// touched the table for the scoped account(s) (see `write_versions` and `counts`).
    async fn count(&self, res: &Resource, scope: &Scope, sql: &Sql) -> Result<i64, StoreError> {
        let version = self.write_version(res, scope).await?;
        let key = counts::key(res.table, sql);
        let n = self
            .counts
            .get_or_compute(key, version, async {
                // Read again: the count below reflects at least this version.
                let version = self.write_version(res, scope).await?;
                let n = match &self.backend {
                    Backend::Sqlite(s) => s.count(sql, self.query_budget).await?,
                    Backend::Postgres(p) => p.count(sql, self.query_budget).await?,
                };
                Ok::<_, StoreError>((version, n))
            })
            .await?;
        Ok(n)
    }

    async fn write_version(&self, res: &Resource, scope: &Scope) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.write_version(res.table, scope.account.as_ref()).await,
            Backend::Postgres(p) => p.write_version(res.table, scope.account.as_ref()).await,
        }
    }

    async fn fetch_rows(&self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        Ok(match &self.backend {
            Backend::Sqlite(s) => s.rows(sql, self.query_budget).await?,
            Backend::Postgres(p) => p.rows(sql, self.query_budget).await?,
        })
    }

    /// One document by id, within the scope.
    pub async fn get(
        &self,
        res: &Resource,
        scope: &Scope,
        id: &ObjectId,
    ) -> Result<Option<Row>, StoreError> {
        let d = self.dialect();
        let mut b = Builder::new(d, res);
        let doc = if d == Dialect::Postgres {
            "doc::text"
        } else {
            "doc"
        };
        b.push(&format!(
            "SELECT {doc}, updated, etag FROM {} WHERE id = ",
            res.table
        ));
        b.bind(crate::eve::sql::Param::Text(id.to_hex()));
        b.push(" AND ");
        b.scope(scope);
        Ok(self.fetch_rows(&b.finish()).await?.into_iter().next())
    }

    /// Documents matching a filter within the scope, in creation order (at most `limit`).
    pub async fn find(
        &self,
        res: &Resource,
        scope: &Scope,
        filter: &Filter,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let d = self.dialect();
        let mut b = Builder::new(d, res);
        let doc = if d == Dialect::Postgres {
            "doc::text"
        } else {
            "doc"
        };
        b.push(&format!(
            "SELECT {doc}, updated, etag FROM {} WHERE ",
            res.table
        ));
        b.scope(scope);
        if *filter != Filter::True {
            b.push(" AND ");
            b.filter(filter);
        }
        b.push(" ORDER BY created, id LIMIT ");
        b.bind(crate::eve::sql::Param::Int(limit));
        self.fetch_rows(&b.finish()).await
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

    /// Number of rows in a table (admin and tests; not scoped).
    pub async fn count_all(&self, res: &Resource) -> Result<i64, StoreError> {
        let sql = Sql {
            text: format!("SELECT COUNT(*) FROM {}", res.table),
            params: vec![],
        };
        Ok(match &self.backend {
            Backend::Sqlite(s) => s.count(&sql, std::time::Duration::from_secs(3600)).await?,
            Backend::Postgres(p) => p.count(&sql, std::time::Duration::from_secs(3600)).await?,
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

/// A document to replace if it still has `expected_etag`.
pub struct Replacement {
    pub doc: StoredDoc,
    pub expected_etag: String,
    /// The stored typed column values, when known: unchanged columns are not rewritten.
    pub old_columns: Option<Vec<ColumnValue>>,
    /// SQLite: the row's rowid, when known.
    pub rowid: Option<i64>,
}

/// What a transaction wrote: the tables and accounts (their write versions are bumped at
/// commit) and the documents, for the audit trail (appended at commit).
#[derive(Default)]
pub struct Touched {
    tables: std::collections::BTreeSet<(&'static str, String)>,
    audit: Vec<crate::audit::Pending>,
    /// Items written on someone else's behalf (the registrar's batches): item id → actor.
    on_behalf: std::collections::HashMap<String, crate::audit::Actor>,
    /// Who the transaction writes for, when its caller says (a use case); else the actor of
    /// the task that commits.
    actor: Option<crate::audit::Actor>,
}

impl Touched {
    fn insert(&mut self, key: (&'static str, String)) -> bool {
        self.tables.insert(key)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.tables.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.tables.iter()
    }

    fn record(&mut self, res: &Resource, account: &str, item: &str, action: &'static str) {
        self.audit.push(crate::audit::Pending {
            account: account.to_string(),
            resource: res.name,
            item: item.to_string(),
            action,
            actor: None,
        });
    }

    /// The audit events of the transaction, as documents to insert: one per account and
    /// actor, listing what it wrote.
    fn audit_docs(&mut self) -> Result<Vec<StoredDoc>, StoreError> {
        if self.audit.is_empty() {
            return Ok(vec![]);
        }
        let actor = self.actor.clone().unwrap_or_else(crate::audit::current);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let at = crate::domain::HttpDate::from_unix(now)
            .ok_or_else(|| StoreError::Document(format!("no date for {now}")))?;
        let pending = std::mem::take(&mut self.audit);
        let mut events: Vec<crate::audit::AuditEvent> = Vec::new();
        for p in pending {
            let who = p
                .actor
                .or_else(|| self.on_behalf.get(&p.item).cloned())
                .unwrap_or_else(|| actor.clone());
            let Ok(item) = ObjectId::parse(&p.item) else {
                continue;
            };
            let write = crate::audit::Write {
                resource: p.resource.to_string(),
                item,
                action: p.action.to_string(),
            };
            match events
                .iter_mut()
                .find(|e| e.account == p.account && e.actor == who)
            {
                Some(e) => e.writes.push(write),
                None => events.push(crate::audit::AuditEvent {
                    id: ObjectId::at(now),
                    account: p.account,
                    actor: who,
                    writes: vec![write],
                    created: at,
                    updated: at,
                    etag: String::new(),
                }),
            }
        }
        let mut docs = Vec::with_capacity(events.len());
        for e in &events {
            docs.push(prepare_document(&crate::resources::AUDIT_EVENTS, e)?);
            self.tables
                .insert((crate::resources::AUDIT_EVENTS.table, e.account.clone()));
        }
        Ok(docs)
    }
}

/// A write transaction.
pub enum Tx<'a> {
    Sqlite(sqlx::Transaction<'a, sqlx::Sqlite>, Touched),
    Postgres(sqlx::Transaction<'a, sqlx::Postgres>, Touched),
}

impl Tx<'_> {
    /// Inserts documents (already prepared with [`prepare_document`]) into a resource table.
    pub async fn insert(&mut self, res: &Resource, docs: Vec<StoredDoc>) -> Result<(), StoreError> {
        self.write_docs(res, docs, false).await
    }

    /// Inserts documents, replacing those whose id is already stored (unconditionally: the
    /// caller read them in this transaction).
    pub async fn upsert(&mut self, res: &Resource, docs: Vec<StoredDoc>) -> Result<(), StoreError> {
        self.write_docs(res, docs, true).await
    }

    async fn write_docs(
        &mut self,
        res: &Resource,
        docs: Vec<StoredDoc>,
        upsert: bool,
    ) -> Result<(), StoreError> {
        if docs.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Sqlite(tx, touched) => {
                touch(touched, res, &docs, upsert);
                sqlite::insert(tx, res, docs, upsert).await?;
            }
            Tx::Postgres(tx, touched) => {
                touch(touched, res, &docs, upsert);
                postgres::insert(tx, res, &docs, upsert).await?;
            }
        }
        Ok(())
    }

    /// Appends the audit trail of what was written, bumps the write versions and commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        let audit = &crate::resources::AUDIT_EVENTS;
        match self {
            Tx::Sqlite(mut tx, mut touched) => {
                let events = touched.audit_docs()?;
                sqlite::insert(&mut tx, audit, events, false).await?;
                sqlite::bump_versions(&mut tx, &touched).await?;
                tx.commit().await?;
            }
            Tx::Postgres(mut tx, mut touched) => {
                let events = touched.audit_docs()?;
                if !events.is_empty() {
                    postgres::insert(&mut tx, audit, &events, false).await?;
                }
                postgres::bump_versions(&mut tx, &touched).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Attributes the audit events of `items` (written in this transaction for another
    /// request) to `actor`.
    pub fn on_behalf_of(&mut self, actor: &crate::audit::Actor, items: &[String]) {
        match self {
            Tx::Sqlite(_, touched) | Tx::Postgres(_, touched) => {
                for i in items {
                    touched.on_behalf.insert(i.clone(), actor.clone());
                }
            }
        }
    }

    /// Attributes what the transaction writes to `actor` in the audit trail.
    pub fn set_actor(&mut self, actor: crate::audit::Actor) {
        match self {
            Tx::Sqlite(_, touched) | Tx::Postgres(_, touched) => touched.actor = Some(actor),
        }
    }

    /// Records a write the generic document methods do not see (a sandbox reset, a moved
    /// clock) in the audit trail.
    pub fn audit(&mut self, res: &Resource, account: &str, item: &str, action: &'static str) {
        match self {
            Tx::Sqlite(_, touched) | Tx::Postgres(_, touched) => {
                touched.record(res, account, item, action);
            }
        }
    }
}

impl Tx<'_> {
    /// Records that the transaction wrote to `table` for `account` (cached counts of it are
    /// invalidated at commit).
    pub(crate) fn touch_table(&mut self, table: &'static str, account: &str) {
        match self {
            Tx::Sqlite(_, touched) | Tx::Postgres(_, touched) => {
                touched.insert((table, account.to_string()));
            }
        }
    }
}

fn touch(touched: &mut Touched, res: &Resource, docs: &[StoredDoc], upsert: bool) {
    let action = if upsert { "create_or_update" } else { "create" };
    for d in docs {
        touched.insert((res.table, d.account.clone()));
        touched.record(res, &d.account, &d.id, action);
    }
}
