//! What the flow engine keeps besides documents: due cases to claim, account clocks,
//! creditor policies and flow configurations.

use super::{Backend, ColumnValue, Row, Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::eve::resource::ColumnKind;
use crate::eve::sql::{Param, Sql};
use crate::resources::CASES;

/// The type of a selected column, for [`Store::cells`] / [`Tx::cells`].
#[derive(Clone, Copy)]
pub(super) enum Ty {
    Text,
    Int,
}

/// One selected value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Cell {
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => t.as_deref(),
            Cell::Int(_) => None,
        }
    }
    pub(super) fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => *i,
            Cell::Text(_) => None,
        }
    }
}

/// `?` placeholders as the dialect writes them (`$1`, `$2`, … on PostgreSQL).
pub(super) fn numbered(pg: bool, text: &str) -> String {
    if !pg {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn sql(pg: bool, text: &str, params: Vec<Param>) -> Sql {
    Sql {
        text: numbered(pg, text),
        params,
    }
}

/// A sandbox account's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountClock {
    pub sandbox: bool,
    /// `None`: follows real time.
    pub now: Option<i64>,
}

/// The cell types of the `cases` typed columns, in order.
fn column_types() -> impl Iterator<Item = Ty> {
    CASES.columns.iter().map(|c| match c.kind {
        ColumnKind::Date => Ty::Int,
        _ => Ty::Text,
    })
}

/// A stored row from `doc, updated, etag` cells.
fn row_of(r: &[Cell]) -> Row {
    Row {
        doc: r[0].text().unwrap_or_default().to_string(),
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

fn oid(s: Option<&str>) -> Result<ObjectId, StoreError> {
    s.and_then(|s| ObjectId::parse(s).ok())
        .ok_or_else(|| StoreError::Document(format!("not an id: {s:?}")))
}

impl Store {
    pub(super) fn pg(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    pub(super) async fn cells(
        &self,
        sql: &Sql,
        types: &[Ty],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let mut conn = s.reader().acquire().await?;
                super::sqlite::cells_on(&mut conn, sql, types).await
            }
            Backend::Postgres(p) => {
                let mut conn = p.pool().acquire().await?;
                super::postgres::cells_on(&mut conn, sql, types).await
            }
        }
    }

    /// The account's clock row, if it has one (only sandbox accounts do).
    pub async fn account_clock(
        &self,
        account: &ObjectId,
    ) -> Result<Option<AccountClock>, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT sandbox, now FROM account_clocks WHERE account = ?",
            vec![Param::Text(account.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Int, Ty::Int]).await?;
        Ok(rows.first().map(|r| AccountClock {
            sandbox: r[0].int() == Some(1),
            now: r[1].int(),
        }))
    }

    /// Every account with its stored clock (`None` for real time).
    /// When the account's earliest open case falls due (its `due_at`), if any.
    pub async fn oldest_due(&self, account: &ObjectId) -> Result<Option<i64>, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT MIN(due_at) FROM cases WHERE account = ? AND due_at IS NOT NULL",
            vec![Param::Text(account.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()))
    }

    pub async fn account_times(&self) -> Result<Vec<(ObjectId, Option<i64>)>, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT a.id, c.now FROM accounts a LEFT JOIN account_clocks c ON c.account = a.id ORDER BY a.id",
            vec![],
        );
        self.cells(&q, &[Ty::Text, Ty::Int])
            .await?
            .iter()
            .map(|r| Ok((oid(r[0].text())?, r[1].int())))
            .collect()
    }

    /// A case within the scope, with when it is next due (`None` when closed).
    pub async fn get_case_with_due(
        &self,
        scope: &crate::tenancy::Scope,
        id: &ObjectId,
    ) -> Result<Option<(Row, Option<i64>)>, StoreError> {
        let d = self.dialect();
        let mut b = crate::eve::sql::Builder::new(d, &CASES);
        b.push(&format!(
            "SELECT {}, updated, etag, due_at FROM cases WHERE id = ",
            if self.pg() { "doc::text" } else { "doc" }
        ));
        b.bind(Param::Text(id.to_hex()));
        b.push(" AND ");
        b.scope(scope);
        let rows = self
            .cells(&b.finish(), &[Ty::Text, Ty::Int, Ty::Text, Ty::Int])
            .await?;
        Ok(rows.into_iter().next().map(|r| {
            (
                Row {
                    doc: r[0].text().unwrap_or_default().to_string(),
                    updated: r[1].int().unwrap_or_default(),
                    etag: r[2].text().unwrap_or_default().to_string(),
                },
                r[3].int(),
            )
        }))
    }

    /// SQLite: a page of the account's cases due by `until`, in (`due_at`, rowid) order after
    /// `after`, read on a read-only connection; with the key of its last row.
    #[allow(clippy::type_complexity)]
    pub async fn due_page(
        &self,
        account: &ObjectId,
        until: i64,
        after: (i64, i64),
        limit: i64,
    ) -> Result<(Vec<(Row, Vec<ColumnValue>, i64)>, Option<(i64, i64)>), StoreError> {
        let names: Vec<&str> = CASES.columns.iter().map(|c| c.name).collect();
        let text = format!(
            "SELECT doc, updated, etag, due_at, rowid, {} FROM cases \
             WHERE account = ? AND due_at <= ? AND (due_at, rowid) > (?, ?) \
             ORDER BY due_at, rowid LIMIT ?",
            names.join(", ")
        );
        let q = sql(
            false,
            &text,
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
        let rows = self.cells(&q, &types).await?;
        let last = rows.last().map(|r| {
            (
                r[3].int().unwrap_or_default(),
                r[4].int().unwrap_or_default(),
            )
        });
        let page = rows
            .into_iter()
            .map(|r| {
                (
                    row_of(&r),
                    columns_of(&r[5..]),
                    r[4].int().unwrap_or_default(),
                )
            })
            .collect();
        Ok((page, last))
    }

    /// How many cases the account has.
    pub async fn count_cases(&self, account: &ObjectId) -> Result<i64, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT COUNT(*) FROM cases WHERE account = ?",
            vec![Param::Text(account.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0))
    }

    /// How many open cases of the account are due by `until`.
    pub async fn count_due(&self, account: &ObjectId, until: i64) -> Result<i64, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT COUNT(*) FROM cases WHERE account = ? AND due_at <= ?",
            vec![Param::Text(account.to_hex()), Param::Int(until)],
        );
        let rows = self.cells(&q, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0))
    }

    /// The earliest due time among the account's open cases.
    pub async fn next_due(&self, account: &ObjectId) -> Result<Option<i64>, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT MIN(due_at) FROM cases WHERE account = ? AND due_at IS NOT NULL",
            vec![Param::Text(account.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()))
    }

    /// A creditor's stored policy document, if it has one.
    pub async fn creditor_policy(&self, creditor: &ObjectId) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin().await?;
        let doc = tx.creditor_policy(creditor).await?;
        tx.commit().await?;
        Ok(doc)
    }
}

