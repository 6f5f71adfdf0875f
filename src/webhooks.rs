//! Webhooks, the I/O half (the rules are in [`crate::domain::webhook`]). An event a webhook
//! wants becomes a [`FanOutEvent`] job in the transaction of the change that made it
//! ([`enqueue`]); that job makes one delivery per webhook that wants it, each with its
//! [`DeliverWebhook`] job ([`fan_out`]), in one transaction with the job's removal; the
//! [`Sender`] runs those: it posts the delivery, signed, and records each attempt, retrying
//! on the schedule for about three days.
//!
//! Outgoing requests go only to `http(s)` URLs on public addresses unless the operator
//! allows private ones (`--webhook-allow-private`): the address is checked after the name
//! is resolved, and redirects are not followed, so a tenant cannot make the server call into
//! its own network.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clocks::Clocks;
use crate::domain::webhook::{DeliveryAttempt, DeliveryStatus, Event, Webhook, WebhookDelivery};
use crate::domain::{HttpDate, ObjectId};
use crate::eve::Filter;
use crate::jobs::{new_job, DeliverWebhook, FanOutEvent, Job, Next, Priority, Run};
use crate::resources::{WEBHOOKS, WEBHOOK_DELIVERIES};
use crate::scope::Scope;
use crate::store::{prepare_document, NewJob, Store, StoreError, Tx};

/// The outbox job kind of an event waiting to be fanned out.
pub const EVENT_JOB: &str = "event";

/// Enqueues a fan-out job for each event some webhook wants, inside the caller's
/// transaction (so an account without webhooks — most of them, and every bulk run over
/// them — costs one small indexed read per transaction, not a row per event).
pub async fn enqueue(tx: &mut Tx<'_>, events: &[Event], now: HttpDate) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut accounts: Vec<ObjectId> = events.iter().map(|e| e.account).collect();
    accounts.sort();
    accounts.dedup();
    let mut hooks: Vec<Webhook> = Vec::new();
    for account in accounts {
        let scope = Scope {
            account: Some(account),
            creditors: None,
        };
        for row in tx.find_all(&WEBHOOKS, &scope, &Filter::True, false).await? {
            hooks.push(
                serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?,
            );
        }
    }
    let jobs = events
        .iter()
        .filter(|e| hooks.iter().any(|h| h.account == e.account && h.wants(e)))
        .map(|e| new_job(&FanOutEvent(e.clone()), Priority::Now))
        .collect::<Result<Vec<_>, StoreError>>()?;
    crate::jobs::enqueue(tx, &jobs, now.unix()).await
}

/// Runs a [`FanOutEvent`] job: one delivery per webhook of the event's account that wants
/// it, each with its [`DeliverWebhook`] job, in one transaction with the job's removal (no
/// event is lost or doubled).
pub async fn fan_out(
    store: &Store,
    job: FanOutEvent,
    now_real: HttpDate,
    run: &Run,
) -> Result<Next, StoreError> {
    let event = job.0;
    let scope = Scope {
        account: Some(event.account),
        creditors: None,
    };
    let mut tx = store.begin().await?;
    let hooks = tx.find_all(&WEBHOOKS, &scope, &Filter::True, false).await?;
    let mut docs = Vec::new();
    let mut jobs = Vec::new();
    for row in hooks {
        let hook: Webhook =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        if hook.wants(&event) {
            let d = WebhookDelivery::new(ObjectId::at(now_real.unix()), &hook, &event, now_real);
            jobs.push(deliver_job(&d)?);
            docs.push(prepare_document(&WEBHOOK_DELIVERIES, &d)?);
        }
    }
    tx.insert(&WEBHOOK_DELIVERIES, docs).await?;
    crate::jobs::enqueue(&mut tx, &jobs, now_real.unix()).await?;
    run.finish_in(&mut tx).await?;
    tx.commit().await?;
    Ok(Next::Done)
}

/// The job that sends a delivery: one per delivery at a time (a second, for a retry asked
/// for by hand, is not inserted; see [`send_now`]).
pub fn deliver_job(d: &WebhookDelivery) -> Result<NewJob, StoreError> {
    let mut job = new_job(
        &DeliverWebhook {
            delivery: d.id,
            webhook: d.webhook,
            account: Some(d.account),
        },
        Priority::Now,
    )?;
    job.unique_key = Some(format!("{}:{}", DeliverWebhook::NAME, d.id));
    Ok(job)
}

/// Sends a delivery as soon as a worker can: its job is made due now, or made if there is
/// none (a failed or delivered delivery's retry).
pub async fn send_now(
    tx: &mut Tx<'_>,
    d: &WebhookDelivery,
    now: HttpDate,
) -> Result<(), StoreError> {
    let job = deliver_job(d)?;
    crate::jobs::enqueue(tx, std::slice::from_ref(&job), now.unix()).await?;
    if let Some(key) = &job.unique_key {
        tx.run_job_now(key).await?;
    }
    Ok(())
}

