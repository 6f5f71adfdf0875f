//! SQLite: one file in WAL mode; a single writer connection (SQLite serialises writers
//! anyway) and a small pool of read-only connections.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Arguments, Row as _};

use super::exec::{Cell, Ty};
use super::{Row, StoreError};
use crate::eve::QueryError;
use crate::sql::{Param, Sql};

const MIGRATIONS: super::migrations::Embedded =
    super::migrations::Embedded(super::migrations::SQLITE);

/// The writer's page cache (KiB, as a negative `cache_size`): the flow worker rewrites
/// thousands of cases per transaction, and pages it must spill and read back mid-transaction
/// cost more than the memory.
const WRITER_CACHE: &str = "-65536";

/// The tables `indriva seed` fills, whose indexes a bulk load into an empty table builds at
/// the end.
const BULK_TABLES: [&str; 7] = [
    "cases",
    "case_registrations",
    "customers",
    "ocr_numbers",
    "case_letters",
    "payout_specifications",
    "jobs",
];

/// Case documents are 4–6 KB: 8 KB pages keep most of them out of overflow chains, and a
/// rewritten case costs one 8 KB page in the WAL, not 16 (the flow worker rewrites hundreds
/// of thousands; measured: 24,300 → 27,300 items/s, reads unchanged; docs/PERFORMANCE.md).
/// Only takes effect when the file is created.
const PAGE_SIZE: u32 = 8192;

pub struct Sqlite {
    read: SqlitePool,
    write: SqlitePool,
    /// The connection that checkpoints the WAL beside the writer (with separate readers).
    checkpointer: Option<SqlitePool>,
    /// Opened for bulk loading: one connection, no separate readers.
    single: bool,
}

/// The statement's parameters as SQLite arguments (moved, not copied: documents are large).
fn args(params: Vec<Param>) -> Result<SqliteArguments<'static>, StoreError> {
    let mut a = SqliteArguments::default();
    for p in params {
        let r = match p {
            Param::Text(s) | Param::Json(s) => a.add(s),
            Param::Int(i) => a.add(i),
            Param::Float(f) => a.add(f),
            Param::TextArray(_) | Param::NullText => a.add(Option::<String>::None),
            Param::NullInt => a.add(Option::<i64>::None),
        };
        r.map_err(|e| StoreError::Document(e.to_string()))?;
    }
    Ok(a)
}

