//! The composition root: how the binary builds the application from its flags — the store
//! (SQLite in the data dir, or the `DATABASE_URL`), the clocks, the flow engine, the media
//! store, the letter renderer — and who a command acts as. Every command and `serve` build
//! their context here; nothing below knows about flags.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::actions::Actor;
use crate::app::App;
use crate::clocks::Clocks;
use crate::domain::SystemClock;
use crate::media::Media;
use crate::store::{default_sqlite_url, Store};

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Directory for the embedded database and local media.
    #[arg(
        long,
        env = "INDRIVA_DATA_DIR",
        default_value = "./indriva-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL; default is a SQLite file in the data dir. `postgres://…` selects
    /// PostgreSQL.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct FlowArgs {
    /// A reference-rate table (`effective_from,percent` lines) to use instead of the built-in
    /// one; see docs/interest.md.
    #[arg(long, env = "INDRIVA_REFERENCE_RATES")]
    pub reference_rates: Option<PathBuf>,
    /// The agency's bankgiro number, printed on letters with each case's OCR reference.
    #[arg(long, env = "INDRIVA_BANKGIRO", default_value = crate::letters::SANDBOX_BANKGIRO)]
    pub bankgiro: String,
    /// The agency's name on letters.
    #[arg(
        long,
        env = "INDRIVA_AGENCY_NAME",
        default_value = "Indriva Inkasso (sandbox)"
    )]
    pub agency_name: String,
    /// The agency's organisation number on letters.
    #[arg(long, env = "INDRIVA_AGENCY_ORG_NO", default_value = "559000-0000")]
    pub agency_org_no: String,
    /// The agency's postal address on letters, lines separated by `|`.
    #[arg(
        long,
        env = "INDRIVA_AGENCY_ADDRESS",
        default_value = "Box 100|111 21 Stockholm"
    )]
    pub agency_address: String,
    /// Where debtors write to object, printed on letters.
    #[arg(
        long,
        env = "INDRIVA_AGENCY_EMAIL",
        default_value = "inkasso@example.se"
    )]
    pub agency_email: String,
    #[arg(long, env = "INDRIVA_AGENCY_PHONE", default_value = "08-000 00 00")]
    pub agency_phone: String,
    /// Directory of letter templates replacing the built-in one (default:
    /// `<data dir>/templates`); see docs/letters.md.
    #[arg(long, env = "INDRIVA_TEMPLATES_DIR")]
    pub templates_dir: Option<PathBuf>,
    /// Cases per transaction when the flow worker writes in bulk (a moved sandbox clock, a
    /// backlog): more is faster and holds more memory meanwhile.
    #[arg(long, env = "INDRIVA_FLOW_BATCH", default_value_t = crate::cases::DEFAULT_BATCH)]
    pub flow_batch: i64,
}

impl FlowArgs {
    pub fn engine(&self) -> anyhow::Result<crate::cases::Engine> {
        anyhow::ensure!(self.flow_batch >= 1, "--flow-batch must be at least 1");
        let engine = match &self.reference_rates {
            Some(p) => crate::cases::Engine::with_rates_file(p)?,
            None => crate::cases::Engine::default(),
        };
        Ok(crate::cases::Engine {
            batch: self.flow_batch,
            ..engine
        })
    }

    pub fn renderer(
        &self,
        media: crate::media::Media,
        data_dir: &Path,
    ) -> crate::letters::Renderer {
        crate::letters::Renderer {
            media,
            templates: crate::letters::Templates {
                dir: Some(
                    self.templates_dir
                        .clone()
                        .unwrap_or_else(|| data_dir.join("templates")),
                ),
            },
            agency: crate::letters::Agency {
                name: self.agency_name.clone(),
                org_no: self.agency_org_no.clone(),
                address: self
                    .agency_address
                    .split('|')
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect(),
                email: self.agency_email.clone(),
                phone: self.agency_phone.clone(),
                bankgiro: self.bankgiro.clone(),
            },
        }
    }
}

impl StoreArgs {
    /// Creates the data dir and opens the store, creating the database if there is none
    /// (`serve`).
    pub async fn open(&self) -> anyhow::Result<Store> {
        let url = self.url()?;
        let store = Store::open(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
        tracing::info!(database = %shown(&url), "database opened");
        Ok(store)
    }

    /// Opens a database that must already exist: every command but `serve` and `seed`. A
    /// command pointed at the wrong data dir would otherwise create an empty database there
    /// and report success against it.
    pub async fn open_existing(&self) -> anyhow::Result<Store> {
        let url = self.url()?;
        let exists = crate::store::database_exists(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", shown(&url)))?;
        if !exists {
            let at = crate::store::sqlite_file(&url)
                .map_or_else(|| shown(&url), |f| f.display().to_string());
            anyhow::bail!(
                "no database at {at}: give the data dir the server uses (--data-dir or \
                 INDRIVA_DATA_DIR) or its database (--database or DATABASE_URL); only \
                 `indriva serve` and `indriva seed` create one"
            );
        }
        self.open().await
    }

    /// Opens the store for bulk loading (the seed).
    pub async fn open_for_bulk_load(&self) -> anyhow::Result<Store> {
        let url = self.url()?;
        let store = Store::open_for_bulk_load(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
        tracing::info!(database = %shown(&url), "database opened");
        Ok(store)
    }

    fn url(&self) -> anyhow::Result<String> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create data dir {}: {e}", self.data_dir.display())
        })?;
        crate::datadir::check(&self.data_dir);
        Ok(self
            .database
            .clone()
            .unwrap_or_else(|| default_sqlite_url(&self.data_dir)))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// A database URL as logs may show it: without its password.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The application context over `store` with the flow and letter settings of `flow`, in
/// real time.
pub fn application(store: Arc<Store>, flow: &FlowArgs, media: Media) -> anyhow::Result<App> {
    Ok(App::new(
        store,
        Clocks::new(Arc::new(SystemClock::new())),
        flow.engine()?,
        media,
        flow.bankgiro.clone(),
    ))
}

/// Who a command acts as: the agency, named in the audit trail by the command's words.
pub fn command_actor() -> Actor {
    Actor::agency(crate::audit::current())
}
