//! Storage for the operator console: operators (argon2 password hashes), their sessions (by
//! SHA-256 of the cookie's token) and the totals the overview page shows. Plain tables, not
//! Eve resources.

use super::auth::{oid, pg};
use super::{Backend, Store, StoreError};
use crate::domain::ObjectId;
use crate::tenancy::Scope;

/// A person who signs in at `/console`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleOperator {
    pub id: ObjectId,
    pub email: String,
    /// `None`: the agency's operator (every account).
    pub account: Option<ObjectId>,
    /// Only this creditor of the account.
    pub creditor: Option<ObjectId>,
    pub created: i64,
    pub disabled: bool,
}

/// A signed-in session.
#[derive(Clone, Debug)]
pub struct ConsoleSession {
    pub operator: ObjectId,
    pub csrf: String,
    pub last_seen: i64,
    pub expires: i64,
}

/// Open cases of one state: how many, and what they still owe (öre).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateTotal {
    pub state: String,
    pub status: String,
    pub cases: i64,
    pub remaining: i64,
}

/// The overview page's numbers, within a scope.
#[derive(Clone, Debug, Default)]
pub struct Overview {
    pub states: Vec<StateTotal>,
    /// (week since the start, cases registered that week).
    pub opened: Vec<(i64, i64)>,
    /// (week, cases closed that week).
    pub closed: Vec<(i64, i64)>,
    /// (week, öre) that debtors paid the agency (capital, interest, outlays).
    pub collected: Vec<(i64, i64)>,
    /// (week, öre) paid out to creditors.
    pub paid_out: Vec<(i64, i64)>,
    /// Öre collected, and paid out, since the month's start.
    pub collected_month: i64,
    pub paid_out_month: i64,
    /// Per account: the earliest time an open case is due for the flow worker.
    pub due: Vec<(ObjectId, i64)>,
}

/// A read on either backend: `$fetch` is `fetch_all`, `fetch_optional`, …; the closure adds
/// the binds.
macro_rules! read {
    ($store:expr, $sql:expr, $fetch:ident, |$q:ident| $bind:expr) => {{
        let sql: &str = $sql;
        match &$store.backend {
            Backend::Sqlite(s) => {
                let $q = sqlx::query_as(sql);
                $bind.$fetch(s.reader()).await?
            }
            Backend::Postgres(p) => {
                let text = pg(sql);
                let $q = sqlx::query_as(&text);
                $bind.$fetch(p.pool()).await?
            }
        }
    }};
}

/// A write on either backend, in a transaction of its own; the number of rows changed.
macro_rules! write {
    ($store:expr, $sql:expr, |$q:ident| $bind:expr) => {{
        let sql: &str = $sql;
        match &$store.backend {
            Backend::Sqlite(s) => {
                let mut tx = s.begin().await?;
                let $q = sqlx::query(sql);
                let n = $bind.execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                n
            }
            Backend::Postgres(p) => {
                let text = pg(sql);
                let $q = sqlx::query(&text);
                $bind.execute(p.pool()).await?.rows_affected()
            }
        }
    }};
}

type OperatorRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    String,
);

const OPERATOR_COLUMNS: &str =
    "SELECT id, email, account, creditor, created, disabled, password_hash FROM console_operators";

fn operator(row: OperatorRow) -> Result<(ConsoleOperator, String), StoreError> {
    let (id, email, account, creditor, created, disabled, hash) = row;
    Ok((
        ConsoleOperator {
            id: oid(id)?,
            email,
            account: account.map(oid).transpose()?,
            creditor: creditor.map(oid).transpose()?,
            created,
            disabled: disabled != 0,
        },
        hash,
    ))
}

/// `account IN (…)`-style conditions for a scope, on a table with `account` (and, when
/// `creditor_column`, `creditor`) columns; the values are ids, checked hex, so inlined.
fn scope_sql(scope: &Scope, creditor_column: bool) -> String {
    let mut sql = String::from("1 = 1");
    if let Some(a) = &scope.account {
        sql.push_str(&format!(" AND account = '{}'", a.to_hex()));
    }
    if let (Some(cs), true) = (&scope.creditors, creditor_column) {
        let list: Vec<String> = cs.iter().map(|c| format!("'{}'", c.to_hex())).collect();
        if list.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND creditor IN ({})", list.join(", ")));
        }
    }
    sql
}

