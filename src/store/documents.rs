//! Documents: reading a resource's documents (a page of a list query and its total, one by
//! id, those matching a filter), within the caller's scope; and writing them in a
//! transaction — inserted, upserted, replaced if still at the etag read (one by one or many
//! in one statement), deleted. Written once for both dialects with [`crate::sql::Statement`];
//! the filter and the sort come from the Eve compiler ([`crate::eve::sql::Builder`]).

use super::document::{ColumnValue, StoredDoc};
use super::exec::Ty;
use super::{ListQuery, Page, Row, Search, Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::eve::resource::{ColumnKind, CreditorScope};
use crate::eve::sql::Builder;
use crate::eve::{Filter, Resource};
use crate::scope::Scope;
use crate::sql::{Dialect, Lock, Param, Sql, Statement};

const TRUE: &str = "(1=1)";
const FALSE: &str = "(1=0)";

/// `account = ? AND creditor IN (…)` for a scope on a resource's table, or a constant true.
pub(super) fn push_scope(st: &mut Statement, res: &Resource, scope: &Scope) {
    let mut parts = 0;
    if let (Some(acc), true) = (&scope.account, res.scoped_by_account) {
        st.push("account = ").text(acc.to_hex());
        parts += 1;
    }
    if let Some(creds) = &scope.creditors {
        let column = match res.creditor_scope {
            CreditorScope::None => None,
            CreditorScope::Column(c) => Some(c),
            CreditorScope::CustomersWithCases => Some("creditor"),
        };
        if let Some(column) = column {
            if parts > 0 {
                st.push(" AND ");
            }
            if creds.is_empty() {
                st.push(FALSE);
            } else {
                let via_cases = res.creditor_scope == CreditorScope::CustomersWithCases;
                if via_cases {
                    // Uses cases_account_id_number (account, customer_id_number).
                    st.push(&format!(
                        "EXISTS (SELECT 1 FROM cases c WHERE c.account = {t}.account \
                         AND c.customer_id_number = {t}.id_number AND c.",
                        t = res.table
                    ));
                }
                st.push(column).push(" IN (");
                st.list(creds.iter().map(|c| Param::Text(c.to_hex())));
                st.push(")");
                if via_cases {
                    st.push(")");
                }
            }
            parts += 1;
        }
    }
    if parts == 0 {
        st.push(TRUE);
    }
}

/// `SELECT doc, updated, etag FROM <table> WHERE <scope> [AND <filter>]`.
fn select<'r>(b: &mut Builder<'r>, res: &'r Resource, scope: &Scope, filter: &Filter) {
    b.statement()
        .push("SELECT ")
        .doc("doc")
        .push(&format!(", updated, etag FROM {} WHERE ", res.table));
    push_scope(b.statement(), res, scope);
    if *filter != Filter::True {
        b.push(" AND ");
        b.filter(filter);
    }
}

/// The WHERE clause (scope + filter + search) of a list query.
fn where_clause(b: &mut Builder, res: &Resource, q: &ListQuery<'_>) {
    b.push(" WHERE ");
    push_scope(b.statement(), res, q.scope);
    if *q.filter != Filter::True {
        b.push(" AND ");
        b.filter(q.filter);
    }
    for s in q.search {
        match s {
            Search::Eq(column, v) => {
                b.push(&format!(" AND {column} = "));
                b.bind(Param::Text(v.clone()));
            }
            Search::Contains(column, v) => {
                let escaped = v
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                b.push(&format!(" AND {column} LIKE "));
                b.bind(Param::Text(format!("%{escaped}%")));
                b.push(" ESCAPE '\\'");
            }
        }
    }
}

impl Store {
    /// A page of documents and the total number of matches.
    pub async fn list(&self, res: &Resource, q: &ListQuery<'_>) -> Result<Page, StoreError> {
        let page_sql = self.page_sql(res, q, "")?;
        let count_sql = self.count_sql(res, q, "");
        let (rows, total) = tokio::try_join!(
            self.budgeted_rows(page_sql),
            self.count(res, q.scope, count_sql)
        )?;
        Ok(Page { rows, total })
    }

    fn page_sql(&self, res: &Resource, q: &ListQuery<'_>, prefix: &str) -> Result<Sql, StoreError> {
        let mut b = Builder::new(self.dialect(), res);
        b.statement()
            .push(prefix)
            .push("SELECT ")
            .doc("doc")
            .push(&format!(", updated, etag FROM {}", res.table));
        where_clause(&mut b, res, q);
        b.order_by(q.sort)?;
        b.push(" LIMIT ");
        b.bind(Param::Int(q.paging.max_results as i64));
        b.push(" OFFSET ");
        b.bind(Param::Int(q.paging.offset() as i64));
        Ok(b.finish())
    }

