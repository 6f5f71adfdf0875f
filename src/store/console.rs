//! Storage for the operator console: operators (argon2 password hashes), their sessions (by
//! SHA-256 of the cookie's token) and the totals the overview page shows. Plain tables, not
//! Eve resources.

use super::exec::{Cell, Ty};
use super::{Store, StoreError};
use crate::domain::ObjectId;
use crate::scope::Scope;
use crate::sql::{query, Param, Sql, Statement};

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

fn oid(s: Option<String>) -> Result<ObjectId, StoreError> {
    s.as_deref()
        .and_then(|s| ObjectId::parse(s).ok())
        .ok_or_else(|| StoreError::Document(format!("bad id {s:?}")))
}

const OPERATOR_COLUMNS: &str =
    "SELECT id, email, account, creditor, created, disabled, password_hash FROM console_operators";
const OPERATOR_TYPES: [Ty; 7] = [
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Int,
    Ty::Int,
    Ty::Text,
];

fn operator(row: Vec<Cell>) -> Result<(ConsoleOperator, String), StoreError> {
    let (created, disabled) = (row[4].int().unwrap_or(0), row[5].int().unwrap_or(0));
    let mut t = row.into_iter().map(Cell::into_text);
    let (id, email, account, creditor) = (t.next(), t.next(), t.next(), t.next());
    let hash = t.nth(2).flatten().unwrap_or_default();
    Ok((
        ConsoleOperator {
            id: oid(id.flatten())?,
            email: email.flatten().unwrap_or_default(),
            account: account.flatten().map(|a| oid(Some(a))).transpose()?,
            creditor: creditor.flatten().map(|c| oid(Some(c))).transpose()?,
            created,
            disabled: disabled != 0,
        },
        hash,
    ))
}

/// The scope's conditions on a table with `account` (and, when `creditor_column`,
/// `creditor`) columns.
fn push_scope(st: &mut Statement, scope: &Scope, creditor_column: bool) {
    st.push("1 = 1");
    if let Some(a) = &scope.account {
        st.push(" AND account = ").text(a.to_hex());
    }
    if let (Some(cs), true) = (&scope.creditors, creditor_column) {
        if cs.is_empty() {
            st.push(" AND 1 = 0");
        } else {
            st.push(" AND creditor IN (")
                .list(cs.iter().map(|c| Param::Text(c.to_hex())))
                .push(")");
        }
    }
}

impl Store {
    fn sql(&self, template: &str, params: Vec<Param>) -> Sql {
        query(self.dialect(), template, params)
    }

    /// Adds an operator; `false` when the email is taken.
    pub async fn insert_console_operator(
        &self,
        op: &ConsoleOperator,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        if self.console_operator_by_email(&op.email).await?.is_some() {
            return Ok(false);
        }
        self.execute(self.sql(
            "INSERT INTO console_operators (id, email, password_hash, account, creditor, created, disabled) VALUES (?, ?, ?, ?, ?, ?, 0)",
            vec![
                Param::Text(op.id.to_hex()),
                Param::Text(op.email.clone()),
                Param::Text(password_hash.to_string()),
                Param::opt_text(op.account.map(|a| a.to_hex())),
                Param::opt_text(op.creditor.map(|c| c.to_hex())),
                Param::Int(op.created),
            ],
        ))
        .await?;
        Ok(true)
    }

    /// The operator with this email (lower case), with its password hash.
    pub async fn console_operator_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(ConsoleOperator, String)>, StoreError> {
        let sql = self.sql(
            &format!("{OPERATOR_COLUMNS} WHERE email = ?"),
            vec![Param::Text(email.to_string())],
        );
        self.cells(sql, &OPERATOR_TYPES)
            .await?
            .into_iter()
            .next()
            .map(operator)
            .transpose()
    }

    pub async fn console_operator(
        &self,
        id: &ObjectId,
    ) -> Result<Option<ConsoleOperator>, StoreError> {
        let sql = self.sql(
            &format!("{OPERATOR_COLUMNS} WHERE id = ?"),
            vec![Param::Text(id.to_hex())],
        );
        Ok(self
            .cells(sql, &OPERATOR_TYPES)
            .await?
            .into_iter()
            .next()
            .map(operator)
            .transpose()?
            .map(|(op, _)| op))
    }

