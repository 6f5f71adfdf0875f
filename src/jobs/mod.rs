//! One typed job queue, in the manner of crates.io's background jobs: the work done after a
//! change commits — rendering a letter, fanning an event out to webhooks, sending a webhook
//! delivery, deleting a file no case refers to, the scheduled payout run — is a [`Job`]: a
//! name and a serde payload, inserted in the transaction of the change that causes it
//! ([`Tx::insert_jobs`]), so it is done if and only if the change is committed.
//!
//! One claim query ([`Store::claim_jobs`]) leases due jobs to one worker (`SKIP LOCKED` on
//! PostgreSQL: nodes share the queue); one [`Runner`] runs them, with a handler per job type
//! registered by the composition root, until it is told to stop. A job is run at least once:
//! a job that writes finishes itself in its own transaction ([`Run::finish_in`]), so its
//! writes and its removal commit together; anything else is made harmless to repeat.
//!
//! [`Tx::insert_jobs`]: crate::store::Tx::insert_jobs
//! [`Store::claim_jobs`]: crate::store::Store::claim_jobs

mod kinds;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{watch, Semaphore};

pub use self::kinds::{DeleteMedia, DeliverWebhook, FanOutEvent, RenderLetter, ScheduledPayouts};
use crate::store::{ClaimedJob, NewJob, Store, StoreError, Tx};

/// A kind of job: its name in the queue and its payload (the type itself).
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name stored with the job. Never renamed once jobs of it may be waiting.
    const NAME: &'static str;
    /// How many jobs of this kind run at once on one worker.
    const CONCURRENCY: usize = 8;

    /// Jobs with the same sequence run one after another in the order they were enqueued,
    /// and when one must wait ([`Next::At`]), those behind it wait for it (a webhook's
    /// deliveries, in order).
    fn sequence(&self) -> Option<String> {
        None
    }

    /// The account whose data the job concerns (`""`: the agency's own work): a sandbox
    /// reset removes that account's waiting jobs.
    fn account(&self) -> String;

    /// At most one waiting job has this key (a recurring job).
    fn unique_key(&self) -> Option<String> {
        None
    }
}

/// What became of a job that ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Done: the job is removed (if it did not finish itself in its own transaction).
    Done,
    /// Run it again at this real time (unix seconds): a retry schedule of its own, or a
    /// recurring job. Not a failure: its attempts start over.
    At(i64),
}

/// Which priority a job is enqueued at: lower runs first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Work a change causes now.
    Now = 0,
    /// History being filled in (a seed's letters): after everything else.
    Backfill = 1,
}

/// A job to insert, at once.
pub fn new_job<J: Job>(job: &J, priority: Priority) -> Result<NewJob, StoreError> {
    Ok(NewJob {
        kind: J::NAME,
        payload: serde_json::to_string(job).map_err(|e| StoreError::Document(e.to_string()))?,
        account: job.account(),
        unique_key: job.unique_key(),
        priority: priority as i64,
        run_at: 0,
    })
}

/// Inserts jobs in the caller's transaction (`now`: when they were made).
pub async fn enqueue(tx: &mut Tx<'_>, jobs: &[NewJob], now: i64) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    tx.insert_jobs(jobs, now).await
}

/// The job being run: its row and how many times it has been tried (this time included).
#[derive(Clone, Debug)]
pub struct Run {
    pub id: i64,
    pub attempt: i64,
}

impl Run {
    /// Removes the job inside the caller's transaction: its work and its removal commit
    /// together, so it is done exactly once.
    pub async fn finish_in(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        tx.delete_job(self.id).await
    }
}

/// A registered job type's way to run a payload with the runner's context `C`.
type Handler<C> =
    Arc<dyn Fn(Arc<C>, Run, String) -> BoxFuture<'static, Result<Next, String>> + Send + Sync>;

struct Kind<C> {
    handler: Handler<C>,
    sequence: fn(&str) -> Option<String>,
    permits: Arc<Semaphore>,
}

/// How a runner behaves.
#[derive(Clone, Copy, Debug)]
pub struct RunnerSettings {
    /// Jobs claimed per round.
    pub per_round: i64,
    /// How long a claimed job is leased before another worker may take it.
    pub lease: Duration,
    /// Job groups (sequences, or single jobs) run at once.
    pub concurrency: usize,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        RunnerSettings {
            per_round: 32,
            lease: Duration::from_secs(300),
            concurrency: 8,
        }
    }
}

/// Runs due jobs with the handlers registered for their kinds.
pub struct Runner<C> {
    store: Arc<Store>,
    context: Arc<C>,
    kinds: HashMap<&'static str, Kind<C>>,
    settings: RunnerSettings,
    /// Real time.
    now: Arc<dyn Fn() -> i64 + Send + Sync>,
}

/// A failed job waits 1, 2, 4, … minutes, at most an hour, before it is tried again.
pub fn backoff_secs(attempt: i64) -> i64 {
    60 * (1i64 << (attempt.clamp(1, 7) - 1)).min(60)
}

