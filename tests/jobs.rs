//! The job queue (src/jobs): jobs are enqueued in the transaction of the change that causes
//! them, claimed once, retried with backoff when they fail, held back behind the job before
//! them in their sequence, and a recurring job exists once. On SQLite, and on PostgreSQL
//! when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indriva::jobs::{enqueue, new_job, Job, Next, Priority, Run, Runner, RunnerSettings};
use indriva::store::Store;
use serde::{Deserialize, Serialize};

/// What the test jobs did, in order.
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

impl Log {
    fn push(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// A job that records its name, and fails or waits when told to.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Echo {
    name: String,
    #[serde(default)]
    sequence: Option<String>,
    /// Fail this many times before it succeeds.
    #[serde(default)]
    fail: i64,
    /// Ask to run again this many seconds later (the first time it runs).
    #[serde(default)]
    wait: Option<i64>,
    #[serde(default)]
    key: Option<String>,
}

impl Echo {
    fn named(name: &str) -> Echo {
        Echo {
            name: name.into(),
            sequence: None,
            fail: 0,
            wait: None,
            key: None,
        }
    }
}

impl Job for Echo {
    const NAME: &'static str = "test_echo";

    fn sequence(&self) -> Option<String> {
        self.sequence.clone()
    }

    fn account(&self) -> String {
        String::new()
    }

    fn unique_key(&self) -> Option<String> {
        self.key.clone()
    }
}

/// A kind no runner here registers.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Other {}

impl Job for Other {
    const NAME: &'static str = "test_other";

