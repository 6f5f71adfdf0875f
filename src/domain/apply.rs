//! [`Case::apply`]: the one place a case changes. A command (run the flow items that are
//! due, a payment, a crediting, a hold, …) is applied to the case in memory, under the
//! creditor's policy and flow configuration and at a given time; it books ledger lines,
//! enters states, keeps both histories, sets the next flow item and recomputes every
//! balance, and returns what must happen outside the case (a letter to send, a file to
//! delete). Pure: no I/O, the time and the rules are passed in.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::allocation::allocate;
use super::case::{
    Case, CaseState, CaseStatus, CloseReason, Demand, FlowItem, FlowState, KronofogdenStatus,
    KronofogdenStep, MediaRef, PaymentPlan, RespiteGiven,
};
use super::fees::{self, FeeEvent};
use super::flow::{self, Action, FlowConfig, LetterKind};
use super::interest::{self, Accrued, CapitalChange, RateTable};
use super::ledger::{tags, Balances, Origin, Transaction, TransactionType};
use super::limitation;
use super::policy::{AfterDemand, CreditorPolicy};
use super::registration::FirstAction;
use super::{HttpDate, Money, ObjectId};

use super::effects::consequences;
pub use super::effects::{Effect, PaidTo, PaymentReport};

pub use super::party::PURGED;

/// How far ahead the next interest posting is looked for (beyond it the case is simply
/// looked at again).
const INTEREST_HORIZON_DAYS: i64 = 400;
/// A flow configuration whose steps do not wait could loop; no case runs more items than
/// this in one command.
const MAX_ITEMS_PER_RUN: u32 = 64;

/// How long before its limitation date a case that nothing will interrupt (held, or
/// waiting for its application to be filed) raises `case.limitation_approaching`.
pub const LIMITATION_WARNING_DAYS: i64 = 90;

/// Räntelagen 4 §: without a due date agreed in advance, interest runs from the day that
/// falls this many days after the demand was sent.
const DEMAND_TO_INTEREST_DAYS: i64 = 30;

/// Everything a command is applied under.
pub struct Ctx<'a> {
    /// The account's current time: what the command is stamped with.
    pub now: HttpDate,
    pub rates: &'a RateTable,
    pub policy: &'a CreditorPolicy,
    pub flow: &'a FlowConfig,
}

/// Why a case cannot be put on hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// The debtor objects to the claim: nothing more happens until it is resolved.
    Dispute,
    /// The debtor has died; the estate is being administered.
    Estate,
    /// The debtor is bankrupt; the claim is lodged in the bankruptcy.
    BankruptcyEstate,
}

impl Hold {
    fn state(self) -> (CaseState, CaseStatus) {
        match self {
            Hold::Dispute => (CaseState::Dispute, CaseStatus::Dispute),
            Hold::Estate => (CaseState::Estate, CaseStatus::Estate),
            Hold::BankruptcyEstate => (CaseState::BankruptcyEstate, CaseStatus::BankruptcyEstate),
        }
    }
}

/// What can be done to a case.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Run every flow item due by `until`, in order, then post interest through `until`'s
    /// day. With `simulate`, each item runs at its own scheduled time (a sandbox clock moved
    /// forward: the case lives through the days in between); without, at `until` (now).
    RunDue {
        until: HttpDate,
        simulate: bool,
    },
    /// The debtor paid the creditor directly (amili-api.md §4.6): settles capital only, as of
    /// `paid`; when no capital is left, interest and costs are written off and the case closes.
    CreditorPayment {
        id: ObjectId,
        amount: Money,
        paid: HttpDate,
    },
    /// The debtor paid the agency: settles costs, interest and capital in the creditor's
    /// allocation order, as of `paid`.
    DebtorPayment {
        amount: Money,
        paid: HttpDate,
    },
    /// The creditor credits part of the claim (amili-api.md §4.7).
    Crediting {
        amount: Money,
        date: HttpDate,
    },
    /// The creditor withdraws the case (amili-api.md §4.8).
    Cancel,
    /// Closes the case for another reason (recalled, written off, …).
    Close(CloseReason),
    /// Postpones the next flow item (anstånd).
    Respite {
        days: i64,
    },
    Hold(Hold),
    /// Ends a hold: the case returns to where it was and its flow item runs again.
    Resume,
    /// An agreed payment plan: state `amortization`, the plan fee, an instalment check a
    /// few days after each due date.
    PaymentPlan {
        monthly_amount: Money,
        first_due: HttpDate,
    },
    AttachOriginalInvoice(MediaRef),
    /// A queued letter was typeset and sent on `sent`: the limitation break it makes
    /// (`annotation`) is recorded now, dated the letter's day, unless a later break is
    /// already there. Nothing for a closed case.
    LetterSent {
        sent: HttpDate,
        annotation: String,
    },
    /// Replaces the debtor's name, identity number and customer number with a pseudonym
    /// and lets go of the uploaded invoice, once the law no longer requires them to be kept
    /// (docs/security.md, "Personal data"). Only a closed case; amounts, dates, states and
    /// the ledger stay as they were.
    Pseudonymise,
}