    fn count_sql(&self, res: &Resource, q: &ListQuery<'_>, prefix: &str) -> Sql {
        let mut cb = Builder::new(self.dialect(), res);
        cb.push(&format!("{prefix}SELECT COUNT(*) FROM {}", res.table));
        where_clause(&mut cb, res, q);
        cb.finish()
    }

    /// What the database plans to do for a list query: the plan of its page, then of its
    /// count, one line per step (SQLite's `EXPLAIN QUERY PLAN` details, PostgreSQL's
    /// `EXPLAIN`). For diagnosis and for the tests that keep queries index-served; on
    /// PostgreSQL sequential scans are priced out, since a test's table is small enough to
    /// read whole.
    pub async fn query_plan(
        &self,
        res: &Resource,
        q: &ListQuery<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let (prefix, types): (&str, &[Ty]) = match self.dialect() {
            Dialect::Sqlite => (
                "EXPLAIN QUERY PLAN ",
                &[Ty::Int, Ty::Int, Ty::Int, Ty::Text],
            ),
            Dialect::Postgres => ("EXPLAIN ", &[Ty::Text]),
        };
        let mut tx = self.begin().await?;
        if self.dialect() == Dialect::Postgres {
            let mut st = self.statement();
            st.push("SET LOCAL enable_seqscan = off");
            tx.execute(st.finish()).await?;
        }
        let mut lines = Vec::new();
        for sql in [
            self.page_sql(res, q, prefix)?,
            self.count_sql(res, q, prefix),
        ] {
            for mut row in tx.cells(sql, types).await? {
                if let Some(t) = row.pop().and_then(|c| c.into_text()) {
                    lines.push(t);
                }
            }
        }
        tx.commit().await?;
        Ok(lines)
    }

    /// Counts come from a cache keyed by the compiled query and valid while no write has
    /// touched the table for the scoped account(s) (see `write_versions` and `counts`).
    async fn count(&self, res: &Resource, scope: &Scope, sql: Sql) -> Result<i64, StoreError> {
        let version = self.write_version(res, scope).await?;
        let key = super::counts::key(res.table, &sql);
        let n = self
            .counts
            .get_or_compute(key, version, async {
                // Read again: the count below reflects at least this version.
                let version = self.write_version(res, scope).await?;
                let n = self.budgeted_count(sql, self.query_budget).await?;
                Ok::<_, StoreError>((version, n))
            })
            .await?;
        Ok(n)
    }

    /// How many writes the table has had for the scope's account (all accounts: the sum).
    async fn write_version(&self, res: &Resource, scope: &Scope) -> Result<i64, StoreError> {
        let mut st = self.statement();
        st.push(
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM write_versions WHERE tbl = ",
        )
        .text(res.table);
        if let Some(a) = &scope.account {
            st.push(" AND account = ").text(a.to_hex());
        }
        Ok(self.int(st.finish()).await?.unwrap_or(0))
    }

    /// One document by id, within the scope.
    pub async fn get(
        &self,
        res: &Resource,
        scope: &Scope,
        id: &ObjectId,
    ) -> Result<Option<Row>, StoreError> {
        let mut b = Builder::new(self.dialect(), res);
        select(&mut b, res, scope, &Filter::True);
        b.push(" AND id = ");
        b.bind(Param::Text(id.to_hex()));
        Ok(self.budgeted_rows(b.finish()).await?.into_iter().next())
    }

    /// Documents matching a filter within the scope, in creation order (at most `limit`).
    pub async fn find(
        &self,
        res: &Resource,
        scope: &Scope,
        filter: &Filter,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let mut b = Builder::new(self.dialect(), res);
        select(&mut b, res, scope, filter);
        b.push(" ORDER BY created, id LIMIT ");
        b.bind(Param::Int(limit));
        self.budgeted_rows(b.finish()).await
    }

