//! Payout runs: a creditor's unpaid payout-specification lines grouped into a payout, on the
//! creditor's schedule (`payout_frequency`, `payout_day`) or on demand
//! (`indriva finance payout-run`, the console). One transaction per run; a line is paid
//! once. The scheduled run is a recurring job (`jobs::ScheduledPayouts`).

use std::collections::BTreeMap;

use super::{transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::RuleBook;
use crate::clocks::Clocks;
use crate::domain::finance::{self, Payout, PayoutSpecification};
use crate::domain::{Money, ObjectId};
use crate::eve::filter::Filter;
use crate::resources::{PAYOUTS, PAYOUT_SPECIFICATIONS};
use crate::scope::Scope;
use crate::store::{prepare_document, StoreError, Tx};

/// Which creditors a run pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Those whose schedule falls on their account's today (the worker's run).
    Scheduled,
    /// Every creditor with unpaid lines (an operator's run).
    All,
}

/// Pays out unpaid lines (booked before each account's today on a scheduled run, by today
/// on an operator's run); returns the payouts made. The agency's.
pub async fn run(app: &App, actor: &Actor, run: Run) -> Result<Vec<Payout>, ActionError> {
    actor.require_agency()?;
    transact(&app.store, actor, &PayOut { app, run }).await
}

struct PayOut<'a> {
    app: &'a App,
    run: Run,
}

impl Attempt for PayOut<'_> {
    type Output = Vec<Payout>;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Vec<Payout>, Failure> {
        Ok(pay_out(tx, &self.app.clocks, self.run).await?)
    }
}

async fn pay_out(tx: &mut Tx<'_>, clocks: &Clocks, run: Run) -> Result<Vec<Payout>, StoreError> {
    let unpaid = tx
        .find_all(
            &PAYOUT_SPECIFICATIONS,
            &Scope::unrestricted(),
            &Filter::missing("payout"),
            true,
        )
        .await?;
    let mut by_creditor: BTreeMap<ObjectId, Vec<PayoutSpecification>> = BTreeMap::new();
    for row in unpaid {
        let line: PayoutSpecification =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        by_creditor.entry(line.creditor).or_default().push(line);
    }
    let mut book = RuleBook::new();
    let mut payouts = Vec::new();
    for (creditor, mut lines) in by_creditor {
        let account = lines[0].account;
        let now = clocks.time_in(tx, &account).await?.now;
        let today = now.start_of_day();
        let policy = book.policy(tx, &creditor).await?;
        if run == Run::Scheduled && !policy.payout_due(today.date()) {
            continue;
        }
        // A scheduled run pays what was booked before today, so running it again the same
        // day (the worker checks every minute) finds nothing new; an operator's run pays
        // today's lines too.
        lines.retain(|l| match run {
            Run::Scheduled => l.booking_date < today,
            Run::All => l.booking_date <= today,
        });
        lines.sort_by_key(|l| (l.booking_date, l.id));
        let total: Money = lines.iter().map(|l| l.total_amount).sum();
        if total >= Money::ZERO && total < policy.minimum_payout_amount {
            continue;
        }
        let Some(payout) = finance::payout(ObjectId::at(now.unix()), &mut lines, today, now) else {
            continue;
        };
        let docs = lines
            .iter()
            .map(|l| prepare_document(&PAYOUT_SPECIFICATIONS, l))
            .collect::<Result<Vec<_>, _>>()?;
        tx.upsert(&PAYOUT_SPECIFICATIONS, docs).await?;
        tx.insert(&PAYOUTS, vec![prepare_document(&PAYOUTS, &payout)?])
            .await?;
        let event = crate::domain::webhook::Event::new(
            crate::domain::webhook::PAYOUT_CREATED,
            payout.account,
            Some(payout.creditor),
            now,
            serde_json::json!({
                "payout": payout.id.to_hex(),
                "payout_reference": payout.payout_reference,
                "total_amount": payout.total_amount,
                "line_count": payout.line_count,
            }),
        );
        crate::webhooks::enqueue(tx, &[event], now).await?;
        payouts.push(payout);
    }
    Ok(payouts)
}
