//! The only code that writes a case. Every change — a flow item run by the worker, a
//! payment, an upload, a clock moved in the sandbox — is a [`Command`] applied by
//! [`mutate`]: read the case in the caller's transaction, apply the command in the domain
//! ([`Case::apply`]), stamp the stored document (its `_etag` and typed columns, `due_at`
//! among them), replace it if it is still the version read, and write the command's effects
//! (letters, jobs) in the same transaction.
//!
//! [`Command`]: crate::domain::apply::Command
//! [`Case::apply`]: crate::domain::case::Case::apply

pub mod flow;
mod mutate;
mod rules;

use std::sync::Arc;

use crate::domain::interest::RateTable;

pub use self::mutate::{
    apply, mutate, opened, prepare, stored, write, write_all, EffectWrites, MutateError, Outcome,
    Prepared,
};
pub use self::rules::RuleBook;

/// The flow engine's settings that are not per creditor.
#[derive(Clone)]
pub struct Engine {
    pub rates: Arc<RateTable>,
    /// Cases per transaction when the worker writes in bulk (a moved sandbox clock, a
    /// backlog): more is faster and holds more memory while it runs.
    pub batch: i64,
}

/// [`Engine::batch`] by default: about 100 MB in flight, 33,000 items/s on two cores.
pub const DEFAULT_BATCH: i64 = 4096;

impl Default for Engine {
    fn default() -> Self {
        Engine {
            rates: Arc::new(RateTable::swedish().clone()),
            batch: DEFAULT_BATCH,
        }
    }
}

impl Engine {
    /// With the reference-rate table in `path` instead of the built-in one.
    /// What is wrong with the reference-rate table at `now`, if anything; also sets the
    /// `indriva_reference_rate_missing` gauge (1 while the current half-year has no row).
    pub fn rate_table_warning(&self, now: crate::domain::HttpDate) -> Option<String> {
        let missing = self.rates.missing_half_year(now.date());
        metrics::gauge!("indriva_reference_rate_missing").set(if missing.is_some() {
            1.0
        } else {
            0.0
        });
        missing.map(|from| {
            let last = self.rates.last_entry();
            format!(
                "the reference-rate table has no row for the half-year from {from}: interest is \
                 computed at the rate from {last} ({}) until the Riksbank's rate is added \
                 (--reference-rates FILE, docs/interest.md)",
                crate::domain::interest::percent_sv(self.rates.reference_bp(last))
            )
        })
    }

    pub fn with_rates_file(path: &std::path::Path) -> anyhow::Result<Engine> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let rates =
            RateTable::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Engine {
            rates: Arc::new(rates),
            ..Engine::default()
        })
    }
}