impl Sqlite {
    pub async fn open(url: &str, separate_readers: bool) -> Result<Self, StoreError> {
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        }
        .create_if_missing(true)
        .page_size(PAGE_SIZE)
        .journal_mode(SqliteJournalMode::Wal)
        // Every acknowledged write survives a power cut.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        // 8 MB per connection: five connections stay well inside the 200 MB budget.
        .pragma("cache_size", "-8000");
        // With separate readers (the server), the writer does not checkpoint the WAL at
        // commit; a checkpointer connection does it beside it (see `checkpoints`).
        // Statement journals (an UPDATE over a batch of rows) in memory, not in a temp file.
        let writer_opts = opts
            .clone()
            .pragma("cache_size", WRITER_CACHE)
            .pragma("temp_store", "memory")
            // What is deleted or overwritten (a hashed api code's plain text, purged personal
            // data) is zeroed in the file, not left in free space.
            .pragma("secure_delete", "on");
        let writer_opts = if separate_readers {
            writer_opts
                .pragma("wal_autocheckpoint", "0")
                // Once checkpointed and started over, the WAL file is cut back to 128 MB.
                .pragma("journal_size_limit", "134217728")
        } else {
            writer_opts
        };
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(writer_opts)
            .await?;
        MIGRATIONS.migrator().await?.run(&write).await?;
        let (read, checkpointer) = if separate_readers {
            let checkpointer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .connect_with(opts.clone())
                .await?;
            tokio::spawn(checkpoints(checkpointer.clone()));
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .min_connections(1)
                .connect_with(opts.read_only(true))
                .await?;
            (read, Some(checkpointer))
        } else {
            (write.clone(), None)
        };
        Ok(Sqlite {
            read,
            write,
            checkpointer,
            single: !separate_readers,
        })
    }

    /// A client's list query, stopped when it runs past `budget` or when its caller goes away
    /// (the request's future is dropped).
    pub async fn rows(&self, sql: Sql, budget: Duration) -> Result<Vec<Row>, StoreError> {
        let mut run = Budgeted::start(self.read.acquire().await?, budget).await?;
        let out = rows_on(run.conn(), sql).await;
        run.finish(out).await
    }

    /// A client's count query, under the same budget as [`Sqlite::rows`].
    pub async fn count(&self, sql: Sql, budget: Duration) -> Result<i64, StoreError> {
        let mut run = Budgeted::start(self.read.acquire().await?, budget).await?;
        let out = scalar_on(run.conn(), sql).await;
        run.finish(out).await
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Write transactions take the write lock at once (`BEGIN IMMEDIATE`), waiting for it
    /// like any lock, instead of failing when another connection (a checkpoint) holds it at
    /// the moment a deferred transaction would upgrade from reading to writing.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'_, sqlx::Sqlite>, StoreError> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Copies the whole WAL into the database file on the writer connection, between
    /// transactions: nothing is appended meanwhile, so it completes, and the next write starts
    /// the WAL over instead of growing it.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Bulk loading (the seed): no fsync per transaction and a 1 GB page cache on the
    /// writer. When the cases table is still empty and no other connection has the file
    /// open, the load also runs without a rollback journal (each page is written once, not
    /// twice) and with the secondary indexes of the seeded tables dropped, to be built once, sorted, by
    /// [`Sqlite::finish_bulk_load`]. The price: a crash during such a seed can leave the file
    /// unusable — it held no cases yet, so `rm -r` and seed again. Into a table that already
    /// holds cases the seed stays in WAL mode with every index in place.
    ///
    /// Returns the index definitions to rebuild.
    pub async fn bulk_load_mode(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.write.acquire().await?;
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA cache_size = -1048576")
            .execute(&mut *conn)
            .await?;
        let empty: i64 = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM cases)")
            .fetch_one(&mut *conn)
            .await?;
        if empty != 1 || !self.single {
            return Ok(vec![]);
        }
        // Refused while another process has the file open; then the seed stays in WAL.
        match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = OFF")
            .fetch_one(&mut *conn)
            .await
        {
            Ok(mode) if mode.eq_ignore_ascii_case("off") => {}
            other => {
                tracing::debug!(result = ?other.map_err(|e| e.to_string()), "bulk load stays in WAL mode");
                return Ok(vec![]);
            }
        }
        // The tables a seed fills (its cases and what their lives wrote) that are still
        // empty: their secondary indexes are built once at the end, sorted, instead of taking
        // hundreds of thousands of random inserts.
        let mut rebuild = Vec::new();
        for table in BULK_TABLES {
            let empty: i64 =
                sqlx::query_scalar(&format!("SELECT NOT EXISTS (SELECT 1 FROM {table})"))
                    .fetch_one(&mut *conn)
                    .await?;
            if empty != 1 {
                continue;
            }
            let indexes: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            )
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
            for (name, sql) in indexes {
                sqlx::query(&format!("DROP INDEX \"{}\"", name.replace('"', "")))
                    .execute(&mut *conn)
                    .await?;
                rebuild.push(sql);
            }
        }
        Ok(rebuild)
    }

    /// Rebuilds the indexes [`Sqlite::bulk_load_mode`] dropped.
    pub async fn finish_bulk_load(&self, indexes: &[String]) -> Result<(), StoreError> {
        for sql in indexes {
            sqlx::query(sql).execute(&self.write).await?;
        }
        Ok(())
    }

    /// Closes every connection, first moving the whole WAL into the database file, so the
    /// file alone is the database (and holds no page an update has replaced).
    pub async fn close(&self) {
        // Closed once already; and with one connection for all (bulk loading), the readers
        // are the writer, which must stay open for the checkpoint.
        if self.write.is_closed() {
            return;
        }
        if !self.single {
            self.read.close().await;
        }
        if let Some(c) = &self.checkpointer {
            c.close().await;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint at close failed");
        }
        self.write.close().await;
    }
}

