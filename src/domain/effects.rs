//! What a change to a case causes outside the case: the letters to send, the money owed to
//! or by the creditor (payout-specification lines), the events an integrator can subscribe
//! to, the limitation breaks, the files the case no longer refers to. [`Case::apply`] returns
//! them all; whoever applies a command holds every consequence in its hands, and the layer
//! that writes (outside the domain) only persists what it is handed.
//!
//! [`Case::apply`]: super::case::Case::apply

use serde::Serialize;
use serde_json::{json, Value};

use super::apply::LetterOrder;
use super::case::{Case, Limitation, MediaRef};
use super::finance::{settlement_lines, FinanceLine};
use super::webhook::{
    Event, CASE_CLOSED, CASE_LETTER_SENT, CASE_LIMITATION_APPROACHING, CASE_STATE_CHANGED,
    PAYMENT_SETTLED,
};
use super::{HttpDate, Money, ObjectId};

/// Something a change causes outside the case document.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A letter to send: its `/case--letters` document is `id`; `order` is what it says.
    Letter { id: ObjectId, order: LetterOrder },
    /// A payout-specification line: money the agency owes the creditor (positive) or the
    /// creditor owes the agency (negative).
    Payout(FinanceLine),
    /// Something an integrator can subscribe to (docs/webhooks.md).
    Event(Event),
    /// Limitation was interrupted (preskriptionslag 1981:130, 5 §): a new period runs from
    /// `break_date`. The case records the latest; each break is an effect of its own.
    LimitationInterrupted(Limitation),
    /// A file the case no longer refers to: delete it once the change is committed.
    ReplacedFile(MediaRef),
}

/// Who a payment was made to, for `payment.settled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaidTo {
    /// The debtor paid the creditor, who reported it (`/creditor--payments`).
    Creditor(ObjectId),
    /// The debtor paid the agency (a bank file, a manual match).
    Agency,
}

/// A payment the command reported, for `payment.settled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentReport {
    pub to: PaidTo,
    pub amount: Money,
}

/// Adds the consequences of a change from `before` to `after` to `effects`: payout lines for
/// the money the change settled, then the events — a `case.state_changed` per state entered
/// (a moved sandbox clock can pass through several), `payment.settled`, `case.closed`, and a
/// `case.letter_sent` per letter already among the effects.
pub(crate) fn consequences(
    before: &Case,
    after: &Case,
    payment: Option<PaymentReport>,
    now: HttpDate,
    effects: &mut Vec<Effect>,
) {
    effects.extend(
        settlement_lines(after, before.transactions.len())
            .into_iter()
            .map(Effect::Payout),
    );
    let mut events = Vec::new();
    let states_before = before.state_history.len();
    let mut previous = states_before
        .checked_sub(1)
        .and_then(|i| after.state_history.get(i))
        .map(|s| wire(&s.state));
    for change in after.state_history.get(states_before..).unwrap_or_default() {
        events.push(Event::new(
            CASE_STATE_CHANGED,
            after.account,
            Some(after.creditor),
            change.state_date,
            json!({
                "case": after.id.to_hex(),
                "state": wire(&change.state),
                "previous_state": previous,
            }),
        ));
        previous = Some(wire(&change.state));
    }
    if let Some(p) = payment {
        let mut data = json!({
            "case": after.id.to_hex(),
            "amount": p.amount,
            "paid_to": match p.to {
                PaidTo::Creditor(_) => "creditor",
                PaidTo::Agency => "debtor",
            },
        });
        if let PaidTo::Creditor(id) = p.to {
            data["creditor_payment"] = json!(id.to_hex());
        }
        events.push(Event::new(
            PAYMENT_SETTLED,
            after.account,
            Some(after.creditor),
            now,
            data,
        ));
    }
    if let (None, Some(closed)) = (&before.closed, &after.closed) {
        events.push(Event::new(
            CASE_CLOSED,
            after.account,
            Some(after.creditor),
            closed.close_date,
            json!({
                "case": after.id.to_hex(),
                "state": wire(&after.state),
                "status": wire(&after.status),
                "close_reason": wire(&closed.reason),
            }),
        ));
    }
    // A held case (or one waiting for filing) came near its limitation date: nothing the
    // flow does will interrupt it, so a person must.
    let warned = |c: &Case| c.flow_state.as_ref().and_then(|f| f.limitation_warned);
    if let Some(date) = warned(after).filter(|d| warned(before) != Some(*d)) {
        events.push(Event::new(
            CASE_LIMITATION_APPROACHING,
            after.account,
            Some(after.creditor),
            now,
            json!({
                "case": after.id.to_hex(),
                "state": wire(&after.state),
                "reason": after.stalled(),
                "limitation_date": date,
                "days_left": (date.date() - now.date()).num_days(),
            }),
        ));
    }
    for e in effects.iter() {
        if let Effect::Letter { id, order } = e {
            events.push(Event::new(
                CASE_LETTER_SENT,
                after.account,
                Some(after.creditor),
                order.sent,
                json!({
                    "case": after.id.to_hex(),
                    "letter": id.to_hex(),
                    "letter_type": order.kind.as_str(),
                }),
            ));
        }
    }
    effects.extend(events.into_iter().map(Effect::Event));
}

/// A value as it is on the wire (`debt_collection`).
fn wire<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// `Command::LetterSent` for each letter among `effects` that breaks limitation once sent:
/// what a caller applies when it knows the letters went out (the seed's past; tests).
pub fn letters_sent(effects: &[Effect]) -> Vec<super::apply::Command> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Letter { order, .. } => {
                order
                    .interrupts
                    .clone()
                    .map(|annotation| super::apply::Command::LetterSent {
                        sent: order.sent,
                        annotation,
                    })
            }
            _ => None,
        })
        .collect()
}
