//! PostgreSQL: documents as `jsonb`, a connection pool, the same tables as SQLite.

use std::time::Duration;

use sqlx::postgres::{PgArguments, PgPool, PgPoolOptions};
use sqlx::{Arguments, Row as _};

use super::document::{ColumnValue, StoredDoc};
use super::{Row, StoreError, Touched};
use crate::domain::ObjectId;
use crate::eve::resource::ColumnKind;
use crate::eve::sql::{Param, Sql};
use crate::eve::{QueryError, Resource};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct Postgres {
    pool: PgPool,
}

fn args(params: &[Param]) -> Result<PgArguments, StoreError> {
    let mut a = PgArguments::default();
    for p in params {
        let r = match p {
            Param::Text(s) => a.add(s.clone()),
            Param::Int(i) => a.add(*i),
            Param::Float(f) => a.add(*f),
            Param::TextArray(v) => a.add(v.clone()),
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
        MIGRATOR.run(&pool).await?;
        Ok(Postgres { pool })
    }

    /// A client's list query in a read-only transaction whose `statement_timeout` is the
    /// budget (PostgreSQL cancels it server-side, also when the client has gone away).
    pub async fn rows(&self, sql: &Sql, budget: Duration) -> Result<Vec<Row>, StoreError> {
        let mut tx = self.budgeted(budget).await?;
        let out = rows_on(&mut tx, sql).await;
        finish(tx, out, budget).await
    }

    /// A client's count query, under the same budget as [`Postgres::rows`].
    pub async fn count(&self, sql: &Sql, budget: Duration) -> Result<i64, StoreError> {
        let mut tx = self.budgeted(budget).await?;
        let out = sqlx::query_scalar_with(&sql.text, args(&sql.params)?)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from);
        finish(tx, out, budget).await
    }

    async fn budgeted(
        &self,
        budget: Duration,
    ) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT set_config('statement_timeout', $1, true)")
            .bind(budget.as_millis().max(1).to_string())
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    pub async fn write_version(
        &self,
        table: &str,
        account: Option<&ObjectId>,
    ) -> Result<i64, StoreError> {
        let q = match account {
            Some(a) => sqlx::query_scalar(
                "SELECT COALESCE(SUM(version), 0)::int8 FROM write_versions WHERE tbl = $1 AND account = $2",
            )
            .bind(table.to_string())
            .bind(a.to_hex()),
            None => sqlx::query_scalar("SELECT COALESCE(SUM(version), 0)::int8 FROM write_versions WHERE tbl = $1")
                .bind(table.to_string()),
        };
        Ok(q.fetch_one(&self.pool).await?)
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
pub async fn rows_on(conn: &mut sqlx::PgConnection, sql: &Sql) -> Result<Vec<Row>, StoreError> {
    let rows = sqlx::query_with(&sql.text, args(&sql.params)?)
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

async fn finish<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    out: Result<T, StoreError>,
    budget: Duration,
) -> Result<T, StoreError> {
    match out {
        Err(StoreError::Database(sqlx::Error::Database(e)))
            if e.code().as_deref() == Some("57014") =>
        {
            Err(StoreError::Query(QueryError::TooSlow(budget)))
        }
        Err(e) => Err(e),
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
    }
}

/// Rows of the given column types.
pub(super) async fn cells_on(
    conn: &mut sqlx::PgConnection,
    sql: &Sql,
    types: &[super::flow::Ty],
) -> Result<Vec<Vec<super::flow::Cell>>, StoreError> {
    use super::flow::{Cell, Ty};
    let rows = sqlx::query_with(&sql.text, args(&sql.params)?)
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

pub async fn scalar_on(conn: &mut sqlx::PgConnection, sql: &Sql) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar_with(&sql.text, args(&sql.params)?)
        .fetch_one(&mut *conn)
        .await?)
}

/// Runs a statement; the number of rows it changed.
pub async fn execute_on(conn: &mut sqlx::PgConnection, sql: &Sql) -> Result<u64, StoreError> {
    Ok(sqlx::query_with(&sql.text, args(&sql.params)?)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// The placeholder for a column value, typed so PostgreSQL knows what a NULL is.
fn placeholder(n: usize, c: &ColumnValue, kind: ColumnKind) -> String {
    match (c, kind) {
        (ColumnValue::Int(_), _) | (ColumnValue::Null, ColumnKind::Date) => format!("${n}::int8"),
        _ => format!("${n}::text"),
    }
}

fn add_column(a: &mut PgArguments, c: &ColumnValue, kind: ColumnKind) -> Result<(), StoreError> {
    match (c, kind) {
        (ColumnValue::Text(s), _) => a.add(s.clone()),
        (ColumnValue::Int(v), _) => a.add(*v),
        (ColumnValue::Null, ColumnKind::Date) => a.add(Option::<i64>::None),
        (ColumnValue::Null, _) => a.add(Option::<String>::None),
    }
    .map_err(|e| StoreError::Document(e.to_string()))
}

/// Replaces a document if its stored etag is still `expected`; whether it did.
pub async fn replace(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    res: &Resource,
    d: &StoredDoc,
    expected: &str,
    old: Option<&[ColumnValue]>,
) -> Result<bool, StoreError> {
    let mut a = PgArguments::default();
    let mut sets = Vec::new();
    for (i, (c, col)) in d.columns.iter().zip(&res.columns).enumerate() {
        if old.is_some_and(|o| o.get(i) == Some(c)) {
            continue;
        }
        sets.push(format!(
            "{} = {}",
            col.name,
            placeholder(sets.len() + 1, c, col.kind)
        ));
        add_column(&mut a, c, col.kind)?;
    }
    let n = sets.len();
    sets.push(format!("etag = ${}", n + 1));
    sets.push(format!("doc = ${}::jsonb", n + 2));
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ${} AND etag = ${}",
        res.table,
        sets.join(", "),
        n + 3,
        n + 4
    );
    let err = |e: sqlx::error::BoxDynError| StoreError::Document(e.to_string());
    a.add(d.etag.clone()).map_err(err)?;
    a.add(d.text.clone()).map_err(err)?;
    a.add(d.id.clone()).map_err(err)?;
    a.add(expected.to_string()).map_err(err)?;
    let n = sqlx::query_with(&sql, a)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    res: &Resource,
    docs: &[StoredDoc],
    upsert: bool,
) -> Result<(), StoreError> {
    let names: Vec<&str> = res.columns.iter().map(|c| c.name).collect();
    let per_row = names.len() + 2;
    let rows_per_stmt = (60_000 / per_row).clamp(1, 500);
    for chunk in docs.chunks(rows_per_stmt) {
        let mut sql = format!(
            "INSERT INTO {} ({}, etag, doc) VALUES ",
            res.table,
            names.join(", ")
        );
        let mut n = 0;
        let mut a = PgArguments::default();
        for (i, d) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (c, col) in d.columns.iter().zip(&res.columns) {
                n += 1;
                sql.push_str(&placeholder(n, c, col.kind));
                sql.push_str(", ");
                add_column(&mut a, c, col.kind)?;
            }
            sql.push_str(&format!("${}, ${}::jsonb)", n + 1, n + 2));
            n += 2;
            a.add(d.etag.clone())
                .map_err(|e| StoreError::Document(e.to_string()))?;
            a.add(d.text.clone())
                .map_err(|e| StoreError::Document(e.to_string()))?;
        }
        if upsert {
            sql.push_str(&super::document::upsert_clause(res));
        }
        sqlx::query_with(&sql, a).execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn bump_versions(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    touched: &Touched,
) -> Result<(), StoreError> {
    for (table, account) in touched.iter() {
        sqlx::query(
            "INSERT INTO write_versions (tbl, account, version) VALUES ($1, $2, 1) \
             ON CONFLICT (tbl, account) DO UPDATE SET version = write_versions.version + 1",
        )
        .bind(table.to_string())
        .bind(account.clone())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Postgres {
    /// The newest migration applied, and the newest this binary has.
    pub async fn migration_versions(&self) -> Result<(i64, i64), StoreError> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        Ok((applied.unwrap_or(0), known))
    }

    /// (connections open, connections idle).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }
}
