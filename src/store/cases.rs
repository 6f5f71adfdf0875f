//! What the flow needs of the `cases` table besides documents: claiming the cases whose
//! next flow item or interest posting is due (`due_at`, on their account's clock), putting a
//! failed one aside, and the counts the worker and the sandbox report.

use super::exec::{Cell, Ty};
use super::{ColumnValue, Row, Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::eve::resource::ColumnKind;
use crate::resources::CASES;
use crate::scope::Scope;
use crate::sql::{query, Lock, Param};

/// The cell types of the `cases` typed columns, in order.
fn column_types() -> impl Iterator<Item = Ty> {
    CASES.columns.iter().map(|c| match c.kind {
        ColumnKind::Date => Ty::Int,
        _ => Ty::Text,
    })
}

/// A stored row from `doc, updated, etag` cells.
fn row_of(r: &mut [Cell]) -> Row {
    Row {
        doc: std::mem::replace(&mut r[0], Cell::Text(None))
            .into_text()
            .unwrap_or_default(),
        updated: r[1].int().unwrap_or_default(),
        etag: r[2].text().unwrap_or_default().to_string(),
    }
}

fn columns_of(cells: &[Cell]) -> Vec<ColumnValue> {
    cells
        .iter()
        .map(|c| match c {
            Cell::Text(Some(t)) => ColumnValue::Text(t.clone()),
            Cell::Int(Some(i)) => ColumnValue::Int(*i),
            _ => ColumnValue::Null,
        })
        .collect()
}

/// A page of due cases as the SQLite pipeline reads it: each row, its typed column values
/// and its rowid.
pub type DuePage = Vec<(Row, Vec<ColumnValue>, i64)>;

impl Store {
    /// A case within the scope, with when it is next due (`None` when closed).
    pub async fn get_case_with_due(
        &self,
        scope: &Scope,
        id: &ObjectId,
    ) -> Result<Option<(Row, Option<i64>)>, StoreError> {
        let mut st = self.statement();
        st.push("SELECT ")
            .doc("doc")
            .push(", updated, etag, due_at FROM cases WHERE id = ")
            .text(id.to_hex())
            .push(" AND ");
        super::documents::push_scope(&mut st, &CASES, scope);
        let mut rows = self
            .cells(st.finish(), &[Ty::Text, Ty::Int, Ty::Text, Ty::Int])
            .await?;
        Ok(rows.first_mut().map(|r| {
            let due = r[3].int();
            (row_of(r), due)
        }))
    }

    /// SQLite: a page of the account's cases due by `until`, in (`due_at`, rowid) order after
    /// `after`, read on a read-only connection; with the key of its last row.
    pub async fn due_page(
        &self,
        account: &ObjectId,
        until: i64,
        after: (i64, i64),
        limit: i64,
    ) -> Result<(DuePage, Option<(i64, i64)>), StoreError> {
        let names: Vec<&str> = CASES.columns.iter().map(|c| c.name).collect();
        let sql = query(
            self.dialect(),
            &format!(
                "SELECT doc, updated, etag, due_at, rowid, {} FROM cases \
                 WHERE account = ? AND due_at <= ? AND (due_at, rowid) > (?, ?) \
                 ORDER BY due_at, rowid LIMIT ?",
                names.join(", ")
            ),
            vec![
                Param::Text(account.to_hex()),
                Param::Int(until),
                Param::Int(after.0),
                Param::Int(after.1),
                Param::Int(limit),
            ],
        );
        let mut types = vec![Ty::Text, Ty::Int, Ty::Text, Ty::Int, Ty::Int];
        types.extend(column_types());
        let rows = self.cells(sql, &types).await?;
        let last = rows.last().map(|r| {
            (
                r[3].int().unwrap_or_default(),
                r[4].int().unwrap_or_default(),
            )
        });
        let page = rows
            .into_iter()
            .map(|mut r| {
                let rowid = r[4].int().unwrap_or_default();
                let columns = columns_of(&r[5..]);
                (row_of(&mut r), columns, rowid)
            })
            .collect();
        Ok((page, last))
    }

    /// How many cases the account has.
    pub async fn count_cases(&self, account: &ObjectId) -> Result<i64, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT COUNT(*) FROM cases WHERE account = ?",
            vec![Param::Text(account.to_hex())],
        );
        Ok(self.int(sql).await?.unwrap_or(0))
    }

    /// How many open cases of the account are due by `until`.
    pub async fn count_due(&self, account: &ObjectId, until: i64) -> Result<i64, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT COUNT(*) FROM cases WHERE account = ? AND due_at <= ?",
            vec![Param::Text(account.to_hex()), Param::Int(until)],
        );
        Ok(self.int(sql).await?.unwrap_or(0))
    }

    /// When the account's earliest open case falls due (its `due_at`), if any.
    pub async fn oldest_due(&self, account: &ObjectId) -> Result<Option<i64>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT MIN(due_at) FROM cases WHERE account = ? AND due_at IS NOT NULL",
            vec![Param::Text(account.to_hex())],
        );
        self.int(sql).await
    }
}

impl Tx<'_> {
    /// Up to `limit` open cases of the account due by `until`, the longest-due first, with
    /// their typed column values (so a rewrite can leave unchanged columns alone). On
    /// PostgreSQL they are locked until commit and cases another worker holds are skipped.
    pub async fn claim_due(
        &mut self,
        account: &ObjectId,
        until: i64,
        limit: i64,
    ) -> Result<Vec<(Row, Vec<ColumnValue>)>, StoreError> {
        let names: Vec<&str> = CASES.columns.iter().map(|c| c.name).collect();
        let mut st = self.statement();
        st.push("SELECT ")
            .doc("doc")
            .push(&format!(
                ", updated, etag, {} FROM cases WHERE account = ",
                names.join(", ")
            ))
            .text(account.to_hex())
            .push(" AND due_at <= ")
            .int(until)
            .push(" ORDER BY due_at LIMIT ")
            .int(limit)
            .lock(Lock::SkipLocked);
        let mut types = vec![Ty::Text, Ty::Int, Ty::Text];
        types.extend(column_types());
        let rows = self.cells(st.finish(), &types).await?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let columns = columns_of(&r[3..]);
                (row_of(&mut r), columns)
            })
            .collect())
    }

    /// Sets when a case is next looked at, leaving its document alone (a case whose run
    /// failed is put aside).
    pub async fn postpone_case(&mut self, id: &ObjectId, due_at: i64) -> Result<(), StoreError> {
        let sql = query(
            self.dialect(),
            "UPDATE cases SET due_at = ? WHERE id = ?",
            vec![Param::Int(due_at), Param::Text(id.to_hex())],
        );
        self.execute(sql).await?;
        Ok(())
    }
}
