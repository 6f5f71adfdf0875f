//! `indriva flow run`: runs what is due on every account's cases now (as the server's worker
//! does every second), optionally moving sandbox clocks to `--until`, then renders the
//! letters the run sent.

use std::sync::Arc;

use clap::{Args, Subcommand};

use super::compose::{application, command_actor, FlowArgs, StoreArgs};
use crate::actions::run_due;
use crate::cases::flow::RunReport;
use crate::domain::{HttpDate, ObjectId};

#[derive(Args, Debug)]
pub struct FlowCommandArgs {
    #[command(subcommand)]
    pub command: FlowCommand,
    #[command(flatten)]
    pub flow: FlowArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Subcommand, Debug)]
pub enum FlowCommand {
    /// Run every flow item and interest posting due, then render the letters they queued.
    Run {
        /// Run what is due by this date (RFC 1123, e.g. "Fri, 19 Sep 2025 00:00:00 GMT"):
        /// a sandbox account's clock is moved there (forward only); an ordinary account
        /// cannot run ahead of real time. Default: each account's current time.
        #[arg(long)]
        until: Option<String>,
        /// Only this account.
        #[arg(long)]
        account: Option<String>,
    },
}

pub async fn run(args: FlowCommandArgs) -> anyhow::Result<()> {
    let FlowCommand::Run { until, account } = args.command;
    let until = until
        .map(|u| {
            HttpDate::parse_lenient(&u).map_err(|_| {
                anyhow::anyhow!(
                    "--until must be an RFC 1123 date such as 'Fri, 19 Sep 2025 00:00:00 GMT'"
                )
            })
        })
        .transpose()?;
    let only = account
        .map(|a| {
            ObjectId::parse(&a)
                .map_err(|_| anyhow::anyhow!("--account must be a 24-character hex id"))
        })
        .transpose()?;
    let store = Arc::new(args.store.open_existing().await?);
    let media = crate::media::Media::open(None, &args.store.data_dir, 1)?;
    let app = application(store.clone(), &args.flow, media.clone())?;
    let actor = command_actor();
    let mut total = RunReport::default();
    let result: anyhow::Result<()> = async {
        for (account, _) in store.account_times().await? {
            if only.is_some_and(|o| o != account) {
                continue;
            }
            let r = run_due::account(&app, &actor, account, until)
                .await
                .map_err(|e| anyhow::anyhow!("account {account}: {e}"))?;
            total.add(&r);
        }
        // The letters this run sent (a seed's history is left to the server's worker).
        let runner = crate::worker::job_runner(
            crate::worker::JobContext {
                app: app.clone(),
                renderer: args.flow.renderer(media, &args.store.data_dir),
                sender: crate::webhooks::Sender::new(Default::default())?,
            },
            crate::worker::Jobs::Letters,
        );
        runner.drain(crate::jobs::Priority::Now, None).await?;
        Ok(())
    }
    .await;
    store.close().await;
    result?;
    println!(
        "ran {} flow items and {} interest postings on {} cases; {} letters queued",
        total.items, total.interest_postings, total.cases, total.letters
    );
    Ok(())
}
