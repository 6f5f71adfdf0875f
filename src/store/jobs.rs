//! The job queue's table (`jobs`, see `src/jobs`): jobs are inserted in the transaction of
//! the change that causes them, claimed with one query (leased by moving `run_at` on, and
//! with `SKIP LOCKED` on PostgreSQL so nodes share the work), and deleted when done, in the
//! job's own transaction when it has one.

use super::exec::Ty;
use super::{Store, StoreError, Tx};
use crate::sql::{query, Lock, Param};

/// A job to insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: String,
    /// The account whose data it concerns (`""`: the agency's).
    pub account: String,
    /// At most one waiting job has this key: a second is not inserted.
    pub unique_key: Option<String>,
    /// Lower runs first.
    pub priority: i64,
    /// Real time from which it may run.
    pub run_at: i64,
}

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub account: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

const COLUMNS: &str = "kind, payload, account, unique_key, priority, run_at, created";

impl Tx<'_> {
    /// Inserts jobs, `created` at real time `now` (one statement per 200).
    pub async fn insert_jobs(&mut self, jobs: &[NewJob], now: i64) -> Result<(), StoreError> {
        for chunk in jobs.chunks(200) {
            let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let text = format!(
                "INSERT INTO jobs ({COLUMNS}) VALUES {rows} ON CONFLICT (unique_key) DO NOTHING"
            );
            let mut params = Vec::with_capacity(chunk.len() * 7);
            for j in chunk {
                params.extend([
                    Param::Text(j.kind.to_string()),
                    Param::Text(j.payload.clone()),
                    Param::Text(j.account.clone()),
                    match &j.unique_key {
                        Some(k) => Param::Text(k.clone()),
                        None => Param::NullText,
                    },
                    Param::Int(j.priority),
                    Param::Int(j.run_at),
                    Param::Int(now),
                ]);
            }
            let q = query(self.dialect(), &text, params);
            self.execute(q).await?;
        }
        Ok(())
    }

    /// Removes a job (done). Nothing when it is gone already.
    pub async fn delete_job(&mut self, id: i64) -> Result<(), StoreError> {
        let q = query(
            self.dialect(),
            "DELETE FROM jobs WHERE id = ?",
            vec![Param::Int(id)],
        );
        self.execute(q).await?;
        Ok(())
    }

    /// Sets when a job runs next, with the error that made it wait (if any); `reset` starts
    /// its attempts over (a job that asked to run again later did not fail).
    pub async fn reschedule_job(
        &mut self,
        id: i64,
        run_at: i64,
        error: Option<&str>,
        reset: bool,
    ) -> Result<(), StoreError> {
        let q = query(
            self.dialect(),
            if reset {
                "UPDATE jobs SET run_at = ?, last_error = ?, attempts = 0 WHERE id = ?"
            } else {
                "UPDATE jobs SET run_at = ?, last_error = ? WHERE id = ?"
            },
            vec![
                Param::Int(run_at),
                error.map_or(Param::NullText, |e| Param::Text(e.to_string())),
                Param::Int(id),
            ],
        );
        self.execute(q).await?;
        Ok(())
    }

    /// Puts a claimed job that did not run back in the queue, to run at `run_at` (its
    /// attempts as they were).
    pub async fn release_job(&mut self, id: i64, run_at: i64) -> Result<(), StoreError> {
        let q = query(
            self.dialect(),
            "UPDATE jobs SET run_at = ?, attempts = attempts - 1 WHERE id = ? AND attempts > 0",
            vec![Param::Int(run_at), Param::Int(id)],
        );
        self.execute(q).await?;
        Ok(())
    }

    /// Makes the job with this unique key due now (if it waits).
    pub async fn run_job_now(&mut self, unique_key: &str) -> Result<(), StoreError> {
        let q = query(
            self.dialect(),
            "UPDATE jobs SET run_at = 0 WHERE unique_key = ?",
            vec![Param::Text(unique_key.to_string())],
        );
        self.execute(q).await?;
        Ok(())
    }
}

impl Store {
    /// Takes up to `limit` jobs of the given kinds due by `now`, of priority `max_priority`
    /// or lower (lowest priority, then longest due, first), leasing them until `lease_until`:
    /// no other worker takes them meanwhile, and a job not finished by then is taken again.
    pub async fn claim_jobs(
        &self,
        now: i64,
        lease_until: i64,
        max_priority: i64,
        kinds: &[&str],
        limit: i64,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        if kinds.is_empty() {
            return Ok(vec![]);
        }
        let mut st = self.statement();
        st.push("UPDATE jobs SET run_at = ")
            .int(lease_until)
            .push(", attempts = attempts + 1 WHERE id IN (SELECT id FROM jobs WHERE priority <= ")
            .int(max_priority)
            .push(" AND run_at <= ")
            .int(now)
            .push(" AND kind IN (")
            .list(kinds.iter().map(|k| Param::Text(k.to_string())))
            .push(") ORDER BY priority, run_at, id LIMIT ")
            .int(limit)
            .lock(Lock::SkipLocked)
            .push(") RETURNING id, kind, payload, account, attempts");
        let q = st.finish();
        let mut tx = self.begin().await?;
        let rows = tx
            .cells(q, &[Ty::Int, Ty::Text, Ty::Text, Ty::Text, Ty::Int])
            .await?;
        tx.commit().await?;
        let mut jobs: Vec<ClaimedJob> = rows
            .iter()
            .map(|r| ClaimedJob {
                id: r[0].int().unwrap_or_default(),
                kind: r[1].text().unwrap_or_default().to_string(),
                payload: r[2].text().unwrap_or_default().to_string(),
                account: r[3].text().unwrap_or_default().to_string(),
                attempts: r[4].int().unwrap_or_default(),
            })
            .collect();
        // RETURNING gives no order; the runner keeps the queue's.
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Jobs waiting: all, or an account's, or of one kind.
    pub async fn count_jobs(
        &self,
        account: Option<&str>,
        kind: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut text = "SELECT COUNT(*) FROM jobs WHERE 1=1".to_string();
        let mut params = vec![];
        if let Some(a) = account {
            text.push_str(" AND account = ?");
            params.push(Param::Text(a.to_string()));
        }
        if let Some(k) = kind {
            text.push_str(" AND kind = ?");
            params.push(Param::Text(k.to_string()));
        }
        Ok(self
            .int(query(self.dialect(), &text, params))
            .await?
            .unwrap_or(0))
    }

    /// Seconds the longest-waiting due job of `kind` has waited past its time (0 when none).
    pub async fn job_lag(&self, kind: &str, now: i64) -> Result<i64, StoreError> {
        let q = query(
            self.dialect(),
            "SELECT MIN(run_at) FROM jobs WHERE kind = ?",
            vec![Param::Text(kind.to_string())],
        );
        Ok(self.int(q).await?.map_or(0, |t| (now - t).max(0)))
    }
}