/// Copies committed WAL frames into the database file every 200 ms, on a connection of its
/// own, so the writer's commits never wait for a checkpoint. Only PASSIVE checkpoints: they
/// never take the write lock (a TRUNCATE or RESTART one would, and the writer's next
/// transaction would fail busy). Once a checkpoint has copied everything, SQLite starts the
/// WAL over at the next write, so it does not grow. Ends when the pool is closed.
async fn checkpoints(pool: SqlitePool) {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if pool.is_closed() {
            return;
        }
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            Ok(_) => {}
            Err(e) if pool.is_closed() => {
                tracing::debug!(error = %e, "checkpointer stopped");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

/// A reader connection running one client query under a time budget. SQLite calls the
/// progress handler every few thousand VM steps; it stops the statement once the deadline has
/// passed or the query was abandoned. An abandoned connection is closed rather than returned
/// to the pool (its handler would stop the next query).
struct Budgeted {
    conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    stopped: Arc<AtomicBool>,
    abandoned: Arc<AtomicBool>,
    budget: Duration,
    finished: bool,
}

impl Budgeted {
    async fn start(
        mut conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
        budget: Duration,
    ) -> Result<Budgeted, StoreError> {
        let stopped = Arc::new(AtomicBool::new(false));
        let abandoned = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + budget;
        let (s, a) = (stopped.clone(), abandoned.clone());
        conn.lock_handle()
            .await?
            .set_progress_handler(4_000, move || {
                let go_on = !a.load(Ordering::Relaxed) && Instant::now() < deadline;
                if !go_on {
                    s.store(true, Ordering::Relaxed);
                }
                go_on
            });
        Ok(Budgeted {
            conn,
            stopped,
            abandoned,
            budget,
            finished: false,
        })
    }

    fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.conn
    }

    async fn finish<T>(mut self, out: Result<T, StoreError>) -> Result<T, StoreError> {
        self.finished = true;
        let removed = match self.conn.lock_handle().await {
            Ok(mut h) => {
                h.remove_progress_handler();
                true
            }
            Err(_) => false,
        };
        if !removed {
            self.conn.close_on_drop();
        }
        match out {
            Err(_) if self.stopped.load(Ordering::Relaxed) => {
                Err(StoreError::Query(QueryError::TooSlow(self.budget)))
            }
            other => other,
        }
    }
}

impl Drop for Budgeted {
    fn drop(&mut self) {
        if !self.finished {
            self.abandoned.store(true, Ordering::Relaxed);
            self.conn.close_on_drop();
        }
    }
}

/// `SELECT doc, updated, etag …` on a given connection (a reader, or a write transaction).
pub async fn rows_on(conn: &mut sqlx::SqliteConnection, sql: Sql) -> Result<Vec<Row>, StoreError> {
    let rows = sqlx::query_with(&sql.text, args(sql.params)?)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Row {
                doc: r.try_get(0)?,
                updated: r.try_get(1)?,
                etag: r.try_get(2)?,
            })
        })
        .collect()
}

/// Rows of the given column types.
pub(super) async fn cells_on(
    conn: &mut sqlx::SqliteConnection,
    sql: Sql,
    types: &[Ty],
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let rows = sqlx::query_with(&sql.text, args(sql.params)?)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            types
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    Ok(match t {
                        Ty::Text => Cell::Text(r.try_get(i)?),
                        Ty::Int => Cell::Int(r.try_get(i)?),
                    })
                })
                .collect()
        })
        .collect()
}

pub async fn scalar_on(conn: &mut sqlx::SqliteConnection, sql: Sql) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar_with(&sql.text, args(sql.params)?)
        .fetch_one(&mut *conn)
        .await?)
}

/// Runs a statement; the number of rows it changed.
pub async fn execute_on(conn: &mut sqlx::SqliteConnection, sql: Sql) -> Result<u64, StoreError> {
    Ok(sqlx::query_with(&sql.text, args(sql.params)?)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

impl Sqlite {
    /// The newest migration applied, and the newest this binary has.
    pub async fn migration_versions(&self) -> Result<(i64, i64), StoreError> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.read)
                .await?;
        let known = MIGRATIONS.newest();
        Ok((applied.unwrap_or(0), known))
    }

    /// (connections open, connections idle) over the reader and writer pools.
    pub fn pool_use(&self) -> (u32, usize) {
        (
            self.read.size() + self.write.size(),
            self.read.num_idle() + self.write.num_idle(),
        )
    }
}