impl<C: Send + Sync + 'static> Runner<C> {
    /// A runner over `store`'s queue; `now` is real time in unix seconds.
    pub fn new(
        store: Arc<Store>,
        context: C,
        settings: RunnerSettings,
        now: impl Fn() -> i64 + Send + Sync + 'static,
    ) -> Runner<C> {
        Runner {
            store,
            context: Arc::new(context),
            kinds: HashMap::new(),
            settings,
            now: Arc::new(now),
        }
    }

    /// Registers how jobs of kind `J` run.
    pub fn register<J, F, Fut>(mut self, run: F) -> Self
    where
        J: Job,
        F: Fn(J, Arc<C>, Run) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Next, String>> + Send + 'static,
    {
        let run = Arc::new(run);
        let handler: Handler<C> = Arc::new(move |ctx: Arc<C>, r: Run, payload: String| {
            let run = run.clone();
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload)
                    .map_err(|e| format!("a {} job does not parse: {e}", J::NAME))?;
                run(job, ctx, r).await
            })
        });
        fn sequence<J: Job>(payload: &str) -> Option<String> {
            serde_json::from_str::<J>(payload)
                .ok()
                .and_then(|j| j.sequence())
        }
        self.kinds.insert(
            J::NAME,
            Kind {
                handler,
                sequence: sequence::<J>,
                permits: Arc::new(Semaphore::new(J::CONCURRENCY.max(1))),
            },
        );
        self
    }

    pub fn context(&self) -> &C {
        &self.context
    }

    /// Claims and runs one round of due jobs of priority `max_priority` or lower; how many
    /// it took.
    pub async fn run_once(&self, max_priority: Priority) -> Result<usize, StoreError> {
        let now = (self.now)();
        let kinds: Vec<&str> = self.kinds.keys().copied().collect();
        let jobs = self
            .store
            .claim_jobs(
                now,
                now + self.settings.lease.as_secs() as i64,
                max_priority as i64,
                &kinds,
                self.settings.per_round,
            )
            .await?;
        let n = jobs.len();
        // Groups in queue order: a sequence's jobs together, every other job alone.
        let mut groups: Vec<(Option<String>, Vec<ClaimedJob>)> = Vec::new();
        for job in jobs {
            let seq = self
                .kinds
                .get(job.kind.as_str())
                .and_then(|k| (k.sequence)(&job.payload))
                .map(|s| format!("{}:{s}", job.kind));
            match seq
                .as_ref()
                .and_then(|s| groups.iter_mut().find(|(g, _)| g.as_ref() == Some(s)))
            {
                Some((_, list)) => list.push(job),
                None => groups.push((seq, vec![job])),
            }
        }
        let results: Vec<Result<(), StoreError>> = futures_util::stream::iter(groups)
            .map(|(_, group)| self.run_group(group))
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok(n)
    }

    /// Runs a group's jobs in order; when one must wait, the rest wait with it.
    async fn run_group(&self, group: Vec<ClaimedJob>) -> Result<(), StoreError> {
        let mut jobs = group.into_iter();
        while let Some(job) = jobs.next() {
            if let Some(wait_until) = self.run_one(job).await? {
                let mut tx = self.store.begin().await?;
                for rest in jobs.by_ref() {
                    tx.release_job(rest.id, wait_until).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Runs one job; when it is to wait (a retry, a later run), until when.
    async fn run_one(&self, job: ClaimedJob) -> Result<Option<i64>, StoreError> {
        let now = (self.now)();
        let Some(kind) = self.kinds.get(job.kind.as_str()) else {
            // A job of a kind this build does not know (written by a newer one): leave it.
            let error = format!("no handler for jobs of kind {}", job.kind);
            tracing::error!(job = job.id, kind = %job.kind, "{error}");
            let mut tx = self.store.begin().await?;
            tx.reschedule_job(job.id, now + 3600, Some(&error), false)
                .await?;
            tx.commit().await?;
            return Ok(Some(now + 3600));
        };
        let _permit = kind.permits.acquire().await;
        let run = Run {
            id: job.id,
            attempt: job.attempts,
        };
        let outcome = (kind.handler)(self.context.clone(), run, job.payload).await;
        let mut tx = self.store.begin().await?;
        let wait = match outcome {
            Ok(Next::Done) => {
                metrics::counter!("indriva_jobs_total", "kind" => job.kind.clone(), "outcome" => "done")
                    .increment(1);
                tx.delete_job(job.id).await?;
                None
            }
            Ok(Next::At(at)) => {
                tx.reschedule_job(job.id, at, None, true).await?;
                Some(at)
            }
            Err(e) => {
                metrics::counter!("indriva_jobs_total", "kind" => job.kind.clone(), "outcome" => "failed")
                    .increment(1);
                let at = now + backoff_secs(job.attempts);
                tracing::error!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %e, "a job failed; it is retried");
                tx.reschedule_job(job.id, at, Some(&e), false).await?;
                Some(at)
            }
        };
        tx.commit().await?;
        Ok(wait)
    }

    /// Runs rounds until none is due (or `stop` says so); how many jobs ran.
    pub async fn drain(
        &self,
        max_priority: Priority,
        stop: Option<&watch::Receiver<bool>>,
    ) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let n = self.run_once(max_priority).await?;
            total += n;
            if n == 0 || stop.is_some_and(|s| *s.borrow()) {
                return Ok(total);
            }
        }
    }

    /// Runs due jobs every `interval` until `stop` says so; a round being run when the
    /// signal comes is finished first.
    pub async fn run_until_stopped(&self, interval: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(e) = self.drain(Priority::Backfill, Some(&stop)).await {
                tracing::error!(error = %e, "the job runner's round failed");
            }
            if let Ok(lag) = self.store.job_lag(DeliverWebhook::NAME, (self.now)()).await {
                metrics::gauge!("indriva_webhook_delivery_lag_seconds").set(lag as f64);
            }
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
