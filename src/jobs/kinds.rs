//! The kinds of job and their payloads. How each runs is registered with the [`Runner`]
//! by the composition root (the worker), beside the service that does the work.
//!
//! [`Runner`]: super::Runner

use serde::{Deserialize, Serialize};

use super::Job;
use crate::domain::apply::LetterOrder;
use crate::domain::webhook::Event;
use crate::domain::ObjectId;

/// Typesets a letter the flow sent into its PDF and marks its `/case--letters` document
/// `rendered`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenderLetter {
    pub letter: ObjectId,
    pub case: ObjectId,
    /// The account the letter's case belongs to. Absent in jobs written before the queue
    /// had accounts in payloads (the row's account column has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<ObjectId>,
    /// What the letter says.
    pub order: LetterOrder,
}

impl Job for RenderLetter {
    const NAME: &'static str = "render_letter";
    /// Typesetting is CPU work: one at a time leaves the other core to the API.
    const CONCURRENCY: usize = 1;

    fn account(&self) -> String {
        self.account.map(|a| a.to_hex()).unwrap_or_default()
    }
}

/// Makes one delivery per webhook of the event's account that wants it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FanOutEvent(pub Event);

impl Job for FanOutEvent {
    const NAME: &'static str = "fan_out_event";

    /// Events reach their deliveries in the order they happened.
    fn sequence(&self) -> Option<String> {
        Some(self.0.account.to_hex())
    }

    fn account(&self) -> String {
        self.0.account.to_hex()
    }
}

/// Sends a webhook delivery (signed), records the attempt, and waits for the next one on
/// the delivery's schedule while the receiver does not take it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliverWebhook {
    pub delivery: ObjectId,
    pub webhook: ObjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<ObjectId>,
}

impl Job for DeliverWebhook {
    const NAME: &'static str = "deliver_webhook";

    /// A webhook's deliveries go one after another, in the order they were made.
    fn sequence(&self) -> Option<String> {
        Some(self.webhook.to_hex())
    }

    fn account(&self) -> String {
        self.account.map(|a| a.to_hex()).unwrap_or_default()
    }
}

/// Deletes a file from the media store that nothing refers to any more (an invoice replaced
/// or purged, a reset sandbox's letters).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMedia {
    /// The media key (`cases/<id>-<random>`, `letters/<case>/<letter>.pdf`).
    pub key: String,
}

impl Job for DeleteMedia {
    const NAME: &'static str = "delete_media";

    /// The agency's: a sandbox reset, which removes an account's waiting jobs, enqueues
    /// these for the account's files and must not remove them again.
    fn account(&self) -> String {
        String::new()
    }
}

/// Pays out, every minute, the creditors whose payout day it is on their account's clock
/// (`finance::payout_run`); one waiting job across every node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledPayouts {}

impl Job for ScheduledPayouts {
    const NAME: &'static str = "scheduled_payouts";

    fn account(&self) -> String {
        String::new()
    }

    fn unique_key(&self) -> Option<String> {
        Some(Self::NAME.into())
    }
}
