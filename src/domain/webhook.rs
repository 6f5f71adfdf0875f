//! Webhooks: what an account subscribes to, the events a case change makes, the deliveries
//! and their retry schedule, and the Standard Webhooks signature
//! (<https://www.standardwebhooks.com>). No I/O here: the sender is `crate::webhooks`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{HttpDate, ObjectId};

/// The events a webhook can subscribe to.
pub const EVENTS: &[&str] = &[
    CASE_STATE_CHANGED,
    CASE_CLOSED,
    CASE_LETTER_SENT,
    PAYMENT_SETTLED,
    PAYMENT_UNMATCHED,
    PAYOUT_CREATED,
    CASE_LIMITATION_APPROACHING,
];
pub const CASE_STATE_CHANGED: &str = "case.state_changed";
pub const CASE_CLOSED: &str = "case.closed";
pub const CASE_LETTER_SENT: &str = "case.letter_sent";
pub const PAYMENT_SETTLED: &str = "payment.settled";
pub const PAYMENT_UNMATCHED: &str = "payment.unmatched";
pub const PAYOUT_CREATED: &str = "payout.created";
pub const CASE_LIMITATION_APPROACHING: &str = "case.limitation_approaching";

/// `/webhooks`: where an account (or one of its creditors) wants to hear of its events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Webhook {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    /// Set for a webhook made by a creditor-bound API user: only that creditor's events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<ObjectId>,
    /// An `http` or `https` URL.
    pub url: String,
    /// The events sent to it (see [`EVENTS`]).
    pub events: Vec<String>,
    /// False: nothing is sent (deliveries already made still retry).
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

impl Webhook {
    /// Whether this webhook hears `event`.
    pub fn wants(&self, event: &Event) -> bool {
        self.active
            && self.events.contains(&event.kind)
            && match (self.creditor, event.creditor) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => mine == theirs,
                // An agency event (an unmatched payment) belongs to no creditor.
                (Some(_), None) => false,
            }
    }
}

/// Something that happened, as the outbox keeps it until it is fanned out to webhooks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    pub account: ObjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<ObjectId>,
    /// When it happened, in the account's time (a sandbox clock's, there).
    pub timestamp: HttpDate,
    /// Ids and states only: never a name, an identity number or an address.
    pub data: Value,
}

impl Event {
    pub fn new(
        kind: &str,
        account: ObjectId,
        creditor: Option<ObjectId>,
        timestamp: HttpDate,
        data: Value,
    ) -> Event {
        Event {
            kind: kind.to_string(),
            account,
            creditor,
            timestamp,
            data,
        }
    }