impl Store {
    /// Adds an operator; `false` when the email is taken.
    pub async fn insert_console_operator(
        &self,
        op: &ConsoleOperator,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        if self.console_operator_by_email(&op.email).await?.is_some() {
            return Ok(false);
        }
        write!(
            self,
            "INSERT INTO console_operators (id, email, password_hash, account, creditor, created, disabled) VALUES (?, ?, ?, ?, ?, ?, 0)",
            |q| q
                .bind(op.id.to_hex())
                .bind(&op.email)
                .bind(password_hash)
                .bind(op.account.map(|a| a.to_hex()))
                .bind(op.creditor.map(|c| c.to_hex()))
                .bind(op.created)
        );
        Ok(true)
    }

    /// The operator with this email (lower case), with its password hash.
    pub async fn console_operator_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(ConsoleOperator, String)>, StoreError> {
        let sql = format!("{OPERATOR_COLUMNS} WHERE email = ?");
        let row: Option<OperatorRow> = read!(self, &sql, fetch_optional, |q| q.bind(email));
        row.map(operator).transpose()
    }

    pub async fn console_operator(
        &self,
        id: &ObjectId,
    ) -> Result<Option<ConsoleOperator>, StoreError> {
        let sql = format!("{OPERATOR_COLUMNS} WHERE id = ?");
        let row: Option<OperatorRow> = read!(self, &sql, fetch_optional, |q| q.bind(id.to_hex()));
        Ok(row.map(operator).transpose()?.map(|(op, _)| op))
    }

    /// Every operator (the audit page names them).
    pub async fn console_operators(&self) -> Result<Vec<ConsoleOperator>, StoreError> {
        let sql = format!("{OPERATOR_COLUMNS} ORDER BY email");
        let rows: Vec<OperatorRow> = read!(self, &sql, fetch_all, |q| q);
        rows.into_iter()
            .map(|r| operator(r).map(|(op, _)| op))
            .collect()
    }

