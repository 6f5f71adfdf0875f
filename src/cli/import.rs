//! `indriva import bgmax FILE`: a bank file of debtor payments, imported as
//! `POST /bank--files` imports it ([`crate::actions::bank::import`]).

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::compose::{application, command_actor, FlowArgs, StoreArgs};
use crate::actions::bank;
use crate::media::Media;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub command: ImportCommand,
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// A BgMax file of payments into the agency's bankgiro (`--bankgiro`): each payment is
    /// put on the case its OCR reference names, the rest kept as unmatched payments. The
    /// same file twice adds nothing.
    Bgmax {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        flow: FlowArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let ImportCommand::Bgmax { file, flow, store } = args.command;
    let bytes =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let store = Arc::new(store.open_existing().await?);
    let app = application(store.clone(), &flow, Media::in_memory(1))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let result = bank::import(&app, &command_actor(), &name, &bytes).await;
    store.close().await;
    let imported = result?;
    let f = &imported.file;
    if imported.already_imported {
        println!(
            "{} was imported before (bank file {}); nothing added",
            file.display(),
            f.id
        );
    } else {
        println!(
            "imported bank file {}: {} payments, {} matched ({} settled), {} unmatched ({}), {} already imported ({}), {} deductions ({}); deposits {}",
            f.id,
            f.payment_count,
            f.matched_count,
            f.settled_amount,
            f.unmatched_count,
            f.unmatched_amount,
            f.duplicate_count,
            f.duplicate_amount,
            f.deduction_count,
            f.deduction_amount,
            f.deposit_amount
        );
    }
    Ok(())
}
