//! The background work of a node: the flow worker, which runs what falls due on cases
//! ([`crate::cases::flow`]) every interval, and the job runner with a handler for every kind
//! of job ([`job_runner`]), which carries out what changes left to do after their commit.
//! The composition root starts both on the nodes that run the worker.

use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use tokio::sync::watch;

use crate::actions::{payout_run, Actor};
use crate::app::App;
use crate::cases::flow::run_all;
use crate::jobs::{
    new_job, DeleteMedia, DeliverWebhook, FanOutEvent, Next, Priority, RenderLetter, Run, Runner,
    RunnerSettings, ScheduledPayouts,
};
use crate::letters::Renderer;
use crate::store::{Store, StoreError};
use crate::webhooks::Sender;

/// The background flow worker: runs due cases every `interval` until `stop` says so, and
/// finishes sandbox clock moves a stop cut short. A batch being written when the signal
/// comes is finished first. (What a change leaves to do after its commit is the job
/// runner's: [`job_runner`].)
pub async fn run_forever(
    app: App,
    interval: Duration,
    beat: crate::observe::WorkerBeat,
    mut stop: watch::Receiver<bool>,
) {
    let mut first = true;
    loop {
        let all = std::mem::take(&mut first);
        if let Err(e) = crate::actions::clock::finish_interrupted_moves(&app, all).await {
            tracing::error!(error = %e, "finishing interrupted sandbox clock moves failed");
        }
        match run_all(&app.store, &app.engine, &app.clocks).await {
            Ok(r) if r.cases > 0 => tracing::info!(
                cases = r.cases,
                items = r.items,
                interest_postings = r.interest_postings,
                letters = r.letters,
                "flow worker ran due cases"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "flow worker run failed"),
        }
        beat.beat();
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

/// What jobs run with.
pub struct JobContext {
    pub app: App,
    pub renderer: Renderer,
    pub sender: Sender,
}

/// How often the scheduled payout run looks for creditors whose payout day it is.
const PAYOUT_CHECK_SECS: i64 = 60;

/// Which jobs a runner takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jobs {
    /// Every kind: the server's worker.
    All,
    /// Letters and event fan-out only: `indriva flow run`, which sends nothing over the
    /// network and leaves the rest to the server.
    Letters,
    /// Deleting files only: `indriva personal-data purge`.
    Files,
}

/// The job runner with a handler for every kind of job it takes.
/// Typesets a letter, then marks it rendered and records the limitation break its sending
/// makes (`actions::letters`), with the job's removal. A failure is retried; after a few the
/// letter shows `failed`, and it has broken nothing.
async fn render_letter(c: &JobContext, job: RenderLetter, run: &Run) -> Result<Next, String> {
    let result = match c.renderer.typeset(&c.app.store, &job).await {
        Ok(file) => crate::actions::letters::rendered(&c.app, &job, file, run)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if result.is_err() {
        crate::letters::after_failure(&c.app.store, &job.letter, run).await;
    }
    result.map(|()| Next::Done)
}

pub fn job_runner(ctx: JobContext, jobs: Jobs) -> Runner<JobContext> {
    let store = ctx.app.store.clone();
    let clocks = ctx.app.clocks.clone();
    let mut runner = Runner::new(store, ctx, RunnerSettings::default(), move || {
        clocks.real().unix()
    });
    if matches!(jobs, Jobs::All | Jobs::Letters) {
        runner = runner
            .register(
                |job: RenderLetter, c: Arc<JobContext>, run: Run| async move {
                    render_letter(&c, job, &run).await
                },
            )
            .register(
                |job: FanOutEvent, c: Arc<JobContext>, run: Run| async move {
                    crate::webhooks::fan_out(&c.app.store, job, c.app.clocks.real(), &run)
                        .await
                        .map_err(|e| e.to_string())
                },
            );
    }
    if matches!(jobs, Jobs::All | Jobs::Files) {
        runner = runner.register(
            |job: DeleteMedia, c: Arc<JobContext>, _run: Run| async move {
                match c.app.media.store.delete(&c.app.media.path(&job.key)).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(Next::Done),
                    Err(e) => Err(format!("could not delete {}: {e}", job.key)),
                }
            },
        );
    }
    if jobs == Jobs::All {
        runner = runner
            .register(
                |job: DeliverWebhook, c: Arc<JobContext>, _run: Run| async move {
                    c.sender
                        .deliver_job(job, &c.app.store, &c.app.clocks)
                        .await
                        .map_err(|e| e.to_string())
                },
            )
            .register(
                |_: ScheduledPayouts, c: Arc<JobContext>, _run: Run| async move {
                    let actor = Actor::agency(crate::audit::Actor::worker());
                    let payouts = payout_run::run(&c.app, &actor, payout_run::Run::Scheduled)
                        .await
                        .map_err(|e| e.to_string())?;
                    if !payouts.is_empty() {
                        tracing::info!(payouts = payouts.len(), "payout run");
                    }
                    Ok(Next::At(c.app.clocks.real().unix() + PAYOUT_CHECK_SECS))
                },
            );
    }
    runner
}

/// Makes sure the recurring jobs are in the queue (once, whatever the number of nodes).
pub async fn ensure_recurring_jobs(store: &Store, now: i64) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    crate::jobs::enqueue(
        &mut tx,
        &[new_job(&ScheduledPayouts {}, Priority::Now)?],
        now,
    )
    .await?;
    tx.commit().await
}