/// Whether an address is on the public internet (not loopback, private, link-local,
/// carrier-grade NAT, multicast, documentation or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() || v6.is_unspecified() {
                return false;
            }
            // An IPv4 address carried in an IPv6 one is judged as that IPv4 address.
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // site-local (deprecated, still routed inside some networks)
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// The IPv4 address an IPv6 address carries: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), 6to4
/// (`2002:aabb:ccdd::/48`) and Teredo (`2001:0::/32`, the client address inverted).
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| {
        std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        [0x2001, 0, _, _, _, _, hi, lo] => Some(v4(!hi, !lo)),
        _ => None,
    }
}

/// A webhook URL as given: `http` or `https`, with a host, no user name or password, and
/// (for an address written as such) a public address unless private ones are allowed.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    if raw.len() > 2000 {
        return Err("longer than 2000 characters".into());
    }
    let ip = match url.host() {
        None => return Err("has no host".into()),
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            (d == "localhost" || d.ends_with(".localhost")).then_some(IpAddr::from([127, 0, 0, 1]))
        }
    };
    if let Some(ip) = ip {
        if !allow_private && !is_public(ip) {
            return Err(format!(
                "{ip} is a loopback or private address; the server's operator can allow those with --webhook-allow-private"
            ));
        }
    }
    Ok(url)
}

/// Resolves names for the webhook client, keeping public addresses only (unless private
/// ones are allowed): the check happens on the address actually connected to.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} has no public address (private addresses are not allowed)")
                        .into();
                return Err(e);
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// How the sender behaves.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    pub allow_private: bool,
    /// Per attempt; a receiver slower than this counts as failed and is tried again.
    pub timeout: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        SenderSettings {
            allow_private: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Sends due deliveries.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    settings: SenderSettings,
}

impl Sender {
    pub fn new(settings: SenderSettings) -> anyhow::Result<Sender> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("Indriva-Webhooks/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            // Never through a proxy from the environment (HTTP_PROXY, HTTPS_PROXY,
            // ALL_PROXY): a proxy would resolve and connect for us, past the address guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .build()?;
        Ok(Sender { client, settings })
    }

    /// Runs a [`DeliverWebhook`] job: sends the delivery if it is still pending, records the
    /// attempt, and waits for the next attempt of its schedule while the receiver does not
    /// take it (the webhook's later deliveries wait behind it).
    pub async fn deliver_job(
        &self,
        job: DeliverWebhook,
        store: &Store,
        clocks: &Clocks,
    ) -> Result<Next, StoreError> {
        let Some(row) = store
            .get(&WEBHOOK_DELIVERIES, &Scope::unrestricted(), &job.delivery)
            .await?
        else {
            return Ok(Next::Done);
        };
        let d: WebhookDelivery =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        if d.status != DeliveryStatus::Pending {
            return Ok(Next::Done);
        }
        // The webhook and its secret; `None` once it is deleted.
        let hook: Option<Webhook> = store
            .get(&WEBHOOKS, &Scope::unrestricted(), &d.webhook)
            .await?
            .and_then(|r| serde_json::from_str(&r.doc).ok());
        let secret = store.webhook_secret(&d.webhook).await?;
        let target = hook.zip(secret);
        let webhook = d.webhook;
        match self
            .deliver(store, clocks, target.as_ref(), d, row.etag)
            .await?
        {
            Some(next) => {
                // The webhook's later deliveries wait behind this one (the runner holds their
                // jobs back): say so on them.
                wait_behind(store, &webhook, next).await?;
                Ok(Next::At(next.unix()))
            }
            None => Ok(Next::Done),
        }
    }

