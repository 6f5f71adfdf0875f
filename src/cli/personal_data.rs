//! `indriva personal-data export|purge`: what is held about one person; pseudonymising
//! closed cases past their retention ([`crate::actions::pseudonymise`]).

use std::sync::Arc;

use clap::{Args, Subcommand};

use super::compose::{application, command_actor, FlowArgs, StoreArgs};
use crate::actions::pseudonymise;
use crate::domain::SystemClock;
use crate::jobs::Job;
use crate::media::Media;

#[derive(Args, Debug)]
pub struct PersonalDataArgs {
    #[command(subcommand)]
    pub command: PersonalDataCommand,
}

#[derive(Subcommand, Debug)]
pub enum PersonalDataCommand {
    /// Everything held about the holder of an identity number, as JSON (right of access).
    Export {
        /// Personnummer, samordningsnummer or organisationsnummer, in any accepted notation.
        #[arg(long)]
        id_number: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Pseudonymise the name, identity number, customer number, address and contact details
    /// of cases closed before the retention ends (and their registrations, and customers
    /// with no case left), and delete their uploaded invoices and letter PDFs. Amounts, dates
    /// and the ledger are kept.
    Purge {
        /// Years kept after the end of the year a case closed (the Bookkeeping Act's seven).
        #[arg(long, env = "INDRIVA_RETENTION_YEARS", default_value_t = 7)]
        retention_years: u32,
        /// Count what would be purged; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where uploaded files are (as `serve --media-url`).
        #[arg(long, env = "INDRIVA_MEDIA_URL")]
        media_url: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        flow: Box<FlowArgs>,
    },
}

pub async fn run(args: PersonalDataArgs) -> anyhow::Result<()> {
    let today = crate::domain::clock::Clock::now(&SystemClock::new());
    match args.command {
        PersonalDataCommand::Export { id_number, store } => {
            let store = store.open_existing().await?;
            let out = crate::personal::export(&store, &id_number, today).await;
            store.close().await;
            println!("{:#}", out?);
        }
        PersonalDataCommand::Purge {
            retention_years,
            dry_run,
            media_url,
            store: store_args,
            flow,
        } => {
            let store = Arc::new(store_args.open_existing().await?);
            let media = Media::open(media_url.as_deref(), &store_args.data_dir, 1)?;
            let app = application(store.clone(), &flow, media.clone())?;
            let result: anyhow::Result<(pseudonymise::Purged, i64)> = async {
                let purged =
                    pseudonymise::purge(&app, &command_actor(), today, retention_years, dry_run)
                        .await?;
                // The files now, rather than when a server's worker gets to them.
                let runner = crate::worker::job_runner(
                    crate::worker::JobContext {
                        app: app.clone(),
                        renderer: flow.renderer(media, &store_args.data_dir),
                        sender: crate::webhooks::Sender::new(Default::default())?,
                    },
                    crate::worker::Jobs::Files,
                );
                runner.drain(crate::jobs::Priority::Backfill, None).await?;
                let left = store
                    .count_jobs(None, Some(crate::jobs::DeleteMedia::NAME))
                    .await?;
                Ok((purged, left))
            }
            .await;
            store.close().await;
            let (purged, left) = result?;
            let cutoff = pseudonymise::cutoff(today, retention_years)
                .map(|d| d.to_string())
                .unwrap_or_default();
            let files = purged.files.len();
            println!(
                "{}cases closed before {cutoff}: {} case(s), {} registration(s), {} customer(s), {} letter(s) pseudonymised, {} note(s) deleted; {} file(s) {}",
                if dry_run { "dry run, nothing changed. " } else { "" },
                purged.cases,
                purged.registrations,
                purged.customers,
                purged.letters,
                purged.notes,
                files,
                match (dry_run, left) {
                    (true, _) => "to delete".to_string(),
                    (false, 0) => "deleted".to_string(),
                    (false, n) => format!("to delete ({n} not deleted yet: see the log; the worker retries)"),
                },
            );
        }
    }
    Ok(())
}