    /// Number of rows in a table (admin and tests; not scoped).
    pub async fn count_all(&self, res: &Resource) -> Result<i64, StoreError> {
        let sql = Sql {
            text: format!("SELECT COUNT(*) FROM {}", res.table),
            params: vec![],
        };
        self.budgeted_count(sql, std::time::Duration::from_secs(3600))
            .await
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

/// A typed column's value as a parameter (a NULL typed as the column is).
fn column_param(v: ColumnValue, kind: ColumnKind) -> Param {
    match (v, kind) {
        (ColumnValue::Text(s), _) => Param::Text(s),
        (ColumnValue::Int(i), _) => Param::Int(i),
        (ColumnValue::Null, ColumnKind::Date) => Param::NullInt,
        (ColumnValue::Null, _) => Param::NullText,
    }
}

/// Rows per multi-row statement: under SQLite's and PostgreSQL's parameter limits.
fn rows_per_statement(width: usize) -> usize {
    (30_000 / width).clamp(1, 200)
}

/// `ON CONFLICT (id) DO UPDATE …`: every typed column, the etag and the document.
fn upsert_clause(res: &Resource) -> String {
    let sets: Vec<String> = res
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|n| *n != "id")
        .chain(["etag", "doc"])
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    format!(" ON CONFLICT (id) DO UPDATE SET {}", sets.join(", "))
}

impl Tx<'_> {
    /// One document by id within the scope, locked until commit on PostgreSQL.
    pub async fn get(
        &mut self,
        res: &Resource,
        scope: &Scope,
        id: &ObjectId,
    ) -> Result<Option<Row>, StoreError> {
        let mut b = Builder::new(self.dialect(), res);
        select(&mut b, res, scope, &Filter::True);
        b.push(" AND id = ");
        b.bind(Param::Text(id.to_hex()));
        b.statement().lock(Lock::Update);
        Ok(self.rows(b.finish()).await?.into_iter().next())
    }

    /// Documents matching a filter within the scope, in creation order (at most `limit`).
    pub async fn find(
        &mut self,
        res: &Resource,
        scope: &Scope,
        filter: &Filter,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let mut b = Builder::new(self.dialect(), res);
        select(&mut b, res, scope, filter);
        b.push(" ORDER BY created, id LIMIT ");
        b.bind(Param::Int(limit));
        self.rows(b.finish()).await
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
        let mut b = Builder::new(self.dialect(), res);
        select(&mut b, res, scope, filter);
        if share {
            b.statement().lock(Lock::Share);
        }
        self.rows(b.finish()).await
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
        push_scope(b.statement(), res, scope);
        if *filter != Filter::True {
            b.push(" AND ");
            b.filter(filter);
        }
        Ok(self.int(b.finish()).await?.unwrap_or(0))
    }

    /// Inserts documents (already prepared with [`super::prepare_document`]).
    pub async fn insert(&mut self, res: &Resource, docs: Vec<StoredDoc>) -> Result<(), StoreError> {
        self.write_docs(res, docs, false).await
    }

    /// Inserts documents, replacing those whose id is already stored (unconditionally: the
    /// caller read them in this transaction).
    pub async fn upsert(&mut self, res: &Resource, docs: Vec<StoredDoc>) -> Result<(), StoreError> {
        self.write_docs(res, docs, true).await
    }

    /// Multi-row INSERTs, a few hundred rows per statement; the documents are moved into the
    /// statement, not copied (the seed writes gigabytes of them).
    async fn write_docs(
        &mut self,
        res: &Resource,
        docs: Vec<StoredDoc>,
        upsert: bool,
    ) -> Result<(), StoreError> {
        if docs.is_empty() {
            return Ok(());
        }
        let action = if upsert { "create_or_update" } else { "create" };
        for d in &docs {
            self.touched().insert((res.table, d.account.clone()));
            self.touched().record(res, &d.account, &d.id, action);
        }
        self.insert_rows(res, docs, upsert).await
    }

    /// The INSERT statements themselves, leaving the audit trail alone (the audit trail's
    /// own rows are written this way at commit).
    pub(super) async fn insert_rows(
        &mut self,
        res: &Resource,
        docs: Vec<StoredDoc>,
        upsert: bool,
    ) -> Result<(), StoreError> {
        let names: Vec<&str> = res.columns.iter().map(|c| c.name).collect();
        let mut docs = docs.into_iter().peekable();
        let per_statement = rows_per_statement(names.len() + 2);
        while docs.peek().is_some() {
            let mut st = self.statement();
            st.push(&format!(
                "INSERT INTO {} ({}, etag, doc) VALUES ",
                res.table,
                names.join(", ")
            ));
            for (i, d) in docs.by_ref().take(per_statement).enumerate() {
                if i > 0 {
                    st.push(", ");
                }
                let mut row: Vec<Param> = d
                    .columns
                    .into_iter()
                    .zip(&res.columns)
                    .map(|(v, c)| column_param(v, c.kind))
                    .collect();
                row.push(Param::Text(d.etag));
                row.push(Param::Json(d.text));
                st.row(row);
            }
            if upsert {
                st.push(&upsert_clause(res));
            }
            self.execute(st.finish()).await?;
        }
        Ok(())
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
        let (account, id) = (doc.account.clone(), doc.id.clone());
        let mut st = self.statement();
        st.push(&format!("UPDATE {} SET ", res.table));
        for (i, (v, c)) in doc.columns.into_iter().zip(&res.columns).enumerate() {
            if old.is_some_and(|o| o.get(i) == Some(&v)) {
                continue;
            }
            st.push(c.name)
                .push(" = ")
                .bind(column_param(v, c.kind))
                .push(", ");
        }
        st.push("etag = ")
            .text(doc.etag)
            .push(", doc = ")
            .bind(Param::Json(doc.text))
            .push(" WHERE id = ")
            .text(doc.id)
            .push(" AND etag = ")
            .text(expected_etag);
        let done = self.execute(st.finish()).await? == 1;
        self.touched().insert((res.table, account.clone()));
        if done {
            self.touched().record(res, &account, &id, "update");
        }
        Ok(done)
    }

