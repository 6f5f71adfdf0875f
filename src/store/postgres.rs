//! PostgreSQL: documents as `jsonb`, a connection pool, the same tables as SQLite.

use std::time::Duration;

use sqlx::postgres::{PgArguments, PgPool, PgPoolOptions};
use sqlx::{Arguments, Row as _};

use super::exec::{Cell, Ty};
use super::{Row, StoreError};
use crate::eve::QueryError;
use crate::sql::{Param, Sql};

const MIGRATIONS: super::migrations::Embedded =
    super::migrations::Embedded(super::migrations::POSTGRES);

pub struct Postgres {
    pool: PgPool,
}

/// The statement's parameters as PostgreSQL arguments (moved, not copied).
fn args(params: Vec<Param>) -> Result<PgArguments, StoreError> {
    let mut a = PgArguments::default();
    for p in params {
        let r = match p {
            Param::Text(s) | Param::Json(s) => a.add(s),
            Param::Int(i) => a.add(i),
            Param::Float(f) => a.add(f),
            Param::TextArray(v) => a.add(v),
            Param::NullText => a.add(Option::<String>::None),
            Param::NullInt => a.add(Option::<i64>::None),
        };
        r.map_err(|e| StoreError::Document(e.to_string()))?;
    }
    Ok(a)
}

impl Postgres {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        MIGRATIONS.migrator().await?.run(&pool).await?;
        Ok(Postgres { pool })
    }

    /// A client's list query in a transaction whose `statement_timeout` is the budget. A
    /// query whose client goes away (its future is dropped) is cancelled at once and its
    /// connection closed, not left running until the budget with a connection held.
    pub async fn rows(&self, sql: Sql, budget: Duration) -> Result<Vec<Row>, StoreError> {
        let mut q = self.budgeted(budget).await?;
        let out = rows_on(q.conn()?, sql).await;
        q.finish(out, budget).await
    }

    /// A client's count query, under the same budget as [`Postgres::rows`].
    pub async fn count(&self, sql: Sql, budget: Duration) -> Result<i64, StoreError> {
        let mut q = self.budgeted(budget).await?;
        let out = sqlx::query_scalar_with(&sql.text, args(sql.params)?)
            .fetch_one(q.conn()?)
            .await
            .map_err(StoreError::from);
        q.finish(out, budget).await
    }

    async fn budgeted(&self, budget: Duration) -> Result<Budgeted, StoreError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        let pid: i32 = sqlx::query_scalar(
            "SELECT pg_backend_pid() FROM set_config('statement_timeout', $1, true)",
        )
        .bind(budget.as_millis().max(1).to_string())
        .fetch_one(&mut *conn)
        .await?;
        Ok(Budgeted {
            conn: Some(conn),
            pid,
            pool: self.pool.clone(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn begin(&self) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `SELECT doc, updated, etag …` on a given connection (pooled, or a write transaction).
pub async fn rows_on(conn: &mut sqlx::PgConnection, sql: Sql) -> Result<Vec<Row>, StoreError> {
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

/// A budgeted read on its own connection. Dropped before [`Budgeted::finish`] (the client
/// went away mid-query), its connection is taken out of the pool, the query is cancelled
/// (`pg_cancel_backend`) and the connection closed: the pool opens another meanwhile, and a
/// cancel can never reach a connection that serves someone else.
struct Budgeted {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    pid: i32,
    pool: PgPool,
}

impl Budgeted {
    fn conn(&mut self) -> Result<&mut sqlx::PgConnection, StoreError> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StoreError::Document("a finished read was used again".into()))
    }

    async fn finish<T>(
        mut self,
        out: Result<T, StoreError>,
        budget: Duration,
    ) -> Result<T, StoreError> {
        let end = if out.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(end).execute(self.conn()?).await?;
        // Back to the pool as it is.
        self.conn.take();
        match out {
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if e.code().as_deref() == Some("57014") =>
            {
                Err(StoreError::Query(QueryError::TooSlow(budget)))
            }
            other => other,
        }
    }
}

impl Drop for Budgeted {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let conn = conn.detach();
        let (pool, pid) = (self.pool.clone(), self.pid);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = sqlx::query("SELECT pg_cancel_backend($1)")
                    .bind(pid)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, pid, "could not cancel an abandoned query");
                }
                drop(conn);
            });
        }
    }
}

/// Rows of the given column types.
pub(super) async fn cells_on(
    conn: &mut sqlx::PgConnection,
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

/// Runs a statement; the number of rows it changed.
pub async fn execute_on(conn: &mut sqlx::PgConnection, sql: Sql) -> Result<u64, StoreError> {
    Ok(sqlx::query_with(&sql.text, args(sql.params)?)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

impl Postgres {
    /// The newest migration applied, and the newest this binary has.
    pub async fn migration_versions(&self) -> Result<(i64, i64), StoreError> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        let known = MIGRATIONS.newest();
        Ok((applied.unwrap_or(0), known))
    }

    /// (connections open, connections idle).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }
}
