//! `indriva seed --cases N`: demo and benchmark data the engine itself produced
//! ([`crate::seed`]).

use clap::Args;

use super::compose::StoreArgs;
use crate::domain::{ObjectId, SystemClock};

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Number of cases to create.
    #[arg(long)]
    pub cases: u64,
    /// Seed this account (over its creditors) instead of the sandbox account.
    #[arg(long)]
    pub account: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let account = match &args.account {
        Some(a) => Some(
            ObjectId::parse(a)
                .map_err(|_| anyhow::anyhow!("--account must be a 24-character hex id"))?,
        ),
        None => None,
    };
    let store = args.store.open_for_bulk_load().await?;
    let clock = SystemClock::new();
    let report = crate::seed::run(
        &store,
        &clock,
        args.cases,
        account,
        true,
        Some(&args.store.data_dir),
    )
    .await?;
    println!(
        "seeded {} cases for account {} over {} creditor(s) in {:.1} s ({:.0} cases/s)",
        report.cases,
        report.account,
        report.creditors,
        report.seconds,
        report.cases as f64 / report.seconds.max(1e-9)
    );
    store.close().await;
    Ok(())
}
