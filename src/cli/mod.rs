//! The binary's command line: the clap tree and the dispatch (here), the composition root
//! that builds the application from flags ([`compose`]), and one file per command, each a
//! thin layer that parses its arguments and calls the use cases ([`crate::actions`]).

mod admin;
mod audit;
mod backup;
mod bgmax;
pub mod compose;
mod finance;
mod flow;
mod import;
mod personal_data;
mod seed;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use self::admin::AdminArgs;
use self::audit::AuditArgs;
use self::backup::{BackupArgs, RestoreArgs};
use self::bgmax::BgmaxArgs;
use self::finance::FinanceArgs;
use self::flow::FlowCommandArgs;
use self::import::ImportArgs;
use self::personal_data::PersonalDataArgs;
use self::seed::SeedArgs;
use self::serve::ServeArgs;

#[derive(Parser, Debug)]
#[command(
    name = "indriva",
    version,
    about = "Debt-collection case management server, wire-compatible with Amili's creditor API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP API server.
    Serve(ServeArgs),
    /// Fill the database with realistic demo cases.
    Seed(SeedArgs),
    /// Onboard clients: accounts, creditors and API users.
    Admin(AdminArgs),
    /// The case flow: run due items now (as the server's worker does every second).
    Flow(FlowCommandArgs),
    /// Import a bank file of debtor payments (as `POST /bank--files` does).
    Import(ImportArgs),
    /// Bankgirot BgMax files: write one for tests and demos.
    Bgmax(BgmaxArgs),
    /// Payouts to creditors.
    Finance(FinanceArgs),
    /// Personal data: export what is held about one person; pseudonymise closed cases past
    /// their retention.
    #[command(name = "personal-data")]
    PersonalData(PersonalDataArgs),
    /// Print the audit trail, newest first, one JSON event per line.
    Audit(AuditArgs),
    /// Write a backup (one archive: a consistent copy of the SQLite database, the media and
    /// the keys) while the server runs. With PostgreSQL, back the database up with `pg_dump`;
    /// the archive then holds the media and keys.
    Backup(BackupArgs),
    /// Unpack a backup into an empty data dir, then open and check its database.
    Restore(RestoreArgs),
    /// Print the OpenAPI 3.1 document (the one served at `/openapi.json`), for client
    /// generators.
    Openapi,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("INDRIVA_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only on a terminal: a log written to a file or a pipe stays plain text.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // INDRIVA_LOG_FORMAT=json: one JSON object per line, for log shippers.
    if std::env::var("INDRIVA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    crate::datadir::owner_only_from_now_on();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The command as the audit trail names it: its words, not its arguments.
    let words: Vec<String> = std::env::args()
        .skip(1)
        .take_while(|a| !a.starts_with('-'))
        .collect();
    let actor = crate::audit::Actor::command(&format!("indriva {}", words.join(" ")));
    let result = rt.block_on(crate::audit::scope(actor, async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Seed(args) => seed::run(args).await,
            Command::Admin(args) => admin::run_command(args).await,
            Command::Flow(args) => flow::run(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Bgmax(args) => bgmax::run(args),
            Command::Finance(args) => finance::run(args).await,
            Command::Audit(args) => audit::run(args).await,
            Command::PersonalData(args) => personal_data::run(args).await,
            Command::Backup(args) => backup::backup(args).await,
            Command::Restore(args) => backup::restore(args).await,
            Command::Openapi => {
                println!("{:#}", crate::http::openapi::build());
                Ok(())
            }
        }
    }));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