    /// Replaces an operator's password hash and ends its sessions; `false` if no such email.
    pub async fn set_console_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let Some((op, _)) = self.console_operator_by_email(email).await? else {
            return Ok(false);
        };
        write!(
            self,
            "UPDATE console_operators SET password_hash = ? WHERE id = ?",
            |q| q.bind(password_hash).bind(op.id.to_hex())
        );
        write!(
            self,
            "DELETE FROM console_sessions WHERE operator = ?",
            |q| q.bind(op.id.to_hex())
        );
        Ok(true)
    }

    /// Disables (or enables again) an operator; a disabled one's sessions end at once.
    /// `false` if no such email.
    pub async fn set_console_operator_disabled(
        &self,
        email: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let Some((op, _)) = self.console_operator_by_email(email).await? else {
            return Ok(false);
        };
        write!(
            self,
            "UPDATE console_operators SET disabled = ? WHERE id = ?",
            |q| q.bind(i64::from(disabled)).bind(op.id.to_hex())
        );
        if disabled {
            write!(
                self,
                "DELETE FROM console_sessions WHERE operator = ?",
                |q| q.bind(op.id.to_hex())
            );
        }
        Ok(true)
    }

    /// Starts a session (and drops expired ones).
    pub async fn insert_console_session(
        &self,
        token_hash: &str,
        operator: &ObjectId,
        csrf: &str,
        now: i64,
        expires: i64,
    ) -> Result<(), StoreError> {
        write!(
            self,
            "DELETE FROM console_sessions WHERE expires < ?",
            |q| q.bind(now)
        );
        write!(
            self,
            "INSERT INTO console_sessions (token_hash, operator, csrf, created, last_seen, expires) VALUES (?, ?, ?, ?, ?, ?)",
            |q| q
                .bind(token_hash)
                .bind(operator.to_hex())
                .bind(csrf)
                .bind(now)
                .bind(now)
                .bind(expires)
        );
        Ok(())
    }

    pub async fn console_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row: Option<(String, String, i64, i64)> = read!(
            self,
            "SELECT operator, csrf, last_seen, expires FROM console_sessions WHERE token_hash = ?",
            fetch_optional,
            |q| q.bind(token_hash)
        );
        row.map(|(operator, csrf, last_seen, expires)| {
            Ok(ConsoleSession {
                operator: oid(operator)?,
                csrf,
                last_seen,
                expires,
            })
        })
        .transpose()
    }

    pub async fn touch_console_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        write!(
            self,
            "UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?",
            |q| q.bind(now).bind(token_hash)
        );
        Ok(())
    }

    pub async fn delete_console_session(&self, token_hash: &str) -> Result<(), StoreError> {
        write!(
            self,
            "DELETE FROM console_sessions WHERE token_hash = ?",
            |q| q.bind(token_hash)
        );
        Ok(())
    }

    /// The overview's totals within `scope`; series start at `since` (seconds).
    pub async fn console_overview(
        &self,
        scope: &Scope,
        since: i64,
        month_start: i64,
    ) -> Result<Overview, StoreError> {
        let cases = scope_sql(scope, true);
        let remaining = match &self.backend {
            Backend::Sqlite(_) => {
                "CAST(SUM(ROUND(json_extract(doc, '$.total_remaining_transaction_amount') * 100)) AS INTEGER)"
            }
            Backend::Postgres(_) => {
                "CAST(SUM(ROUND(CAST(doc->>'total_remaining_transaction_amount' AS NUMERIC) * 100)) AS BIGINT)"
            }
        };
        let sql = format!(
            "SELECT state, status, COUNT(*), COALESCE({remaining}, 0) FROM cases \
             WHERE {cases} AND closed_at IS NULL GROUP BY state, status ORDER BY state, status"
        );
        let states: Vec<(String, String, i64, i64)> = read!(self, &sql, fetch_all, |q| q);
        // Per week since `since`: week 0 is the first.
        let weekly = |column: &str, table_where: &str, sum: &str| {
            format!(
                "SELECT CAST(({column} - ?) / 604800 AS BIGINT) AS w, CAST({sum} AS BIGINT) \
                 FROM {table_where} AND {column} >= ? GROUP BY w ORDER BY w"
            )
        };
        let amount = |field: &str| match &self.backend {
            Backend::Sqlite(_) => {
                format!("SUM(ROUND(json_extract(doc, '$.{field}') * 100))")
            }
            Backend::Postgres(_) => {
                format!("SUM(ROUND(CAST(doc->>'{field}' AS NUMERIC) * 100))")
            }
        };
        let sql = weekly("created", &format!("cases WHERE {cases}"), "COUNT(*)");
        let opened: Vec<(i64, i64)> = read!(self, &sql, fetch_all, |q| q.bind(since).bind(since));
        let sql = weekly("closed_at", &format!("cases WHERE {cases}"), "COUNT(*)");
        let closed: Vec<(i64, i64)> = read!(self, &sql, fetch_all, |q| q.bind(since).bind(since));
        let sql = weekly(
            "created",
            &format!(
                "payout_specifications WHERE {cases} \
                 AND finance_category IN ('capital', 'interest', 'creditor_outlay')"
            ),
            &amount("total_amount"),
        );
        let collected: Vec<(i64, i64)> =
            read!(self, &sql, fetch_all, |q| q.bind(since).bind(since));
        let sql = weekly(
            "created",
            &format!("payouts WHERE {cases}"),
            &amount("total_amount"),
        );
        let paid_out: Vec<(i64, i64)> = read!(self, &sql, fetch_all, |q| q.bind(since).bind(since));
        let collected_where = format!(
            "payout_specifications WHERE {cases} \
             AND finance_category IN ('capital', 'interest', 'creditor_outlay')"
        );
        let total = |table_where: &str| {
            format!(
                "SELECT CAST(COALESCE({}, 0) AS BIGINT) FROM {table_where} AND created >= ?",
                amount("total_amount")
            )
        };
        let (collected_month,): (i64,) = read!(self, &total(&collected_where), fetch_one, |q| q
            .bind(month_start));
        let (paid_out_month,): (i64,) = read!(
            self,
            &total(&format!("payouts WHERE {cases}")),
            fetch_one,
            |q| q.bind(month_start)
        );
        let sql = format!(
            "SELECT account, MIN(due_at) FROM cases WHERE {cases} AND due_at IS NOT NULL GROUP BY account"
        );
        let due: Vec<(String, i64)> = read!(self, &sql, fetch_all, |q| q);
        Ok(Overview {
            states: states
                .into_iter()
                .map(|(state, status, cases, remaining)| StateTotal {
                    state,
                    status,
                    cases,
                    remaining,
                })
                .collect(),
            opened,
            closed,
            collected,
            paid_out,
            collected_month,
            paid_out_month,
            due: due
                .into_iter()
                .map(|(a, t)| Ok((oid(a)?, t)))
                .collect::<Result<_, StoreError>>()?,
        })
    }
}
