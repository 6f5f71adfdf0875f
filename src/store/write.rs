//! Reads and writes inside a write transaction: what a request checks before it writes
//! (does the creditor exist in the caller's scope, has it cases, what is the stored etag) is
//! read on the same connection as the write, so the answer cannot change in between.

use super::{postgres, sqlite, ColumnValue, Replacement, Row, StoreError, StoredDoc, Tx};
use crate::domain::ObjectId;
use crate::eve::sql::{Builder, Dialect, Param, Sql};
use crate::eve::{Filter, Resource};
use crate::tenancy::Scope;

impl Tx<'_> {
    fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(..) => Dialect::Sqlite,
            Tx::Postgres(..) => Dialect::Postgres,
        }
    }

    fn select<'r>(&self, res: &'r Resource, scope: &Scope, filter: &Filter) -> Builder<'r> {
        let mut b = Builder::new(self.dialect(), res);
        let doc = match self.dialect() {
            Dialect::Postgres => "doc::text",
            Dialect::Sqlite => "doc",
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
        b
    }

    pub(super) async fn rows(&mut self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => sqlite::rows_on(tx, sql).await,
            Tx::Postgres(tx, _) => postgres::rows_on(tx, sql).await,
        }
    }

    async fn scalar(&mut self, sql: &Sql) -> Result<i64, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => sqlite::scalar_on(tx, sql).await,
            Tx::Postgres(tx, _) => postgres::scalar_on(tx, sql).await,
        }
    }

    pub(super) async fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => sqlite::execute_on(tx, sql).await,
            Tx::Postgres(tx, _) => postgres::execute_on(tx, sql).await,
        }
    }

    /// One document by id within the scope. On PostgreSQL the row is locked until commit.
    pub async fn get(
        &mut self,
        res: &Resource,
        scope: &Scope,
        id: &ObjectId,
    ) -> Result<Option<Row>, StoreError> {
        let mut b = self.select(res, scope, &Filter::True);
        b.push(" AND id = ");
        b.bind(Param::Text(id.to_hex()));
        if self.dialect() == Dialect::Postgres {
            b.push(" FOR UPDATE");
        }
        let sql = b.finish();
        Ok(self.rows(&sql).await?.into_iter().next())
    }

    /// Documents matching a filter within the scope, in creation order (at most `limit`).
    pub async fn find(
        &mut self,
        res: &Resource,
        scope: &Scope,
        filter: &Filter,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let mut b = self.select(res, scope, filter);
        b.push(" ORDER BY created, id LIMIT ");
        b.bind(Param::Int(limit));
        let sql = b.finish();
        self.rows(&sql).await
    }

    /// Every document matching a filter within the scope, in no particular order (so the
    /// planner picks the index that serves the filter, not one that serves an order).
    /// With `share`, PostgreSQL holds a share lock on them until commit: they cannot be
    /// changed or deleted under the transaction (SQLite has a single writer already).
    pub async fn find_all(
        &mut self,
        res: &Resource,
        scope: &Scope,
        filter: &Filter,
        share: bool,
    ) -> Result<Vec<Row>, StoreError> {
        let mut b = self.select(res, scope, filter);
        if share && self.dialect() == Dialect::Postgres {
            b.push(" FOR SHARE");
        }
        let sql = b.finish();
        self.rows(&sql).await
    }

    /// How many documents match a filter within the scope.
    pub async fn count(
        &mut self,
        res: &Resource,
        scope: &Scope,
        filter: &Filter,
    ) -> Result<i64, StoreError> {
        let mut b = Builder::new(self.dialect(), res);
        b.push(&format!("SELECT COUNT(*) FROM {} WHERE ", res.table));
        b.scope(scope);
        if *filter != Filter::True {
            b.push(" AND ");
            b.filter(filter);
        }
        let sql = b.finish();
        self.scalar(&sql).await
    }

    /// Replaces a stored document if its etag is still `expected` (Eve's conditional write);
    /// `false` when someone else changed it first.
    pub async fn replace(
        &mut self,
        res: &Resource,
        doc: StoredDoc,
        expected_etag: &str,
    ) -> Result<bool, StoreError> {
        self.replace_changed(res, doc, expected_etag, None).await
    }

    /// [`Tx::replace`], writing only the typed columns whose value differs from `old` (when
    /// given): an unchanged column's indexes are left alone.
    pub async fn replace_changed(
        &mut self,
        res: &Resource,
        doc: StoredDoc,
        expected_etag: &str,
        old: Option<&[ColumnValue]>,
    ) -> Result<bool, StoreError> {
        let key = (res.table, doc.account.clone());
        let (account, id) = (doc.account.clone(), doc.id.clone());
        let done = match self {
            Tx::Sqlite(tx, touched) => {
                touched.insert(key);
                sqlite::replace(tx, res, doc, expected_etag, old).await?
            }
            Tx::Postgres(tx, touched) => {
                touched.insert(key);
                postgres::replace(tx, res, &doc, expected_etag, old).await?
            }
        };
        if done {
            self.audit(res, &account, &id, "update");
        }
        Ok(done)
    }

    /// Replaces documents, each if it still has its expected etag, in as few statements as
    /// the dialect allows; whether every one was replaced (else the transaction must not be
    /// committed). Only typed columns that differ from the given old values are written.
    pub async fn replace_many(
        &mut self,
        res: &Resource,
        rows: Vec<Replacement>,
    ) -> Result<bool, StoreError> {
        match self {
            Tx::Sqlite(tx, touched) => {
                for r in &rows {
                    touched.insert((res.table, r.doc.account.clone()));
                    touched.record(res, &r.doc.account, &r.doc.id, "update");
                }
                sqlite::replace_many(tx, res, rows).await
            }
            Tx::Postgres(..) => {
                for r in rows {
                    let done = self
                        .replace_changed(res, r.doc, &r.expected_etag, r.old_columns.as_deref())
                        .await?;
                    if !done {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    /// Deletes every document of `res` whose `column` equals `value` within an account;
    /// how many it deleted.
    pub async fn delete_where(
        &mut self,
        res: &Resource,
        account: &ObjectId,
        column: &str,
        value: &ObjectId,
    ) -> Result<u64, StoreError> {
        debug_assert!(res.columns.iter().any(|c| c.name == column));
        let mut b = Builder::new(self.dialect(), res);
        b.push(&format!("DELETE FROM {} WHERE account = ", res.table));
        b.bind(Param::Text(account.to_hex()));
        b.push(&format!(" AND {column} = "));
        b.bind(Param::Text(value.to_hex()));
        let sql = b.finish();
        let n = self.execute(&sql).await?;
        if n > 0 {
            let key = (res.table, account.to_hex());
            match self {
                Tx::Sqlite(_, touched) | Tx::Postgres(_, touched) => {
                    touched.insert(key);
                    // The deleted documents by the value they shared (`creditor = …`).
                    touched.record(res, &account.to_hex(), &value.to_hex(), "delete");
                }
            }
        }
        Ok(n)
    }

    /// The next value of a named counter, starting at `first`.
    pub async fn next_number(&mut self, name: &str, first: i64) -> Result<i64, StoreError> {
        self.reserve_numbers(name, first, 1).await
    }

    /// The first of `n` consecutive values of a named counter (starting at `first`), taken
    /// in one statement.
    pub async fn reserve_numbers(
        &mut self,
        name: &str,
        first: i64,
        n: i64,
    ) -> Result<i64, StoreError> {
        debug_assert!(n > 0);
        let text = match self.dialect() {
            Dialect::Sqlite => {
                "INSERT INTO counters (name, value) VALUES (?, ?) \
                 ON CONFLICT (name) DO UPDATE SET value = counters.value + ? RETURNING value"
            }
            Dialect::Postgres => {
                "INSERT INTO counters (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = counters.value + $3 RETURNING value"
            }
        };
        let sql = Sql {
            text: text.into(),
            params: vec![
                Param::Text(name.into()),
                Param::Int(first + n - 1),
                Param::Int(n),
            ],
        };
        Ok(self.scalar(&sql).await? - n + 1)
    }
}
