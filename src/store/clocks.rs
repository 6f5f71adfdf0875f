//! Account clocks: a sandbox account's own time (real time until its integrator sets it).

use super::exec::Ty;
use super::{Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::sql::{query, Param};

/// A sandbox account's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountClock {
    pub sandbox: bool,
    /// `None`: follows real time.
    pub now: Option<i64>,
}

const CLOCK: &str = "SELECT sandbox, now FROM account_clocks WHERE account = ?";

fn clock_of(rows: Vec<Vec<super::exec::Cell>>) -> Option<AccountClock> {
    rows.first().map(|r| AccountClock {
        sandbox: r[0].int() == Some(1),
        now: r[1].int(),
    })
}

impl Store {
    /// The account's clock row, if it has one (only sandbox accounts do).
    pub async fn account_clock(
        &self,
        account: &ObjectId,
    ) -> Result<Option<AccountClock>, StoreError> {
        let sql = query(self.dialect(), CLOCK, vec![Param::Text(account.to_hex())]);
        Ok(clock_of(self.cells(sql, &[Ty::Int, Ty::Int]).await?))
    }

    /// Every account with its stored clock (`None` for real time).
    pub async fn account_times(&self) -> Result<Vec<(ObjectId, Option<i64>)>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT a.id, c.now FROM accounts a LEFT JOIN account_clocks c ON c.account = a.id ORDER BY a.id",
            vec![],
        );
        self.cells(sql, &[Ty::Text, Ty::Int])
            .await?
            .iter()
            .map(|r| {
                let id = r[0].text().and_then(|s| ObjectId::parse(s).ok());
                let id =
                    id.ok_or_else(|| StoreError::Document(format!("not an id: {:?}", r[0])))?;
                Ok((id, r[1].int()))
            })
            .collect()
    }
}

impl Store {
    /// Sandbox accounts whose clock move, made at or before `made_by` (real time), has not
    /// finished running its cases (a crash cut it short), with the time to run them to.
    pub async fn unfinished_runs(&self, made_by: i64) -> Result<Vec<(ObjectId, i64)>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT account, run_until FROM account_clocks \
             WHERE run_until IS NOT NULL AND run_since <= ? ORDER BY account",
            vec![Param::Int(made_by)],
        );
        self.cells(sql, &[Ty::Text, Ty::Int])
            .await?
            .iter()
            .filter_map(|r| {
                let id = r[0].text().and_then(|s| ObjectId::parse(s).ok())?;
                Some(Ok((id, r[1].int()?)))
            })
            .collect()
    }

    /// The cases of `account` have been run to `until`: the move is finished, unless the
    /// clock has moved on since (then that move's run is still to come).
    pub async fn finished_run(&self, account: &ObjectId, until: i64) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let sql = query(
            tx.dialect(),
            "UPDATE account_clocks SET run_until = NULL WHERE account = ? AND run_until = ?",
            vec![Param::Text(account.to_hex()), Param::Int(until)],
        );
        tx.execute(sql).await?;
        tx.commit().await
    }
}

impl Tx<'_> {
    /// Whether the account has any case.
    pub async fn account_has_cases(&mut self, account: &ObjectId) -> Result<bool, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE account = ? LIMIT 1) c",
            vec![Param::Text(account.to_hex())],
        );
        let rows = self.cells(sql, &[Ty::Int]).await?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0) > 0)
    }

    /// The account's clock row, read inside the transaction.
    pub async fn account_clock(
        &mut self,
        account: &ObjectId,
    ) -> Result<Option<AccountClock>, StoreError> {
        let sql = query(self.dialect(), CLOCK, vec![Param::Text(account.to_hex())]);
        Ok(clock_of(self.cells(sql, &[Ty::Int, Ty::Int]).await?))
    }

    /// Makes an account a sandbox (its clock follows real time until set).
    pub async fn insert_account_clock(&mut self, account: &ObjectId) -> Result<(), StoreError> {
        let sql = query(
            self.dialect(),
            "INSERT INTO account_clocks (account, sandbox, now) VALUES (?, 1, NULL) ON CONFLICT (account) DO NOTHING",
            vec![Param::Text(account.to_hex())],
        );
        self.execute(sql).await?;
        Ok(())
    }

    /// Sets a sandbox account's clock to `now` (and notes that its cases are still to be run
    /// to it: [`Store::finished_run`] clears that), unless that is earlier than its current time
    /// (its stored time, or `real` while it follows real time) and the account has cases.
    /// Whether it was set.
    pub async fn move_account_clock(
        &mut self,
        account: &ObjectId,
        now: i64,
        real: i64,
    ) -> Result<bool, StoreError> {
        let a = account.to_hex();
        let sql = query(
            self.dialect(),
            "UPDATE account_clocks SET now = ?, run_until = ?, run_since = ? WHERE account = ? AND sandbox = 1 \
             AND (COALESCE(now, ?) <= ? OR NOT EXISTS (SELECT 1 FROM cases WHERE account = ?))",
            vec![
                Param::Int(now),
                Param::Int(now),
                Param::Int(real),
                Param::Text(a.clone()),
                Param::Int(real),
                Param::Int(now),
                Param::Text(a.clone()),
            ],
        );
        let moved = self.execute(sql).await? == 1;
        if moved {
            self.audit(&crate::resources::ACCOUNTS, &a, &a, "sandbox_clock_moved");
        }
        Ok(moved)
    }
}