/// A letter to send, with the claim as it stood when it was sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LetterOrder {
    pub kind: LetterKind,
    pub sent: HttpDate,
    /// The last day to pay or object (midnight of that day).
    pub pay_by: HttpDate,
    /// The capital, interest and costs claimed so far (before anything was paid).
    pub capital: Money,
    pub interest: Money,
    pub costs: Money,
    /// Each fee charged so far (cost lines), as (tag, amount).
    pub fees: Vec<(String, Money)>,
    /// Paid, credited or written off so far.
    pub reduced: Money,
    /// What remains to pay.
    pub total: Money,
    /// How the interest was computed.
    pub interest_periods: Vec<InterestPeriod>,
    /// The late-interest rate on the day of the letter, in basis points.
    pub interest_rate_bp: i32,
    /// A payment-plan letter's terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanTerms>,
    /// For a claim with no due date agreed in advance, the day interest starts to run
    /// (räntelagen 4 §: 30 days after the first demand); the letter gives notice of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interest_from: Option<HttpDate>,
    /// The limitation break this letter makes once it exists (its annotation): a written
    /// demand interrupts limitation when it is sent (preskriptionslag 5 § 2), so a letter
    /// whose typesetting failed breaks nothing. [`Command::LetterSent`] records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupts: Option<String>,
}

/// What a debtor agreed to pay under a payment plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanTerms {
    pub monthly_amount: Money,
    pub first_due: HttpDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterestPeriod {
    pub from: HttpDate,
    /// Inclusive.
    pub through: HttpDate,
    pub capital: Money,
    pub rate_bp: i32,
    /// Exact, to the öre.
    pub amount: Money,
}

/// What applying a command did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// Everything the change causes outside the case, in order (see [`Effect`]).
    pub effects: Vec<Effect>,
    /// Flow items run.
    pub items_run: u32,
    /// Interest lines booked.
    pub interest_postings: u32,
    /// Whether the case document changed at all.
    pub changed: bool,
    /// Payments and creditings: the part applied to the case.
    pub settled: Money,
    /// Payments and creditings: the part there was nothing left to apply to.
    pub excess: Money,
}

/// Whether the flow may apply to Kronofogden for a case now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    Allowed,
    /// What is left was never demanded by a letter (the last demand was paid).
    NotDemanded,
    /// Less than the creditor's `minimum_enforcement_amount`.
    BelowMinimum,
}

/// Why a command does not apply to the case as it stands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the case is closed")]
    Closed,
    #[error("the case is not on hold")]
    NotOnHold,
    #[error("the case is already on hold ({0:?})")]
    OnHold(CaseState),
    #[error("the case has no flow item to postpone")]
    NoFlowItem,
    /// Beyond the creditor's respite limits.
    #[error("{0}")]
    Respite(String),
    #[error("{0}")]
    Invalid(String),
}

impl Case {
    /// Applies `cmd`. On a refusal the case is unchanged.
    pub fn apply(&mut self, cmd: Command, ctx: &Ctx<'_>) -> Result<Applied, Refusal> {
        let before = self.clone();
        let mut out = Applied::default();
        let payment = match &cmd {
            Command::CreditorPayment { id, amount, .. } => Some(PaymentReport {
                to: PaidTo::Creditor(*id),
                amount: *amount,
            }),
            Command::DebtorPayment { amount, .. } => Some(PaymentReport {
                to: PaidTo::Agency,
                amount: *amount,
            }),
            _ => None,
        };
        let result = self.dispatch(cmd, ctx, &mut out);
        if let Err(refusal) = result {
            *self = before;
            return Err(refusal);
        }
        self.recompute_balances();
        out.changed = *self != before;
        if out.changed {
            consequences(&before, self, payment, ctx.now, &mut out.effects);
        }
        Ok(out)
    }

