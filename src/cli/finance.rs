//! `indriva finance payout-run`: pays out every creditor's unpaid lines now
//! ([`crate::actions::payout_run`]).

use std::sync::Arc;

use clap::{Args, Subcommand};

use super::compose::{application, command_actor, FlowArgs, StoreArgs};
use crate::actions::payout_run;
use crate::media::Media;

#[derive(Args, Debug)]
pub struct FinanceArgs {
    #[command(subcommand)]
    pub command: FinanceCommand,
}

#[derive(Subcommand, Debug)]
pub enum FinanceCommand {
    /// Group every creditor's unpaid payout-specification lines (booked by today) into a
    /// payout, whatever its schedule (the worker pays on each creditor's schedule). A payout
    /// below the creditor's minimum waits.
    PayoutRun {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        flow: FlowArgs,
    },
}

pub async fn run(args: FinanceArgs) -> anyhow::Result<()> {
    let FinanceCommand::PayoutRun { store, flow } = args.command;
    let store = Arc::new(store.open_existing().await?);
    let app = application(store.clone(), &flow, Media::in_memory(1))?;
    let result = payout_run::run(&app, &command_actor(), payout_run::Run::All).await;
    store.close().await;
    let payouts = result?;
    if payouts.is_empty() {
        println!("nothing to pay out");
    }
    for p in payouts {
        println!(
            "payout {} to {} ({}): {} lines, {} + VAT {} = {} ({:?}, {})",
            p.id,
            p.creditor_name,
            p.creditor,
            p.line_count,
            p.amount,
            p.vat_amount,
            p.total_amount,
            p.status,
            p.payout_reference
        );
    }
    Ok(())
}