impl Tx<'_> {
    pub(super) fn is_pg(&self) -> bool {
        matches!(self, Tx::Postgres(..))
    }

    pub(super) async fn cells(
        &mut self,
        sql: &Sql,
        types: &[Ty],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        match self {
            Tx::Sqlite(tx, _) => super::sqlite::cells_on(tx, sql, types).await,
            Tx::Postgres(tx, _) => super::postgres::cells_on(tx, sql, types).await,
        }
    }

    /// Up to `limit` open cases of the account due by `until`, the longest-due first, with
    /// their typed column values (so a rewrite can leave unchanged columns alone). On
    /// PostgreSQL they are locked until commit and cases another worker holds are skipped.
    pub async fn claim_due(
        &mut self,
        account: &ObjectId,
        until: i64,
        limit: i64,
    ) -> Result<Vec<(Row, Vec<ColumnValue>)>, StoreError> {
        let pg = self.is_pg();
        let names: Vec<&str> = CASES.columns.iter().map(|c| c.name).collect();
        let text = format!(
            "SELECT {}, updated, etag, {} FROM {} WHERE account = ? AND due_at <= ? ORDER BY due_at LIMIT ?{}",
            if pg { "doc::text" } else { "doc" },
            names.join(", "),
            CASES.table,
            if pg { " FOR UPDATE SKIP LOCKED" } else { "" }
        );
        let q = sql(
            pg,
            &text,
            vec![
                Param::Text(account.to_hex()),
                Param::Int(until),
                Param::Int(limit),
            ],
        );
        let mut types = vec![Ty::Text, Ty::Int, Ty::Text];
        types.extend(column_types());
        let rows = self.cells(&q, &types).await?;
        Ok(rows
            .into_iter()
            .map(|r| (row_of(&r), columns_of(&r[3..])))
            .collect())
    }

    /// The account's clock row, read inside the transaction.
    pub async fn account_clock(
        &mut self,
        account: &ObjectId,
    ) -> Result<Option<AccountClock>, StoreError> {
        let q = sql(
            self.is_pg(),
            "SELECT sandbox, now FROM account_clocks WHERE account = ?",
            vec![Param::Text(account.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Int, Ty::Int]).await?;
        Ok(rows.first().map(|r| AccountClock {
            sandbox: r[0].int() == Some(1),
            now: r[1].int(),
        }))
    }

    /// Makes an account a sandbox (its clock follows real time until set).
    pub async fn insert_account_clock(&mut self, account: &ObjectId) -> Result<(), StoreError> {
        let q = sql(
            self.is_pg(),
            "INSERT INTO account_clocks (account, sandbox, now) VALUES (?, 1, NULL) ON CONFLICT (account) DO NOTHING",
            vec![Param::Text(account.to_hex())],
        );
        self.execute(&q).await?;
        Ok(())
    }

    /// Sets a sandbox account's clock to `now`, unless that is earlier than its current time
    /// (its stored time, or `real` while it follows real time) and the account has cases.
    /// Whether it was set.
    pub async fn move_account_clock(
        &mut self,
        account: &ObjectId,
        now: i64,
        real: i64,
    ) -> Result<bool, StoreError> {
        let a = account.to_hex();
        let q = sql(
            self.is_pg(),
            "UPDATE account_clocks SET now = ? WHERE account = ? AND sandbox = 1 \
             AND (COALESCE(now, ?) <= ? OR NOT EXISTS (SELECT 1 FROM cases WHERE account = ?))",
            vec![
                Param::Int(now),
                Param::Text(a.clone()),
                Param::Int(real),
                Param::Int(now),
                Param::Text(a.clone()),
            ],
        );
        let moved = self.execute(&q).await? == 1;
        if moved {
            self.audit(&crate::resources::ACCOUNTS, &a, &a, "sandbox_clock_moved");
        }
        Ok(moved)
    }

    /// The media keys of an account's letters and uploaded invoices.
    pub async fn account_media_keys(
        &mut self,
        account: &ObjectId,
    ) -> Result<Vec<String>, StoreError> {
        let pg = self.is_pg();
        let (file, invoice) = if pg {
            ("doc->'file'->>'id'", "doc->'original_invoice'->>'id'")
        } else {
            (
                "json_extract(doc, '$.file.id')",
                "json_extract(doc, '$.original_invoice.id')",
            )
        };
        let text = format!(
            "SELECT {file} FROM case_letters WHERE account = ? AND {file} IS NOT NULL \
             UNION ALL SELECT {invoice} FROM cases WHERE account = ? AND {invoice} IS NOT NULL"
        );
        let q = sql(
            pg,
            &text,
            vec![Param::Text(account.to_hex()), Param::Text(account.to_hex())],
        );
        Ok(self
            .cells(&q, &[Ty::Text])
            .await?
            .into_iter()
            .filter_map(|r| r[0].text().map(str::to_string))
            .collect())
    }

    pub async fn creditor_policy(
        &mut self,
        creditor: &ObjectId,
    ) -> Result<Option<String>, StoreError> {
        let q = sql(
            self.is_pg(),
            "SELECT doc FROM creditor_policies WHERE creditor = ?",
            vec![Param::Text(creditor.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Text]).await?;
        Ok(rows.first().and_then(|r| r[0].text().map(str::to_string)))
    }

    pub async fn set_creditor_policy(
        &mut self,
        creditor: &ObjectId,
        account: &ObjectId,
        doc: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let q = sql(
            self.is_pg(),
            "INSERT INTO creditor_policies (creditor, account, updated, doc) VALUES (?, ?, ?, ?) \
             ON CONFLICT (creditor) DO UPDATE SET updated = excluded.updated, doc = excluded.doc",
            vec![
                Param::Text(creditor.to_hex()),
                Param::Text(account.to_hex()),
                Param::Int(now),
                Param::Text(doc.to_string()),
            ],
        );
        self.execute(&q).await?;
        Ok(())
    }

    pub async fn flow_config(&mut self, id: &ObjectId) -> Result<Option<String>, StoreError> {
        let q = sql(
            self.is_pg(),
            "SELECT doc FROM flow_configs WHERE id = ?",
            vec![Param::Text(id.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Text]).await?;
        Ok(rows.first().and_then(|r| r[0].text().map(str::to_string)))
    }

    pub async fn put_flow_config(
        &mut self,
        id: &ObjectId,
        doc: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let q = sql(
            self.is_pg(),
            "INSERT INTO flow_configs (id, created, doc) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            vec![
                Param::Text(id.to_hex()),
                Param::Int(now),
                Param::Text(doc.to_string()),
            ],
        );
        self.execute(&q).await?;
        Ok(())
    }

    /// Sets when a case is next looked at, leaving its document alone (a case whose run
    /// failed is put aside).
    pub async fn postpone_case(&mut self, id: &ObjectId, due_at: i64) -> Result<(), StoreError> {
        let q = sql(
            self.is_pg(),
            "UPDATE cases SET due_at = ? WHERE id = ?",
            vec![Param::Int(due_at), Param::Text(id.to_hex())],
        );
        self.execute(&q).await?;
        Ok(())
    }

    /// Deletes an account's cases and everything that hangs off them (registrations, OCR
    /// references, letters, customers, outbox jobs, idempotency keys); the number of cases.
    pub async fn delete_account_cases(&mut self, account: &ObjectId) -> Result<u64, StoreError> {
        let a = account.to_hex();
        let mut cases = 0;
        for table in [
            "cases",
            "case_registrations",
            "ocr_numbers",
            "case_letters",
            "creditor_payments",
            "creditor_creditings",
            "creditor_cancellations",
            "case_respites",
            "payout_specifications",
            "payouts",
            "webhook_deliveries",
            "customers",
            "jobs",
            "idempotency_keys",
        ] {
            let q = sql(
                self.is_pg(),
                &format!("DELETE FROM {table} WHERE account = ?"),
                vec![Param::Text(a.clone())],
            );
            let n = self.execute(&q).await?;
            if table == "cases" {
                cases = n;
                self.audit(&crate::resources::ACCOUNTS, &a, &a, "sandbox_reset");
            }
            if !["jobs", "idempotency_keys"].contains(&table) && n > 0 {
                self.touch_table(table, &a);
            }
        }
        Ok(cases)
    }
}