    /// Every operator (the audit page names them).
    pub async fn console_operators(&self) -> Result<Vec<ConsoleOperator>, StoreError> {
        let sql = self.sql(&format!("{OPERATOR_COLUMNS} ORDER BY email"), vec![]);
        self.cells(sql, &OPERATOR_TYPES)
            .await?
            .into_iter()
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
        let mut tx = self.begin().await?;
        tx.execute(self.sql(
            "UPDATE console_operators SET password_hash = ? WHERE id = ?",
            vec![
                Param::Text(password_hash.to_string()),
                Param::Text(op.id.to_hex()),
            ],
        ))
        .await?;
        tx.execute(self.sql(
            "DELETE FROM console_sessions WHERE operator = ?",
            vec![Param::Text(op.id.to_hex())],
        ))
        .await?;
        tx.commit().await?;
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
        let mut tx = self.begin().await?;
        tx.execute(self.sql(
            "UPDATE console_operators SET disabled = ? WHERE id = ?",
            vec![Param::Int(i64::from(disabled)), Param::Text(op.id.to_hex())],
        ))
        .await?;
        if disabled {
            tx.execute(self.sql(
                "DELETE FROM console_sessions WHERE operator = ?",
                vec![Param::Text(op.id.to_hex())],
            ))
            .await?;
        }
        tx.commit().await?;
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
        let mut tx = self.begin().await?;
        tx.execute(self.sql(
            "DELETE FROM console_sessions WHERE expires < ?",
            vec![Param::Int(now)],
        ))
        .await?;
        tx.execute(self.sql(
            "INSERT INTO console_sessions (token_hash, operator, csrf, created, last_seen, expires) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                Param::Text(token_hash.to_string()),
                Param::Text(operator.to_hex()),
                Param::Text(csrf.to_string()),
                Param::Int(now),
                Param::Int(now),
                Param::Int(expires),
            ],
        ))
        .await?;
        tx.commit().await
    }

    pub async fn console_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let sql = self.sql(
            "SELECT operator, csrf, last_seen, expires FROM console_sessions WHERE token_hash = ?",
            vec![Param::Text(token_hash.to_string())],
        );
        let rows = self
            .cells(sql, &[Ty::Text, Ty::Text, Ty::Int, Ty::Int])
            .await?;
        rows.into_iter()
            .next()
            .map(|r| {
                let (last_seen, expires) = (r[2].int().unwrap_or(0), r[3].int().unwrap_or(0));
                let mut t = r.into_iter().map(Cell::into_text);
                Ok(ConsoleSession {
                    operator: oid(t.next().flatten())?,
                    csrf: t.next().flatten().unwrap_or_default(),
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
        self.execute(self.sql(
            "UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?",
            vec![Param::Int(now), Param::Text(token_hash.to_string())],
        ))
        .await?;
        Ok(())
    }

    pub async fn delete_console_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.execute(self.sql(
            "DELETE FROM console_sessions WHERE token_hash = ?",
            vec![Param::Text(token_hash.to_string())],
        ))
        .await?;
        Ok(())
    }

    /// (week, value) rows: `SELECT (column - since) / week, sum FROM table WHERE scope AND
    /// column >= since [AND extra] GROUP BY week`.
    async fn weekly(
        &self,
        table: &str,
        column: &str,
        scope: &Scope,
        extra: &str,
        sum: impl Fn(&mut Statement),
        since: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut st = self.statement();
        st.push(&format!("SELECT CAST(({column} - "))
            .int(since)
            .push(") / 604800 AS BIGINT) AS w, CAST(");
        sum(&mut st);
        st.push(&format!(" AS BIGINT) FROM {table} WHERE "));
        push_scope(&mut st, scope, true);
        st.push(extra)
            .push(&format!(" AND {column} >= "))
            .int(since)
            .push(" GROUP BY w ORDER BY w");
        Ok(self
            .cells(st.finish(), &[Ty::Int, Ty::Int])
            .await?
            .iter()
            .map(|r| (r[0].int().unwrap_or(0), r[1].int().unwrap_or(0)))
            .collect())
    }

    /// `SUM(ROUND(<field> * 100))`: a JSON amount in kronor, summed in öre.
    fn sum_ore(st: &mut Statement, field: &str) {
        st.push("SUM(ROUND(")
            .json_number("doc", &[field])
            .push(" * 100))");
    }

    /// The overview's totals within `scope`; series start at `since` (seconds).
    pub async fn console_overview(
        &self,
        scope: &Scope,
        since: i64,
        month_start: i64,
    ) -> Result<Overview, StoreError> {
        let mut st = self.statement();
        st.push("SELECT state, status, COUNT(*), CAST(COALESCE(");
        Self::sum_ore(&mut st, "total_remaining_transaction_amount");
        st.push(", 0) AS BIGINT) FROM cases WHERE ");
        push_scope(&mut st, scope, true);
        st.push(" AND closed_at IS NULL GROUP BY state, status ORDER BY state, status");
        let states = self
            .cells(st.finish(), &[Ty::Text, Ty::Text, Ty::Int, Ty::Int])
            .await?
            .into_iter()
            .map(|r| {
                let (cases, remaining) = (r[2].int().unwrap_or(0), r[3].int().unwrap_or(0));
                let mut t = r.into_iter().map(Cell::into_text);
                StateTotal {
                    state: t.next().flatten().unwrap_or_default(),
                    status: t.next().flatten().unwrap_or_default(),
                    cases,
                    remaining,
                }
            })
            .collect();
        let count = |st: &mut Statement| {
            st.push("COUNT(*)");
        };
        let total = |st: &mut Statement| Self::sum_ore(st, "total_amount");
        const COLLECTED: &str =
            " AND finance_category IN ('capital', 'interest', 'creditor_outlay')";
        let opened = self
            .weekly("cases", "created", scope, "", count, since)
            .await?;
        let closed = self
            .weekly("cases", "closed_at", scope, "", count, since)
            .await?;
        let collected = self
            .weekly(
                "payout_specifications",
                "created",
                scope,
                COLLECTED,
                total,
                since,
            )
            .await?;
        let paid_out = self
            .weekly("payouts", "created", scope, "", total, since)
            .await?;
        let month = |table: &str, extra: &str| {
            let mut st = self.statement();
            st.push("SELECT CAST(COALESCE(");
            Self::sum_ore(&mut st, "total_amount");
            st.push(&format!(", 0) AS BIGINT) FROM {table} WHERE "));
            push_scope(&mut st, scope, true);
            st.push(extra).push(" AND created >= ").int(month_start);
            st.finish()
        };
        let collected_month = self
            .int(month("payout_specifications", COLLECTED))
            .await?
            .unwrap_or(0);
        let paid_out_month = self.int(month("payouts", "")).await?.unwrap_or(0);
        let mut st = self.statement();
        st.push("SELECT account, MIN(due_at) FROM cases WHERE ");
        push_scope(&mut st, scope, true);
        st.push(" AND due_at IS NOT NULL GROUP BY account");
        let due = self
            .cells(st.finish(), &[Ty::Text, Ty::Int])
            .await?
            .into_iter()
            .map(|r| {
                let t = r[1].int().unwrap_or(0);
                Ok((oid(r.into_iter().next().and_then(Cell::into_text))?, t))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Overview {
            states,
            opened,
            closed,
            collected,
            paid_out,
            collected_month,
            paid_out_month,
            due,
        })
    }
}

impl Store {
    /// The account with the most open cases, if any has one (read from the index of open
    /// cases: a tenth of a second at a million).
    pub async fn busiest_account(&self) -> Result<Option<ObjectId>, StoreError> {
        let mut st = self.statement();
        st.push(
            "SELECT account FROM cases WHERE closed_at IS NULL GROUP BY account \
             ORDER BY COUNT(*) DESC, account LIMIT 1",
        );
        let rows = self.cells(st.finish(), &[Ty::Text]).await?;
        Ok(rows
            .first()
            .and_then(|r| r[0].text())
            .and_then(|a| ObjectId::parse(a).ok()))
    }
}