    /// The body sent: `{"type", "timestamp", "data"}` (Standard Webhooks' payload shape),
    /// `timestamp` in RFC 3339.
    pub fn body(&self) -> Value {
        let mut data = self.data.clone();
        if let Value::Object(m) = &mut data {
            m.insert("account".into(), json!(self.account.to_hex()));
            if let Some(c) = self.creditor {
                m.insert("creditor".into(), json!(c.to_hex()));
            }
        }
        json!({
            "type": self.kind,
            "timestamp": self.timestamp.rfc3339(),
            "data": data,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx; `next_attempt` says when it is tried again.
    Pending,
    Delivered,
    /// Every attempt of the schedule failed (about three days); `POST …/retry` sends it again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// One try at sending a delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryAttempt {
    /// Real time.
    pub date: HttpDate,
    /// The receiver's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Why it failed without an answer (refused, timed out, an address not allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The start of the answer's body (at most 200 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// `/webhook--deliveries`: one event for one webhook, and every attempt to send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookDelivery {
    /// Also the `webhook-id` header: the same on every attempt, so receivers can drop
    /// a delivery they have already handled.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    /// The webhook's creditor (a creditor-bound API user sees its own webhooks' deliveries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<ObjectId>,
    pub webhook: ObjectId,
    pub url: String,
    /// The event's type.
    pub event: String,
    /// The body sent.
    pub payload: Value,
    pub status: DeliveryStatus,
    /// Attempts so far (the last 20 are kept in `attempts`).
    pub attempt_count: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<DeliveryAttempt>,
    /// When it is next tried (real time), while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<HttpDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<HttpDate>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// Attempts kept in a delivery's document.
const ATTEMPTS_KEPT: usize = 20;

/// Seconds to wait after the `n`th failed attempt (1-based) before the next; `None` when
/// the schedule is over. Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h:
/// the tenth and last attempt about three days after the first.
pub fn retry_delay(failed_attempts: u32) -> Option<i64> {
    const SCHEDULE: &[i64] = &[5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400];
    SCHEDULE
        .get(failed_attempts.checked_sub(1)? as usize)
        .copied()
}

impl WebhookDelivery {
    pub fn new(id: ObjectId, hook: &Webhook, event: &Event, now_real: HttpDate) -> WebhookDelivery {
        WebhookDelivery {
            id,
            account: hook.account,
            creditor: hook.creditor,
            webhook: hook.id,
            url: hook.url.clone(),
            event: event.kind.clone(),
            payload: event.body(),
            status: DeliveryStatus::Pending,
            attempt_count: 0,
            attempts: vec![],
            next_attempt: Some(now_real),
            delivered: None,
            created: now_real,
            updated: now_real,
            etag: String::new(),
        }
    }

    /// Records an attempt: 2xx delivers; anything else waits for the next in the schedule,
    /// or fails when the schedule is over.
    pub fn record(&mut self, attempt: DeliveryAttempt) {
        let ok = attempt.status_code.is_some_and(|s| (200..300).contains(&s));
        let at = attempt.date;
        self.attempt_count += 1;
        self.attempts.push(attempt);
        if self.attempts.len() > ATTEMPTS_KEPT {
            self.attempts.remove(0);
        }
        self.updated = at;
        if ok {
            self.status = DeliveryStatus::Delivered;
            self.delivered = Some(at);
            self.next_attempt = None;
        } else if let Some(wait) = retry_delay(self.attempt_count) {
            self.status = DeliveryStatus::Pending;
            self.next_attempt = Some(at.plus_seconds(wait));
        } else {
            self.status = DeliveryStatus::Failed;
            self.next_attempt = None;
        }
    }

    /// Sends it again now, with a fresh schedule (`POST /webhook--deliveries/{id}/retry`).
    pub fn retry(&mut self, now_real: HttpDate) {
        self.status = DeliveryStatus::Pending;
        self.next_attempt = Some(now_real);
        self.attempt_count = 0;
        self.updated = now_real;
    }
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret(bytes: [u8; 32]) -> String {
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's bytes, of `{id}.{timestamp}.{body}`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_the_standard_webhooks_reference() {
        // The test vector of the Standard Webhooks libraries.
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn the_schedule_lasts_about_three_days() {
        let total: i64 = (1..).map_while(retry_delay).sum();
        assert!((3 * 86_400..4 * 86_400).contains(&total), "{total}");
        assert_eq!(retry_delay(1), Some(5));
        assert_eq!(retry_delay(0), None);
        assert_eq!(retry_delay(9), Some(86_400));
        assert_eq!(retry_delay(10), None);
    }

    fn delivery() -> WebhookDelivery {
        let t = HttpDate::from_unix(1_700_000_000).unwrap();
        let hook = Webhook {
            id: ObjectId::at(1),
            account: ObjectId::at(2),
            creditor: None,
            url: "https://example.com/hook".into(),
            events: vec![CASE_CLOSED.into()],
            active: true,
            description: None,
            created: t,
            updated: t,
            etag: String::new(),
        };
        let event = Event::new(
            CASE_CLOSED,
            hook.account,
            Some(ObjectId::at(3)),
            t,
            json!({"case": "x"}),
        );
        assert!(hook.wants(&event));
        WebhookDelivery::new(ObjectId::at(4), &hook, &event, t)
    }

    fn attempt(at: i64, status: Option<u16>) -> DeliveryAttempt {
        DeliveryAttempt {
            date: HttpDate::from_unix(at).unwrap(),
            status_code: status,
            error: status.is_none().then(|| "connection refused".into()),
            duration_ms: 1,
            response: None,
        }
    }

    #[test]
    fn a_failed_attempt_waits_and_a_2xx_delivers() {
        let mut d = delivery();
        d.record(attempt(1_700_000_000, None));
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!(d.next_attempt.unwrap().unix(), 1_700_000_005);
        d.record(attempt(1_700_000_005, Some(500)));
        assert_eq!(d.next_attempt.unwrap().unix(), 1_700_000_305);
        d.record(attempt(1_700_000_305, Some(204)));
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(d.next_attempt, None);
        assert_eq!(d.attempt_count, 3);
    }

    #[test]
    fn the_end_of_the_schedule_fails_and_a_retry_starts_again() {
        let mut d = delivery();
        for i in 0..10 {
            d.record(attempt(1_700_000_000 + i, Some(503)));
        }
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert_eq!(d.next_attempt, None);
        d.retry(HttpDate::from_unix(1_800_000_000).unwrap());
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!(d.next_attempt.unwrap().unix(), 1_800_000_000);
        d.record(attempt(1_800_000_000, Some(200)));
        assert_eq!(d.status, DeliveryStatus::Delivered);
    }

    #[test]
    fn a_creditors_webhook_hears_only_its_creditor() {
        let t = HttpDate::from_unix(1_700_000_000).unwrap();
        let mut hook = Webhook {
            id: ObjectId::at(1),
            account: ObjectId::at(2),
            creditor: Some(ObjectId::at(3)),
            url: "https://example.com/hook".into(),
            events: vec![CASE_CLOSED.into(), PAYMENT_UNMATCHED.into()],
            active: true,
            description: None,
            created: t,
            updated: t,
            etag: String::new(),
        };
        let mine = Event::new(CASE_CLOSED, hook.account, hook.creditor, t, json!({}));
        let theirs = Event::new(
            CASE_CLOSED,
            hook.account,
            Some(ObjectId::at(9)),
            t,
            json!({}),
        );
        let agency = Event::new(PAYMENT_UNMATCHED, hook.account, None, t, json!({}));
        let other_kind = Event::new(
            CASE_STATE_CHANGED,
            hook.account,
            hook.creditor,
            t,
            json!({}),
        );
        assert!(hook.wants(&mine));
        assert!(!hook.wants(&theirs));
        assert!(!hook.wants(&agency));
        assert!(!hook.wants(&other_kind));
        hook.active = false;
        assert!(!hook.wants(&mine));
    }
}