    fn dispatch(&mut self, cmd: Command, ctx: &Ctx<'_>, out: &mut Applied) -> Result<(), Refusal> {
        let now = ctx.now;
        if self.closed.is_some()
            && !matches!(
                cmd,
                Command::RunDue { .. }
                    | Command::AttachOriginalInvoice(_)
                    | Command::Pseudonymise
                    | Command::LetterSent { .. }
            )
        {
            return Err(Refusal::Closed);
        }
        match cmd {
            Command::RunDue { until, simulate } => self.run_due(until, simulate, ctx, out),
            Command::LetterSent { sent, annotation } => {
                let later = self
                    .limitation
                    .as_ref()
                    .is_some_and(|l| l.break_date >= sent);
                if self.closed.is_none() && !later {
                    self.interrupt_limitation(sent, &annotation, out);
                    // Dated the letter's day, like the break: the flow's own times (which
                    // a sandbox run continues from) stay as they were.
                    self.updated = self.updated.max(sent);
                }
            }
            Command::AttachOriginalInvoice(media) => {
                if let Some(old) = self.original_invoice.replace(media) {
                    out.effects.push(Effect::ReplacedFile(old));
                }
                self.updated = now;
                self.catch_up_interest(now, ctx, out);
            }
            Command::CreditorPayment { id, amount, paid } => {
                self.settle_capital(amount, paid, now, ctx, out, |t| {
                    t.origin = Origin::CreditorSystem;
                    t.description_locale_tag = tags::CREDITOR_PAYMENT.into();
                    t.payment_method = Some("creditor_payment".into());
                    t.creditor_payment = Some(id);
                });
                if self.remaining_capital() <= Money::ZERO {
                    let reason = if self.write_off(now) {
                        CloseReason::FullyPaidDepreciation
                    } else {
                        CloseReason::CapitalPaidToCreditor
                    };
                    self.close(reason, now);
                } else {
                    self.interrupt_limitation(paid, limitation::annotations::PAYMENT, out);
                }
            }
            Command::Crediting { amount, date } => {
                self.settle_capital(amount, date, now, ctx, out, |t| {
                    t.origin = Origin::CreditorSystem;
                    t.description_locale_tag = tags::CREDITED.into();
                });
                if self.remaining_capital() <= Money::ZERO {
                    self.write_off(now);
                    self.close(CloseReason::Credit, now);
                }
            }
            Command::DebtorPayment { amount, paid } => self.debtor_payment(amount, paid, ctx, out),
            Command::Cancel => {
                self.catch_up_interest(now, ctx, out);
                self.close(CloseReason::Cancellation, now);
            }
            Command::Close(reason) => {
                self.catch_up_interest(now, ctx, out);
                self.close(reason, now);
            }
            Command::Respite { days } => {
                let limits = &ctx.policy.respite;
                if days < 1 || days > limits.max_days {
                    return Err(Refusal::Respite(format!(
                        "a respite is from 1 to {} days",
                        limits.max_days
                    )));
                }
                let given = self.flow_state().respites;
                if given.len() >= limits.max_per_case as usize {
                    return Err(Refusal::Respite(format!(
                        "the case has had {} respites, the most its creditor allows",
                        given.len()
                    )));
                }
                let in_state = given.iter().filter(|r| r.state == self.state).count();
                if in_state >= limits.max_per_state as usize {
                    return Err(Refusal::Respite(format!(
                        "the case has had {in_state} respite(s) in state {}, the most its creditor allows",
                        self.state.as_str()
                    )));
                }
                let item = self.next_flow_item.as_mut().ok_or(Refusal::NoFlowItem)?;
                // An overdue item is postponed from today, not from its old date.
                let from = item.schedule_to_execute.max(now.start_of_day());
                item.schedule_to_execute = from.plus_days(days);
                let state = self.state;
                self.flow_state_mut().respites.push(RespiteGiven {
                    state,
                    days,
                    date: now,
                });
                self.updated = now;
            }
            Command::Hold(hold) => {
                if self.flow_state().on_hold.is_some() {
                    return Err(Refusal::OnHold(self.state));
                }
                self.catch_up_interest(now, ctx, out);
                let parked = self.next_flow_item.take();
                self.flow_state_mut().on_hold = parked;
                let (state, status) = hold.state();
                self.enter_state(state, status, now);
                self.updated = now;
            }
            Command::Resume => {
                let parked = self.flow_state().on_hold.ok_or(Refusal::NotOnHold)?;
                self.catch_up_interest(now, ctx, out);
                self.resume(parked, now);
            }
            Command::PaymentPlan {
                monthly_amount,
                first_due,
            } => self.start_payment_plan(monthly_amount, first_due, ctx, out)?,
            Command::Pseudonymise => self.pseudonymise(now, out)?,
        }
        Ok(())
    }

    /// The flow bookkeeping, derived for cases written before it existed.
    pub fn flow_state(&self) -> FlowState {
        self.flow_state
            .clone()
            .unwrap_or_else(|| FlowState::derived(&self.customer_id_number))
    }

    fn flow_state_mut(&mut self) -> &mut FlowState {
        let id_number = self.customer_id_number.clone();
        self.flow_state
            .get_or_insert_with(|| FlowState::derived(&id_number))
    }

    pub fn debtor_is_company(&self) -> bool {
        self.flow_state().debtor_is_company
    }

    fn remaining_capital(&self) -> Money {
        Balances::from_ledger(&self.transactions).remaining_capital
    }

    // ----- interest -----

    /// Whether interest runs on this case: open, at the statutory rate.
    pub fn accrues_interest(&self) -> bool {
        self.closed.is_none()
            && self.case_settings.interest_rate.reference_rate
            // Without a due date agreed in advance, no interest before a demand
            // (räntelagen 4 §).
            && (self.debt.due_date_agreed || self.debt.first_demand_date.is_some())
    }

    /// The day the invoice fell due (`invoice_date + invoice_due_days_after_invoice_date`).
    /// The day the invoice fell due: its date plus its due days, moved to the next banking
    /// day when that is a weekend or holiday (lag 1930:173, 2 §).
    pub fn due_date(&self) -> NaiveDate {
        super::banking::on_or_after(
            self.debt.invoice_date.date()
                + chrono::Duration::days(self.debt.invoice_due_days_after_invoice_date.max(0)),
        )
    }

    /// The earliest a reminder or collection letter may be sent: 00:00 of the day after the
    /// due date, plus the creditor's grace days. Lag (1981:739) om skydd mot obehörig
    /// inkassoverksamhet covers only a claim that has fallen due (4 §), and good collection
    /// practice (god inkassosed, 4 §) sends no reminder or demand before.
    pub fn first_action_allowed(&self, policy: &CreditorPolicy) -> HttpDate {
        HttpDate::midnight(self.due_date() + chrono::Duration::days(1 + policy.grace_days.max(0)))
    }

    /// The first day interest runs (`invoice_date + interest_days_after_invoice_date`, plus
    /// one): with a due date agreed in advance, the day after it (räntelagen 3 §), moved with
    /// the due date off a weekend or holiday (lag 1930:173, 2 §: no interest runs for the
    /// days moved); without one, the day 30 days after the first demand was sent (4 §,
    /// which [`Case::record_first_demand`] writes into `interest_days_after_invoice_date`).
    pub fn interest_first_day(&self) -> NaiveDate {
        let day = self.debt.invoice_date.date()
            + chrono::Duration::days(self.debt.interest_days_after_invoice_date.max(0));
        let day = if self.debt.due_date_agreed {
            super::banking::on_or_after(day)
        } else {
            day
        };
        day + chrono::Duration::days(1)
    }

