//! Running a statement ([`Sql`], written with [`crate::sql::Statement`]) on either backend:
//! on a read connection, or in a write transaction. Every store file goes through these;
//! the backends' own files only know how to run SQL on their connections.

use super::{postgres, sqlite, Backend, Row, Store, StoreError, Tx};
use crate::sql::{Dialect, Sql, Statement};

/// The type of a selected column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Text,
    Int,
}

/// One selected value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Cell {
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => t.as_deref(),
            Cell::Int(_) => None,
        }
    }

    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Cell::Text(t) => t,
            Cell::Int(_) => None,
        }
    }

    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => *i,
            Cell::Text(_) => None,
        }
    }
}

impl Store {
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Whether one connection writes (SQLite): bulk work is pipelined rather than claimed
    /// with row locks by several workers.
    pub fn single_writer(&self) -> bool {
        self.dialect() == Dialect::Sqlite
    }

    /// A new statement in this store's dialect.
    pub(crate) fn statement(&self) -> Statement {
        Statement::new(self.dialect())
    }

    /// Rows of the given column types, on a read connection.
    pub(crate) async fn cells(&self, sql: Sql, types: &[Ty]) -> Result<Vec<Vec<Cell>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let mut conn = s.reader().acquire().await?;
                sqlite::cells_on(&mut conn, sql, types).await
            }
            Backend::Postgres(p) => {
                let mut conn = p.pool().acquire().await?;
                postgres::cells_on(&mut conn, sql, types).await
            }
        }
    }

    /// One integer (a count, a `MIN`), on a read connection; `None` for SQL NULL or no row.
    pub(crate) async fn int(&self, sql: Sql) -> Result<Option<i64>, StoreError> {
        let rows = self.cells(sql, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()))
    }

    /// `doc, updated, etag` rows, on a read connection under the query budget (a client's
    /// list query).
    pub(crate) async fn budgeted_rows(&self, sql: Sql) -> Result<Vec<Row>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.rows(sql, self.query_budget).await,
            Backend::Postgres(p) => p.rows(sql, self.query_budget).await,
        }
    }

    /// A count under the query budget.
    pub(crate) async fn budgeted_count(
        &self,
        sql: Sql,
        budget: std::time::Duration,
    ) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.count(sql, budget).await,
            Backend::Postgres(p) => p.count(sql, budget).await,
        }
    }

    /// A write in a transaction of its own, committed; the rows it changed.
    pub(crate) async fn execute(&self, sql: Sql) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql).await?;
        tx.commit().await?;
        Ok(n)
    }
}

impl Tx<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(..) => Dialect::Sqlite,
            Tx::Postgres(..) => Dialect::Postgres,
        }
    }

    /// A new statement in this transaction's dialect.
    pub(crate) fn statement(&self) -> Statement {
        Statement::new(self.dialect())
    }

    /// `doc, updated, etag` rows.
    pub(crate) async fn rows(&mut self, sql: Sql) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => sqlite::rows_on(tx, sql).await,
            Tx::Postgres(tx, _) => postgres::rows_on(tx, sql).await,
        }
    }

    /// Rows of the given column types.
    pub(crate) async fn cells(
        &mut self,
        sql: Sql,
        types: &[Ty],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => sqlite::cells_on(tx, sql, types).await,
            Tx::Postgres(tx, _) => postgres::cells_on(tx, sql, types).await,
        }
    }

    /// One integer; `None` for SQL NULL or no row.
    pub(crate) async fn int(&mut self, sql: Sql) -> Result<Option<i64>, StoreError> {
        let rows = self.cells(sql, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()))
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => sqlite::execute_on(tx, sql).await,
            Tx::Postgres(tx, _) => postgres::execute_on(tx, sql).await,
        }
    }
}