    fn account(&self) -> String {
        String::new()
    }
}

struct Ctx {
    log: Log,
    now: Arc<Mutex<i64>>,
    /// The jobs that have asked to wait once already.
    waited: Mutex<std::collections::HashSet<String>>,
}

const T0: i64 = 1_800_000_000;

fn runner(store: Arc<Store>) -> (Runner<Ctx>, Arc<Mutex<i64>>) {
    let now = Arc::new(Mutex::new(T0));
    let clock = now.clone();
    let runner = Runner::new(
        store,
        Ctx {
            log: Log::default(),
            now: now.clone(),
            waited: Mutex::default(),
        },
        RunnerSettings {
            per_round: 10,
            lease: Duration::from_secs(300),
            concurrency: 4,
        },
        move || *clock.lock().unwrap(),
    )
    .register(|job: Echo, c: Arc<Ctx>, run: Run| async move {
        c.log.push(format!("{}#{}", job.name, run.attempt));
        if run.attempt <= job.fail {
            return Err(format!("{} failed", job.name));
        }
        match job.wait {
            Some(secs) if c.waited.lock().unwrap().insert(job.name.clone()) => {
                Ok(Next::At(*c.now.lock().unwrap() + secs))
            }
            _ => Ok(Next::Done),
        }
    });
    (runner, now)
}

async fn add(store: &Store, jobs: &[(Echo, Priority)]) {
    let mut tx = store.begin().await.unwrap();
    let jobs: Vec<_> = jobs.iter().map(|(j, p)| new_job(j, *p).unwrap()).collect();
    enqueue(&mut tx, &jobs, T0).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_job_runs_once_if_and_only_if_its_transaction_commits() {
    let db = common::db().await;
    let store = db.store.clone();
    let (runner, _) = runner(store.clone());
    // Rolled back: never there.
    let mut tx = store.begin().await.unwrap();
    enqueue(
        &mut tx,
        &[new_job(&Echo::named("lost"), Priority::Now).unwrap()],
        T0,
    )
    .await
    .unwrap();
    drop(tx);
    add(&store, &[(Echo::named("a"), Priority::Now)]).await;
    assert_eq!(runner.drain(Priority::Backfill, None).await.unwrap(), 1);
    assert_eq!(runner.context().log.take(), ["a#1"]);
    assert_eq!(runner.drain(Priority::Backfill, None).await.unwrap(), 0);
    assert_eq!(store.count_jobs(None, None).await.unwrap(), 0);
}

#[tokio::test]
async fn a_failed_job_waits_and_is_tried_again() {
    let db = common::db().await;
    let store = db.store.clone();
    let (runner, now) = runner(store.clone());
    let mut job = Echo::named("flaky");
    job.fail = 2;
    add(&store, &[(job, Priority::Now)]).await;
    assert_eq!(runner.run_once(Priority::Now).await.unwrap(), 1);
    // Not due again until its backoff (a minute) has passed.
    assert_eq!(runner.run_once(Priority::Now).await.unwrap(), 0);
    *now.lock().unwrap() += indriva::jobs::backoff_secs(1);
    assert_eq!(runner.run_once(Priority::Now).await.unwrap(), 1);
    *now.lock().unwrap() += indriva::jobs::backoff_secs(2) - 1;
    assert_eq!(
        runner.run_once(Priority::Now).await.unwrap(),
        0,
        "two minutes"
    );
    *now.lock().unwrap() += 1;
    assert_eq!(runner.run_once(Priority::Now).await.unwrap(), 1);
    assert_eq!(
        runner.context().log.take(),
        ["flaky#1", "flaky#2", "flaky#3"]
    );
    assert_eq!(store.count_jobs(None, None).await.unwrap(), 0);
    assert_eq!(
        (
            indriva::jobs::backoff_secs(1),
            indriva::jobs::backoff_secs(3)
        ),
        (60, 240)
    );
    assert_eq!(indriva::jobs::backoff_secs(20), 3600, "at most an hour");
}

#[tokio::test]
async fn a_sequence_waits_behind_its_first_job() {
    let db = common::db().await;
    let store = db.store.clone();
    let (runner, now) = runner(store.clone());
    let in_seq = |name: &str| Echo {
        sequence: Some("hook-1".into()),
        ..Echo::named(name)
    };
    let mut first = in_seq("first");
    first.wait = Some(30);
    add(
        &store,
        &[
            (first, Priority::Now),
            (in_seq("second"), Priority::Now),
            (Echo::named("elsewhere"), Priority::Now),
        ],
    )
    .await;
    runner.run_once(Priority::Now).await.unwrap();
    let mut ran = runner.context().log.take();
    ran.sort();
    assert_eq!(
        ran,
        ["elsewhere#1", "first#1"],
        "the second waits behind the first"
    );
    assert_eq!(runner.run_once(Priority::Now).await.unwrap(), 0);
    *now.lock().unwrap() += 30;
    runner.drain(Priority::Now, None).await.unwrap();
    assert_eq!(
        runner.context().log.take(),
        ["first#1", "second#1"],
        "then both, in order (the first's attempts start over)"
    );
}

#[tokio::test]
async fn backfill_waits_for_everything_else_and_a_unique_job_is_queued_once() {
    let db = common::db().await;
    let store = db.store.clone();
    let (runner, _) = runner(store.clone());
    let once = |name: &str| Echo {
        key: Some("the-one".into()),
        ..Echo::named(name)
    };
    add(
        &store,
        &[
            (Echo::named("history"), Priority::Backfill),
            (Echo::named("now"), Priority::Now),
            (once("unique"), Priority::Now),
            (once("unique again"), Priority::Now),
        ],
    )
    .await;
    // A job of a kind this runner does not run is left for one that does.
    let mut tx = store.begin().await.unwrap();
    enqueue(&mut tx, &[new_job(&Other {}, Priority::Now).unwrap()], T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(runner.drain(Priority::Now, None).await.unwrap(), 2);
    let mut ran = runner.context().log.take();
    ran.sort();
    assert_eq!(ran, ["now#1", "unique#1"]);
    assert_eq!(runner.drain(Priority::Backfill, None).await.unwrap(), 1);
    assert_eq!(runner.context().log.take(), ["history#1"]);
    assert_eq!(
        store.count_jobs(None, Some(Other::NAME)).await.unwrap(),
        1,
        "still waiting for its own runner"
    );
}