    /// Räntelagen 4 §: for a claim with no due date agreed in advance, interest runs from
    /// the day that falls 30 days after the creditor sent a demand for a fixed amount giving
    /// notice that interest will be charged. The first such letter sets that day (later
    /// ones change nothing); Amili's `interest_days_after_invoice_date` then says it.
    pub(crate) fn record_first_demand(&mut self, at: HttpDate) {
        if self.debt.due_date_agreed || self.debt.first_demand_date.is_some() {
            return;
        }
        self.debt.first_demand_date = Some(at);
        let first = at.date() + chrono::Duration::days(DEMAND_TO_INTEREST_DAYS);
        self.debt.interest_days_after_invoice_date =
            (first - self.debt.invoice_date.date()).num_days() - 1;
    }

    /// The day interest starts, for a letter to give notice of: only for a claim without a
    /// due date agreed in advance (the others say when it fell due).
    fn interest_notice(&self) -> Option<HttpDate> {
        (!self.debt.due_date_agreed && self.debt.first_demand_date.is_some())
            .then(|| HttpDate::midnight(self.interest_first_day()))
    }

    /// Why nothing the flow does will interrupt this case's limitation, if so: it is held
    /// (`dispute`, `estate`, `bankruptcy_estate`) or waits for its application to
    /// Kronofogden to be filed (`awaiting_filing`). `None` for a closed case.
    pub fn stalled(&self) -> Option<&'static str> {
        if self.closed.is_some() {
            return None;
        }
        match self.state {
            CaseState::Dispute => return Some("dispute"),
            CaseState::Estate => return Some("estate"),
            CaseState::BankruptcyEstate => return Some("bankruptcy_estate"),
            _ => {}
        }
        let fs = self.flow_state.as_ref()?;
        matches!(
            fs.kronofogden.as_ref().map(|k| k.status),
            Some(KronofogdenStatus::AwaitingFiling)
        )
        .then_some("awaiting_filing")
    }

    /// When a stalled case is to warn that its claim is nearing its limitation date
    /// ([`LIMITATION_WARNING_DAYS`] before it), unless it already warned for that date.
    pub fn limitation_warning_at(&self) -> Option<HttpDate> {
        self.stalled()?;
        let date = self.limitation.as_ref()?.limitation_date;
        let warned = self.flow_state.as_ref().and_then(|f| f.limitation_warned);
        (warned != Some(date)).then(|| date.plus_days(-LIMITATION_WARNING_DAYS))
    }

    /// Raises the warning when its time has come (the event is a consequence of
    /// `flow_state.limitation_warned` changing).
    fn watch_limitation(&mut self, until: HttpDate) {
        if let Some(at) = self.limitation_warning_at() {
            if at <= until {
                let date = self.limitation.as_ref().map(|l| l.limitation_date);
                self.flow_state_mut().limitation_warned = date;
            }
        }
    }

    /// The capital interest runs on, as changes: a capital line counts from the day after
    /// its value date (interest runs through the day of payment).
    pub fn capital_changes(&self) -> Vec<CapitalChange> {
        self.transactions
            .iter()
            .filter(|t| t.kind == TransactionType::Capital)
            .map(|t| (t.value_date() + chrono::Duration::days(1), t.amount))
            .collect()
    }

    /// Exact interest due for every day through `day`.
    pub fn interest_due_through(&self, day: NaiveDate, rates: &RateTable) -> Accrued {
        interest::accrue(
            &self.capital_changes(),
            self.interest_first_day(),
            day,
            rates,
        )
    }

    /// Interest posted by the flow so far (corrections included).
    fn interest_posted(&self) -> Money {
        self.transactions
            .iter()
            .filter(|t| t.is(tags::INTEREST) || t.is(tags::INTEREST_CORRECTION))
            .map(|t| t.amount)
            .sum()
    }

    /// Interest paid or written off so far (positive): what posted interest may not be
    /// corrected below.
    fn interest_reduced(&self) -> Money {
        -self
            .transactions
            .iter()
            .filter(|t| {
                t.kind == TransactionType::Interest
                    && !t.is(tags::INTEREST)
                    && !t.is(tags::INTEREST_CORRECTION)
            })
            .map(|t| t.amount)
            .sum::<Money>()
    }

    /// Interest the debtor paid (positive), net of what was moved to capital, and the
    /// value date of the last such payment.
    fn interest_paid(&self) -> (Money, Option<HttpDate>) {
        let lines = self.transactions.iter().filter(|t| {
            t.kind == TransactionType::Interest
                && (t.is(tags::DEBTOR_PAYMENT) || t.is(tags::PAYMENT_REALLOCATED))
        });
        let paid = -lines.clone().map(|t| t.amount).sum::<Money>();
        let last = lines
            .filter(|t| t.is(tags::DEBTOR_PAYMENT))
            .map(|t| t.bank_transaction_date)
            .max();
        (paid, last)
    }

    /// Moves `amount` the debtor paid as interest to capital: an interest line +amount and a
    /// capital line −amount tagged `api.transaction.payment_reallocated`, dated `value` (the
    /// payment it came from), booked `at`.
    fn reallocate_to_capital(&mut self, amount: Money, value: HttpDate, at: HttpDate) {
        for (kind, amount) in [
            (TransactionType::Interest, amount),
            (TransactionType::Capital, -amount),
        ] {
            let mut line = Transaction::booked(kind, tags::PAYMENT_REALLOCATED, amount, value);
            line.registration_date = at;
            self.transactions.push(line);
        }
    }

    /// Posts interest through `at`'s day: what is due in whole kronor beyond what was
    /// posted, or a correction when a backdated payment lowered it. A correction never goes
    /// below what was paid or written off: interest the debtor paid that is no longer due
    /// is first moved to capital (`api.transaction.payment_reallocated`, dated the payment
    /// it came from), so no remaining amount is ever negative. Whether a line was booked.
    fn post_interest(&mut self, at: HttpDate, rates: &RateTable) -> bool {
        if !self.accrues_interest() {
            return false;
        }
        let mut booked = false;
        let mut due = self.interest_due_through(at.date(), rates).floor_kronor();
        // Moving money to capital lowers the interest due again (a little): a few rounds
        // settle it, since interest is counted in whole kronor.
        for _ in 0..4 {
            let excess = self.interest_reduced() - due;
            if excess <= Money::ZERO {
                break;
            }
            let (paid, paid_on) = self.interest_paid();
            let movable = excess
                .min(paid)
                .min(self.remaining_capital().max(Money::ZERO));
            let Some(value) = paid_on.filter(|_| movable > Money::ZERO) else {
                break;
            };
            self.reallocate_to_capital(movable, value, at);
            booked = true;
            due = self.interest_due_through(at.date(), rates).floor_kronor();
        }
        let target = due.max(self.interest_reduced());
        let delta = target - self.interest_posted();
        if delta == Money::ZERO {
            if booked {
                self.updated = at;
            }
            return booked;
        }
        let tag = if delta > Money::ZERO {
            tags::INTEREST
        } else {
            tags::INTEREST_CORRECTION
        };
        self.transactions.push(Transaction::booked(
            TransactionType::Interest,
            tag,
            delta,
            at,
        ));
        self.updated = at;
        true
    }

    fn catch_up_interest(&mut self, at: HttpDate, ctx: &Ctx<'_>, out: &mut Applied) {
        if self.post_interest(at, ctx.rates) {
            out.interest_postings += 1;
        }
    }

    /// When the case next needs the worker: its flow item, or the day its interest grows by
    /// a whole krona (posted at 00:00 that day), whichever is first. `None` for a closed case
    /// or one with nothing to wait for.
    pub fn due_at(&self, now: HttpDate, rates: &RateTable) -> Option<HttpDate> {
        if self.closed.is_some() {
            return None;
        }
        // A failed item waits for an operator, not for time: it is not due (else every run
        // would claim the case again, and a run to a time would never end).
        let item = self
            .next_flow_item
            .as_ref()
            .filter(|i| !i.is_failed)
            .map(|i| i.schedule_to_execute);
        let interest = if self.accrues_interest() {
            let first = self.interest_first_day();
            let after = now.date().max(first.pred_opt().unwrap_or(first));
            interest::next_whole_krona(
                &self.capital_changes(),
                first,
                after,
                self.interest_posted(),
                INTEREST_HORIZON_DAYS,
                rates,
            )
            .map(HttpDate::midnight)
        } else {
            None
        };
        [item, interest, self.limitation_warning_at()]
            .into_iter()
            .flatten()
            .min()
    }

    // ----- the flow -----

    fn run_due(&mut self, until: HttpDate, simulate: bool, ctx: &Ctx<'_>, out: &mut Applied) {
        if self.closed.is_some() {
            return;
        }
        while out.items_run < MAX_ITEMS_PER_RUN {
            let Some(item) = self.next_flow_item.clone() else {
                break;
            };
            if item.schedule_to_execute > until || item.is_failed {
                break;
            }
            let at = if simulate {
                item.schedule_to_execute.max(self.updated).min(until)
            } else {
                until
            };
            self.catch_up_interest(at, ctx, out);
            match ctx.flow.step(&item.item) {
                Some(step) => flow::run_step(self, step, at, ctx, out),
                None => {
                    // The configuration no longer has this step: stop and show it.
                    if let Some(i) = self.next_flow_item.as_mut() {
                        i.is_failed = true;
                    }
                    self.updated = at;
                    break;
                }
            }
            out.items_run += 1;
            if self.closed.is_some() {
                return;
            }
        }
        self.catch_up_interest(until, ctx, out);
        self.watch_limitation(until);
    }

    /// Schedules the step `next` names, counted from `at`; none if the configuration lacks it.
    pub(crate) fn schedule(&mut self, flow: &FlowConfig, next: Option<&flow::Next>, at: HttpDate) {
        self.next_flow_item = next.and_then(|n| flow.item(n, at));
    }

    /// The letter for the claim as it stands at `at`.
    pub(crate) fn letter(
        &self,
        kind: LetterKind,
        at: HttpDate,
        payment_days: i64,
        rates: &RateTable,
    ) -> LetterOrder {
        let b = Balances::from_ledger(&self.transactions);
        let fees: Vec<(String, Money)> = self
            .transactions
            .iter()
            .filter(|t| t.kind == TransactionType::Costs && t.amount.is_positive())
            .map(|t| (t.description_locale_tag.clone(), t.amount))
            .collect();
        let periods = interest::periods(
            &self.capital_changes(),
            self.interest_first_day(),
            at.date(),
            rates,
        )
        .into_iter()
        .filter(|p| p.capital.is_positive())
        .map(|p| InterestPeriod {
            from: HttpDate::midnight(p.from),
            through: HttpDate::midnight(p.through),
            capital: p.capital,
            rate_bp: p.rate_bp,
            amount: p.interest.to_ore(),
        })
        .collect();
        LetterOrder {
            kind,
            sent: at,
            // The last day to pay, moved off a weekend or holiday (lag 1930:173, 2 §).
            pay_by: HttpDate::midnight(super::banking::on_or_after(
                at.plus_days(payment_days).date(),
            )),
            capital: b.added_capital,
            interest: b.added_interest,
            costs: b.added_costs,
            fees,
            reduced: b.added_total() - b.remaining_total(),
            total: b.remaining_total(),
            interest_periods: if self.case_settings.interest_rate.reference_rate {
                periods
            } else {
                vec![]
            },
            interest_rate_bp: rates.late_interest_bp(at.date()),
            plan: None,
            interest_from: self.interest_notice(),
            interrupts: None,
        }
    }

    pub(crate) fn charge(&mut self, event: FeeEvent, at: HttpDate, policy: &CreditorPolicy) {
        let lines = fees::lines(
            event,
            &policy.fees,
            &self.transactions,
            self.debtor_is_company(),
            at,
        );
        self.transactions.extend(lines);
    }

    pub(crate) fn interrupt_limitation(
        &mut self,
        at: HttpDate,
        annotation: &str,
        out: &mut Applied,
    ) {
        // A barred claim stays barred: nothing done after its limitation date revives it
        // (preskriptionslag (1981:130) 8 §).
        if let Some(current) = &self.limitation {
            if limitation::is_barred(current, at) {
                return;
            }
        }
        let interrupted = limitation::interrupted(at, self.debtor_is_company(), annotation);
        out.effects
            .push(Effect::LimitationInterrupted(interrupted.clone()));
        self.limitation = Some(interrupted);
        // A warning was for the old date; the new one is watched afresh.
        if let Some(fs) = self.flow_state.as_mut() {
            fs.limitation_warned = None;
        }
    }

    /// Returns to the state before the hold (or plan) and runs the parked item again, now
    /// at the earliest.
    fn resume(&mut self, mut parked: FlowItem, at: HttpDate) {
        let held = self.state;
        let back = self
            .state_history
            .iter()
            .rev()
            .map(|s| s.state)
            .find(|s| {
                *s != held
                    && !matches!(
                        s,
                        CaseState::Dispute
                            | CaseState::Estate
                            | CaseState::BankruptcyEstate
                            | CaseState::Amortization
                    )
            })
            .unwrap_or(CaseState::Initializing);
        let fs = self.flow_state_mut();
        fs.on_hold = None;
        // The flow runs again: a warning given while it stood still no longer applies.
        fs.limitation_warned = None;
        fs.payment_plan = None;
        self.enter_state(back, status_for(back), at);
        parked.schedule_to_execute = parked.schedule_to_execute.max(at);
        self.next_flow_item = Some(parked);
        self.updated = at;
    }

    // ----- money in -----

    /// Books a capital reduction of at most the remaining capital, as of `value`;
    /// `style` sets its tag, origin and references.
    fn settle_capital(
        &mut self,
        amount: Money,
        value: HttpDate,
        now: HttpDate,
        ctx: &Ctx<'_>,
        out: &mut Applied,
        style: impl FnOnce(&mut Transaction),
    ) {
        let applied = amount.min(self.remaining_capital().max(Money::ZERO));
        out.settled = applied;
        out.excess = amount - applied;
        let mut capital_line = None;
        if applied > Money::ZERO {
            let mut line = Transaction::booked(TransactionType::Capital, "", -applied, value);
            line.registration_date = now;
            style(&mut line);
            capital_line = Some(self.transactions.len());
            self.transactions.push(line);
        }
        self.updated = now;
        // Interest through today on the new capital (a correction if the value date is past).
        self.catch_up_interest(now, ctx, out);
        self.return_interest_not_owed(capital_line, now, ctx, out);
    }

    /// After a backdated payment: interest the debtor paid earlier that is no longer due,
    /// and that could not be moved to capital because none is left, is taken out of this
    /// payment's capital part instead (and moved to capital), so it comes back as excess
    /// (an overpayment to return) rather than staying with the creditor as interest.
    fn return_interest_not_owed(
        &mut self,
        capital_line: Option<usize>,
        now: HttpDate,
        ctx: &Ctx<'_>,
        out: &mut Applied,
    ) {
        let Some(i) = capital_line else { return };
        if !self.accrues_interest() {
            return;
        }
        let due = self
            .interest_due_through(now.date(), ctx.rates)
            .floor_kronor();
        let (paid, paid_on) = self.interest_paid();
        let Some(value) = paid_on else { return };
        let this_payment = self
            .transactions
            .get(i)
            .map(|t| -t.amount)
            .unwrap_or_default();
        let part = (self.interest_reduced() - due).min(paid).min(this_payment);
        if part <= Money::ZERO {
            return;
        }
        if let Some(t) = self.transactions.get_mut(i) {
            t.amount += part;
        }
        self.reallocate_to_capital(part, value, now);
        self.transactions
            .retain(|t| !(t.kind == TransactionType::Capital && t.amount == Money::ZERO));
        out.settled -= part;
        out.excess += part;
        self.catch_up_interest(now, ctx, out);
    }

    fn debtor_payment(&mut self, amount: Money, paid: HttpDate, ctx: &Ctx<'_>, out: &mut Applied) {
        let now = ctx.now;
        let mut owed = self.owed_on(paid, ctx);
        // Paid what the last letter demanded, by its pay-by date: that settles the claim.
        // The interest that ran after the letter is written off first when the creditor's
        // policy says so; otherwise a new letter must demand it before anything escalates.
        let beyond = self.beyond_demand(amount, paid, &owed);
        if beyond > Money::ZERO && ctx.policy.interest_after_demand == AfterDemand::WriteOff {
            let mut line =
                Transaction::booked(TransactionType::Interest, tags::DEPRECIATED, -beyond, paid);
            line.registration_date = now;
            self.transactions.push(line);
            owed.remaining_interest -= beyond;
        }
        let split = allocate(amount, &owed, &ctx.policy.allocation_order);
        out.settled = split.settled();
        out.excess = split.overpaid;
        let mut capital_line = None;
        for (kind, part) in &split.parts {
            let mut line = Transaction::booked(*kind, tags::DEBTOR_PAYMENT, -*part, paid);
            line.registration_date = now;
            line.payment_method = Some("bankgiro".into());
            if *kind == TransactionType::Capital {
                capital_line = Some(self.transactions.len());
            }
            self.transactions.push(line);
        }
        self.updated = now;
        self.interrupt_limitation(paid, limitation::annotations::PAYMENT, out);
        self.catch_up_interest(now, ctx, out);
        self.return_interest_not_owed(capital_line, now, ctx, out);
        let after_on_paid_day = owed.remaining_total() - split.settled();
        if after_on_paid_day <= Money::ZERO {
            // Settled in full as it stood that day: fees for letters sent after the payment
            // are not owed.
            let late: Money = self
                .transactions
                .iter()
                .filter(|t| t.kind == TransactionType::Costs && t.bank_transaction_date > paid)
                .map(|t| t.amount)
                .sum();
            if late > Money::ZERO {
                self.transactions.push(Transaction::booked(
                    TransactionType::Costs,
                    tags::DEPRECIATED,
                    -late,
                    now,
                ));
            }
        }
        if Balances::from_ledger(&self.transactions).remaining_total() <= Money::ZERO {
            let reason = match (self.state, self.flow_state().first_action) {
                (CaseState::Initializing | CaseState::Invoice, FirstAction::Reminder) => {
                    CloseReason::FullyPaidBeforeReminder
                }
                (CaseState::Initializing | CaseState::Invoice | CaseState::Reminder, _) => {
                    CloseReason::FullyPaidBeforeDebtCollection
                }
                _ => CloseReason::FullyPaid,
            };
            self.close(reason, now);
        }
    }

    /// What was owed on the day of payment: costs and capital booked by then, and the
    /// interest due through that day less what was already paid or written off of it.
    fn owed_on(&self, paid: HttpDate, ctx: &Ctx<'_>) -> Balances {
        let mut owed = Balances::as_of(&self.transactions, paid);
        let interest_reduced = -self.interest_reduced();
        owed.remaining_interest = if self.accrues_interest() {
            self.interest_due_through(paid.date(), ctx.rates)
                .floor_kronor()
                + interest_reduced
        } else {
            owed.remaining_interest
        };
        // Payments dated after this one have already settled part of the claim: nothing is
        // owed beyond what remains now.
        let current = Balances::from_ledger(&self.transactions);
        owed.remaining_capital = owed
            .remaining_capital
            .min(current.remaining_capital.max(Money::ZERO));
        owed.remaining_costs = owed
            .remaining_costs
            .min(current.remaining_costs.max(Money::ZERO));
        owed.remaining_interest = owed.remaining_interest.max(Money::ZERO);
        owed
    }

    /// The interest owed on `paid` beyond what the last letter demanded and beyond what a
    /// payment of `amount` that day covers, when it completes that demand within its pay-by
    /// date; zero otherwise.
    fn beyond_demand(&self, amount: Money, paid: HttpDate, owed: &Balances) -> Money {
        let Some(demand) = self.flow_state().demand else {
            return Money::ZERO;
        };
        if paid.date() < demand.sent.date() || paid.date() > demand.pay_by.date() {
            return Money::ZERO;
        }
        let still_demanded = demand.amount - self.paid_since_demand(&demand, Some(demand.pay_by));
        if still_demanded <= Money::ZERO || amount < still_demanded {
            return Money::ZERO;
        }
        // What the payment leaves of the day's claim, no more than the interest: a payment
        // that also covers the later interest writes nothing off.
        (owed.remaining_total() - amount)
            .min(owed.remaining_interest)
            .max(Money::ZERO)
    }

    /// Records how far the case got with Kronofogden.
    pub(crate) fn set_kronofogden(&mut self, status: KronofogdenStatus, at: HttpDate) {
        self.flow_state_mut().kronofogden = Some(KronofogdenStep { status, since: at });
    }

    /// Records the demand a letter just made.
    pub(crate) fn demanded(&mut self, demand: Demand) {
        self.flow_state_mut().demand = Some(demand);
    }

    /// What the debtor paid on or after the last demand's date.
    fn paid_since_demand(&self, demand: &Demand, through: Option<HttpDate>) -> Money {
        -self
            .transactions
            .iter()
            .filter(|t| t.is(tags::DEBTOR_PAYMENT) || t.is(tags::CREDITOR_PAYMENT))
            .filter(|t| t.bank_transaction_date.date() >= demand.sent.date())
            .filter(|t| through.is_none_or(|by| t.bank_transaction_date.date() <= by.date()))
            .map(|t| t.amount)
            .sum::<Money>()
    }

    /// Whether the flow may take the case to Kronofogden now: only for a remainder a letter
    /// demanded and the debtor left unpaid, and not for less than the creditor's minimum.
    pub(crate) fn escalation(&self, policy: &CreditorPolicy) -> Escalation {
        let left = Balances::from_ledger(&self.transactions).remaining_total();
        if left < policy.minimum_enforcement_amount {
            return Escalation::BelowMinimum;
        }
        match self.flow_state().demand {
            Some(d) if self.paid_since_demand(&d, None) < d.amount => Escalation::Allowed,
            _ => Escalation::NotDemanded,
        }
    }

    /// Writes off remaining interest and costs; whether there was any.
    fn write_off(&mut self, at: HttpDate) -> bool {
        let b = Balances::from_ledger(&self.transactions);
        let mut any = false;
        for (kind, left) in [
            (TransactionType::Interest, b.remaining_interest),
            (TransactionType::Costs, b.remaining_costs),
        ] {
            if left > Money::ZERO {
                self.transactions
                    .push(Transaction::booked(kind, tags::DEPRECIATED, -left, at));
                any = true;
            }
        }
        any
    }

    fn start_payment_plan(
        &mut self,
        monthly_amount: Money,
        first_due: HttpDate,
        ctx: &Ctx<'_>,
        out: &mut Applied,
    ) -> Result<(), Refusal> {
        let now = ctx.now;
        if monthly_amount <= Money::ZERO {
            return Err(Refusal::Invalid(
                "monthly_amount must be more than 0".into(),
            ));
        }
        if first_due < now.start_of_day() {
            return Err(Refusal::Invalid("first_due cannot be in the past".into()));
        }
        let fs = self.flow_state();
        if fs.on_hold.is_some() {
            return Err(Refusal::OnHold(self.state));
        }
        let check = ctx
            .flow
            .step_for(Action::CheckPaymentPlan)
            .ok_or_else(|| Refusal::Invalid("the creditor's flow has no payment-plan step".into()))?
            .clone();
        self.catch_up_interest(now, ctx, out);
        // The fee is for a written plan (lag 1981:739, 3 § 2): the plan goes out as a letter,
        // listing the fee, and the debtor's agreement to it acknowledges the debt, which
        // interrupts limitation (preskriptionslag 5 § 1).
        self.charge(FeeEvent::PaymentPlan, now, ctx.policy);
        let mut order = self.letter(LetterKind::PaymentPlan, now, 0, ctx.rates);
        order.pay_by = first_due.start_of_day();
        order.plan = Some(PlanTerms {
            monthly_amount,
            first_due: first_due.start_of_day(),
        });
        out.effects.push(Effect::Letter {
            id: ObjectId::at(now.unix()),
            order,
        });
        self.interrupt_limitation(now, limitation::annotations::PAYMENT_PLAN, out);
        let paid_before = self.paid_total();
        let parked = self.next_flow_item.take();
        let fs = self.flow_state_mut();
        fs.on_hold = parked;
        fs.payment_plan = Some(PaymentPlan {
            monthly_amount,
            first_due,
            paid_before,
            instalments_kept: 0,
        });
        self.enter_state(CaseState::Amortization, CaseStatus::Amortization, now);
        let grace = check.grace_days.unwrap_or(0);
        self.next_flow_item = Some(
            ctx.flow
                .item_at(&check, first_due.plus_days(grace).start_of_day()),
        );
        self.updated = now;
        Ok(())
    }

    /// See [`Command::Pseudonymise`]. A case already pseudonymised is left as it is.
    fn pseudonymise(&mut self, now: HttpDate, out: &mut Applied) -> Result<(), Refusal> {
        if self.closed.is_none() {
            return Err(Refusal::Invalid(
                "only a closed case is pseudonymised".into(),
            ));
        }
        if self.is_pseudonymised() {
            return Ok(());
        }
        // Whether the debtor is a company is derived from the identity number: keep it.
        self.flow_state_mut();
        let pseudonym = format!("purged-{}", self.customer);
        self.customer_name = PURGED.into();
        self.debtor_name = PURGED.into();
        self.customer_id_number = pseudonym.clone();
        self.debtor_id_number = pseudonym;
        self.customer_number = None;
        if let Some(file) = self.original_invoice.take() {
            out.effects.push(Effect::ReplacedFile(file));
        }
        self.updated = now;
        Ok(())
    }

    /// Whether [`Command::Pseudonymise`] has been applied.
    pub fn is_pseudonymised(&self) -> bool {
        self.customer_name == PURGED
    }

    /// Payments booked so far (by debtor or creditor), as a positive amount.
    pub(crate) fn paid_total(&self) -> Money {
        -self
            .transactions
            .iter()
            .filter(|t| t.is(tags::DEBTOR_PAYMENT) || t.is(tags::CREDITOR_PAYMENT))
            .map(|t| t.amount)
            .sum::<Money>()
    }

    /// Ends a broken payment plan: the flow goes on from where it was parked.
    pub(crate) fn break_payment_plan(&mut self, at: HttpDate) {
        match self.flow_state().on_hold {
            Some(parked) => self.resume(parked, at),
            None => {
                let fs = self.flow_state_mut();
                fs.payment_plan = None;
                self.next_flow_item = None;
                self.updated = at;
            }
        }
    }
}

/// The status a case has on entering a state (and returning to it).
pub fn status_for(state: CaseState) -> CaseStatus {
    match state {
        CaseState::Initializing => CaseStatus::Initialized,
        CaseState::Invoice => CaseStatus::Invoice,
        CaseState::Reminder => CaseStatus::ReminderSent,
        CaseState::DebtCollection => CaseStatus::DebtCollection,
        CaseState::Enforcement => CaseStatus::Enforcement,
        CaseState::DebtSurveillance => CaseStatus::DebtSurveillance,
        CaseState::Amortization => CaseStatus::Amortization,
        CaseState::Dispute => CaseStatus::Dispute,
        CaseState::Estate => CaseStatus::Estate,
        CaseState::BankruptcyEstate => CaseStatus::BankruptcyEstate,
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