    /// Replaces documents, each if it still has its expected etag, in few statements: rows
    /// are grouped by which typed columns changed, and each group is one
    /// `UPDATE … FROM (VALUES …)` (each row still conditional on its etag). Whether every one
    /// was replaced (else the transaction must not be committed).
    pub async fn replace_many(
        &mut self,
        res: &Resource,
        rows: Vec<Replacement>,
    ) -> Result<bool, StoreError> {
        // Grouped by the columns that changed, and by whether the rows are found by rowid
        // (SQLite's pipeline knows them; no index lookup).
        type Group = (Vec<bool>, bool);
        let mut groups: std::collections::BTreeMap<Group, Vec<Replacement>> =
            std::collections::BTreeMap::new();
        for r in rows {
            self.touched().insert((res.table, r.doc.account.clone()));
            self.touched()
                .record(res, &r.doc.account, &r.doc.id, "update");
            let mask: Vec<bool> = r
                .doc
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| r.old_columns.as_ref().is_none_or(|o| o.get(i) != Some(c)))
                .collect();
            let by_rowid = r.rowid.is_some() && self.dialect() == crate::sql::Dialect::Sqlite;
            groups.entry((mask, by_rowid)).or_default().push(r);
        }
        for ((mask, by_rowid), docs) in groups {
            let changed: Vec<(usize, &str, ColumnKind)> = res
                .columns
                .iter()
                .enumerate()
                .filter(|(i, _)| mask[*i])
                .map(|(i, c)| (i, c.name, c.kind))
                .collect();
            let width = changed.len() + 4;
            let mut sets: Vec<String> = changed
                .iter()
                .enumerate()
                .map(|(k, (_, name, _))| format!("{name} = v.column{}", k + 3))
                .collect();
            sets.push(format!("etag = v.column{}", width - 1));
            sets.push(format!("doc = v.column{width}"));
            let head = format!(
                "UPDATE {t} SET {} FROM (VALUES ",
                sets.join(", "),
                t = res.table
            );
            let tail = format!(
                ") AS v WHERE {t}.{} = v.column1 AND {t}.etag = v.column2",
                if by_rowid { "rowid" } else { "id" },
                t = res.table,
            );
            let mut docs = docs.into_iter().peekable();
            while docs.peek().is_some() {
                let chunk: Vec<Replacement> =
                    docs.by_ref().take(rows_per_statement(width)).collect();
                let n = chunk.len() as u64;
                let mut st = self.statement();
                st.push(&head);
                for (k, r) in chunk.into_iter().enumerate() {
                    if k > 0 {
                        st.push(", ");
                    }
                    let d = r.doc;
                    let mut row = Vec::with_capacity(width);
                    row.push(match r.rowid {
                        Some(rowid) if by_rowid => Param::Int(rowid),
                        _ => Param::Text(d.id),
                    });
                    row.push(Param::Text(r.expected_etag));
                    for (i, v) in d.columns.into_iter().enumerate() {
                        if mask[i] {
                            row.push(column_param(v, res.columns[i].kind));
                        }
                    }
                    row.push(Param::Text(d.etag));
                    row.push(Param::Json(d.text));
                    st.row(row);
                }
                st.push(&tail);
                if self.execute(st.finish()).await? != n {
                    return Ok(false);
                }
            }
        }
        Ok(true)
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
        let mut st = self.statement();
        st.push(&format!("DELETE FROM {} WHERE account = ", res.table))
            .text(account.to_hex())
            .push(&format!(" AND {column} = "))
            .text(value.to_hex());
        let n = self.execute(st.finish()).await?;
        if n > 0 {
            self.touched().insert((res.table, account.to_hex()));
            // The deleted documents by the value they shared (`creditor = …`).
            self.touched()
                .record(res, &account.to_hex(), &value.to_hex(), "delete");
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
        let sql = crate::sql::query(
            self.dialect(),
            "INSERT INTO counters (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + ? RETURNING value",
            vec![
                Param::Text(name.into()),
                Param::Int(first + n - 1),
                Param::Int(n),
            ],
        );
        let last = self
            .int(sql)
            .await?
            .ok_or_else(|| StoreError::Document(format!("counter {name} returned nothing")))?;
        Ok(last - n + 1)
    }
}