    /// Sends one delivery to its webhook (`None`: deleted) and records the attempt; when the
    /// receiver did not take it and it is to be tried again, when.
    async fn deliver(
        &self,
        store: &Store,
        clocks: &Clocks,
        target: Option<&(Webhook, String)>,
        mut d: WebhookDelivery,
        etag: String,
    ) -> Result<Option<HttpDate>, StoreError> {
        let attempt = match target {
            Some((hook, secret)) => {
                // A corrected URL is used from the next attempt on.
                d.url = hook.url.clone();
                self.attempt(&d, secret, clocks.real()).await
            }
            None => {
                // Deleted: nothing to send to, ever.
                d.record(DeliveryAttempt {
                    date: clocks.real(),
                    status_code: None,
                    error: Some("the webhook was deleted".into()),
                    duration_ms: 0,
                    response: None,
                });
                d.status = DeliveryStatus::Failed;
                d.next_attempt = None;
                save(store, &d, &etag).await?;
                return Ok(None);
            }
        };
        d.record(attempt);
        let outcome = match d.status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Pending => "retry",
            DeliveryStatus::Failed => "failed",
        };
        metrics::counter!("indriva_webhook_deliveries_total", "outcome" => outcome).increment(1);
        if d.status != DeliveryStatus::Delivered {
            let last = d.attempts.last();
            tracing::warn!(
                delivery = %d.id,
                webhook = %d.webhook,
                attempts = d.attempt_count,
                status_code = last.and_then(|a| a.status_code),
                error = last.and_then(|a| a.error.clone()),
                "webhook delivery failed"
            );
        }
        save(store, &d, &etag).await?;
        Ok(d.next_attempt)
    }

    /// One signed POST of the delivery's payload.
    async fn attempt(&self, d: &WebhookDelivery, secret: &str, now: HttpDate) -> DeliveryAttempt {
        let started = Instant::now();
        let mut attempt = DeliveryAttempt {
            date: now,
            status_code: None,
            error: None,
            duration_ms: 0,
            response: None,
        };
        let url = match check_url(&d.url, self.settings.allow_private) {
            Ok(u) => u,
            Err(e) => {
                attempt.error = Some(format!("the URL is not allowed: {e}"));
                return attempt;
            }
        };
        let body = d.payload.to_string();
        let msg_id = format!("msg_{}", d.id.to_hex());
        let ts = now.unix();
        let Some(signature) = crate::domain::webhook::signature(secret, &msg_id, ts, &body) else {
            attempt.error = Some("the webhook's secret is unreadable".into());
            return attempt;
        };
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(resp) => {
                attempt.status_code = Some(resp.status().as_u16());
                let text = tokio::time::timeout(Duration::from_secs(2), resp.text())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                let excerpt: String = text.chars().take(200).collect();
                attempt.response = (!excerpt.is_empty()).then_some(excerpt);
            }
            Err(e) => {
                attempt.error = Some(describe(e, self.settings.timeout));
            }
        }
        attempt.duration_ms = started.elapsed().as_millis() as u64;
        attempt
    }
}

/// A send error in words, without the URL (which the delivery already shows).
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} ms", timeout.as_millis());
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Moves the `next_attempt` of a webhook's pending deliveries due before `next` to `next`.
async fn wait_behind(store: &Store, webhook: &ObjectId, next: HttpDate) -> Result<(), StoreError> {
    let filter = Filter::And(vec![
        Filter::eq("webhook", crate::eve::Val::Oid(*webhook)),
        Filter::eq("status", crate::eve::Val::Str("pending".into())),
    ]);
    let rows = store
        .find(&WEBHOOK_DELIVERIES, &Scope::unrestricted(), &filter, 1000)
        .await?;
    for row in rows {
        let mut d: WebhookDelivery =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        if d.next_attempt.is_some_and(|t| t < next) {
            d.next_attempt = Some(next);
            save(store, &d, &row.etag).await?;
        }
    }
    Ok(())
}

async fn save(store: &Store, d: &WebhookDelivery, etag: &str) -> Result<(), StoreError> {
    let doc = prepare_document(&WEBHOOK_DELIVERIES, d)?;
    let mut tx = store.begin().await?;
    // Changed meanwhile (a retry asked for by hand): that one wins.
    if tx.replace(&WEBHOOK_DELIVERIES, doc, etag).await? {
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/hook",
            "http://localhost:8080/hook",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://172.16.5.4/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            // IPv4 carried in IPv6 (issue 23 item 3): compatible, translated, 6to4,
            // Teredo (client 127.0.0.1 inverted), site-local.
            "http://[::127.0.0.1]/",
            "http://[::ffff:0:7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:a00:1::1]/",
            "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
            "http://[fec0::1]/",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/indriva", false).is_ok());
        assert!(check_url("https://93.184.215.14/x", false).is_ok());
        // 6to4 of that public address is public too.
        assert!(check_url("https://[2002:5db8:d70e::1]/x", false).is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://u:p@example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
    }

    /// Issue 23 item 3: a proxy named in the server's environment is never used, so it
    /// cannot resolve and connect past the address guard for us.
    #[tokio::test]
    async fn the_sender_ignores_proxies_from_the_environment() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        async fn answer(listener: tokio::net::TcpListener, count: Arc<AtomicUsize>) {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let _ = conn
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            }
        }
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
        let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}/hook", receiver.local_addr().unwrap());
        let (proxied, received) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        tokio::spawn(answer(proxy, proxied.clone()));
        tokio::spawn(answer(receiver, received.clone()));
        let vars = [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "all_proxy",
        ];
        for v in vars {
            std::env::set_var(v, &proxy_url);
        }
        let sender = Sender::new(SenderSettings {
            allow_private: true,
            timeout: Duration::from_secs(5),
        });
        for v in vars {
            std::env::remove_var(v);
        }
        let r = sender.unwrap().client.post(&target).send().await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(received.load(Ordering::SeqCst), 1);
        assert_eq!(proxied.load(Ordering::SeqCst), 0, "went through the proxy");
    }
}
