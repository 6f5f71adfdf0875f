//! PostgreSQL: documents as `jsonb`, a connection pool, the same tables as SQLite.

use sqlx::postgres::{PgArguments, PgPool, PgPoolOptions};
use sqlx::{Arguments, Row as _};

use super::document::{ColumnValue, StoredDoc};
use super::{Row, StoreError, Touched};
use crate::domain::ObjectId;
use crate::eve::resource::ColumnKind;
use crate::eve::sql::{Param, Sql};
use crate::eve::Resource;

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

    pub async fn rows(&self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        let rows = sqlx::query_with(&sql.text, args(&sql.params)?)
            .fetch_all(&self.pool)
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

    pub async fn count(&self, sql: &Sql) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar_with(&sql.text, args(&sql.params)?)
            .fetch_one(&self.pool)
            .await?)
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

pub async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    res: &Resource,
    docs: &[StoredDoc],
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
                let r = match c {
                    ColumnValue::Text(s) => {
                        sql.push_str(&format!("${n}::text, "));
                        a.add(s.clone())
                    }
                    ColumnValue::Int(v) => {
                        sql.push_str(&format!("${n}::int8, "));
                        a.add(*v)
                    }
                    ColumnValue::Null if col.kind == ColumnKind::Date => {
                        sql.push_str(&format!("${n}::int8, "));
                        a.add(Option::<i64>::None)
                    }
                    ColumnValue::Null => {
                        sql.push_str(&format!("${n}::text, "));
                        a.add(Option::<String>::None)
                    }
                };
                r.map_err(|e| StoreError::Document(e.to_string()))?;
            }
            sql.push_str(&format!("${}, ${}::jsonb)", n + 1, n + 2));
            n += 2;
            a.add(d.etag.clone())
                .map_err(|e| StoreError::Document(e.to_string()))?;
            a.add(d.text.clone())
                .map_err(|e| StoreError::Document(e.to_string()))?;
        }
        sqlx::query_with(&sql, a).execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn bump_versions(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    touched: &Touched,
) -> Result<(), StoreError> {
    for (table, account) in touched {
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
