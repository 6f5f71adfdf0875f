//! The case registration writer: one task writes every registration, in batches.
//!
//! Requests validate their bodies concurrently and hand the typed registration to the
//! registrar. The registrar takes whatever has queued up while the previous batch was being
//! written (up to [`MAX_BATCH`]) and writes it in **one transaction**: each check and each
//! table is one statement for the whole batch, and one `COMMIT` (one fsync) makes them all
//! durable. Every request gets its answer only after that commit, so every 201 is durable,
//! and a request's writes are all or nothing: a registration that fails a check writes
//! nothing, and the others in its batch are not affected by it.
//!
//! Registrations in one batch see each other exactly as if they had been written one after
//! the other, in the order they arrived: the second registration of an invoice number is a
//! duplicate of the first, the second request with an `Idempotency-Key` gets the first's
//! answer, and a customer registered twice is upserted twice.
//!
//! Why: on the embedded default every statement is a hand-off between the async runtime
//! and SQLite's thread. A registration takes about a dozen statements; written one request
//! per transaction, those hand-offs, not the disk, capped the rate at ≈ 900/s
//! (docs/PERFORMANCE.md). Batched, the statements are shared.
//!
//! If a batch fails as a whole (a database error), its registrations are written again one
//! per transaction, so one bad registration cannot fail the others.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::cases::{Engine, RuleBook};
use crate::domain::party::{Account, Creditor, Customer};
use crate::domain::registration::{open_case, CaseContext, CaseRegistration, OcrNumber};
use crate::domain::{ocr, HttpDate, ObjectId};
use crate::eve::validate::{must_exist, Issues};
use crate::eve::{Filter, Val};
use crate::resources::{ACCOUNTS, CASES, CASE_REGISTRATIONS, CREDITORS, CUSTOMERS, OCR_NUMBERS};
use crate::scope::Scope;
pub use crate::store::Idempotency;
use crate::store::{prepare_document, KeyRecord, Store, StoreError, Tx, UsedKey};

pub const INACTIVE_CREDITOR: &str =
    "creditor is not active; an inactive creditor cannot receive case registrations";
pub const KEY_REUSED: &str = "this Idempotency-Key was used with a different request body";

/// The first reference number handed out (the seeds' case has 48640).
const FIRST_REFERENCE_NUMBER: i64 = 100_000;
/// The most registrations written in one transaction.
pub const MAX_BATCH: usize = 64;
/// Registrations waiting for the writer before senders wait too.
const QUEUE: usize = 1024;

/// A validated registration, ready to be written.
pub struct Submission {
    /// The caller's scope: the creditor must be in it.
    pub scope: Scope,
    /// The caller's account (the registration's `account` is already checked against it).
    pub account: ObjectId,
    pub idempotency: Option<Idempotency>,
    /// Identity number canonical; `_id`, `_created` and `_updated` set.
    pub registration: CaseRegistration,
    pub now: HttpDate,
    /// Who submitted it (the batch is written by the registrar's task, not the request's).
    pub actor: crate::audit::Actor,
}

/// What became of a submission.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Written; the 201 body.
    Created(String),
    /// An earlier request with the same `Idempotency-Key` and body: its answer, again.
    Replayed { status: u16, body: String },
    /// Refused; nothing was written.
    Rejected(Issues),
    /// The caller's account no longer exists.
    UnknownAccount,
}

/// The handle requests submit registrations through (cheap to clone).
#[derive(Clone)]
pub struct Registrar {
    queue: mpsc::Sender<Job>,
    /// Batches that failed as a whole and were written one by one (for tests and metrics).
    fallbacks: Arc<std::sync::atomic::AtomicU64>,
}

struct Job {
    submission: Submission,
    reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

fn stopped() -> StoreError {
    StoreError::Document("the registration writer has stopped".into())
}

impl Registrar {
    /// Starts the writer task on the current Tokio runtime. It ends when the last handle is
    /// dropped, after writing what was queued.
    pub fn start(store: Arc<Store>, engine: Engine) -> Registrar {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let fallbacks = Arc::new(std::sync::atomic::AtomicU64::new(0));
        tokio::spawn(write_loop(store, engine, jobs, fallbacks.clone()));
        Registrar { queue, fallbacks }
    }

    /// How many batches failed as a whole and were written one registration at a time.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes a registration; returns once it is committed (or refused).
    pub async fn register(&self, submission: Submission) -> Result<Outcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { submission, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_loop(
    store: Arc<Store>,
    engine: Engine,
    mut queue: mpsc::Receiver<Job>,
    fallbacks: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch: Vec<&Submission> = jobs.iter().map(|j| &j.submission).collect();
        metrics::histogram!("indriva_registrar_batch_size").record(batch.len() as f64);
        let results: Vec<Result<Outcome, StoreError>> =
            match guarded(write(&store, &engine, &batch)).await {
                Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
                Err(e) if batch.len() == 1 => vec![Err(e)],
                Err(e) => {
                    fallbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(error = %e, registrations = batch.len(),
                        "a registration batch failed; writing its registrations one by one");
                    let mut results = Vec::with_capacity(batch.len());
                    for s in &batch {
                        let one = guarded(write(&store, &engine, std::slice::from_ref(s))).await;
                        results.push(one.and_then(|mut o| o.pop().ok_or_else(stopped)));
                    }
                    results
                }
            };
        for (job, result) in jobs.drain(..).zip(results) {
            // The requester may have gone away; its registration stands.
            let _ = job.reply.send(result);
        }
    }
}

/// A panic while writing a batch fails that batch, not the writer.
async fn guarded<T>(f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    match AssertUnwindSafe(f).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Document(
            "writing a registration batch panicked".into(),
        )),
    }
}

/// What pass one decided for a submission.
enum Decision {
    Done(Outcome),
    /// Accepted: the customer it is for.
    Open(ObjectId),
    /// The same key and body as an accepted submission earlier in the batch.
    SameAs(usize),
}

/// The fields of an open case the duplicate check needs.
#[derive(Deserialize)]
struct OpenInvoice {
    account: ObjectId,
    creditor: ObjectId,
    debt: InvoiceNumber,
}

#[derive(Deserialize)]
struct InvoiceNumber {
    invoice_number: String,
}

type InvoiceKey = (ObjectId, ObjectId, String);
type CustomerKey = (ObjectId, String);

/// Writes a batch in one transaction; one outcome per submission, in order. (The writer task
/// calls this; it is public for callers that already hold a batch, and for tests.)
pub async fn write(
    store: &Store,
    engine: &Engine,
    batch: &[&Submission],
) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = store.begin().await?;
    let mut rules = RuleBook::new();
    tx.lock_keys(&lock_keys(batch)).await?;

    // Everything the checks need, one statement each for the whole batch.
    let key_ids: Vec<(ObjectId, String)> = batch
        .iter()
        .filter_map(|s| s.idempotency.as_ref().map(|k| (s.account, k.key.clone())))
        .collect();
    let used = tx.used_idempotency_keys(&key_ids).await?;
    let accounts_in = || ids_in("account", batch.iter().map(|s| s.account));
    let creditors: HashMap<ObjectId, Creditor> = load::<Creditor>(
        &mut tx,
        &CREDITORS,
        ids_in("_id", batch.iter().map(|s| s.registration.creditor)),
        true,
    )
    .await?
    .into_iter()
    .map(|c| (c.id, c))
    .collect();
    let accounts: HashMap<ObjectId, Account> = load::<Account>(
        &mut tx,
        &ACCOUNTS,
        ids_in("_id", batch.iter().map(|s| s.account)),
        false,
    )
    .await?
    .into_iter()
    .map(|a| (a.id, a))
    .collect();
    let open_filter = Filter::And(vec![
        accounts_in(),
        texts_in(
            "debt.invoice_number",
            batch
                .iter()
                .flat_map(|s| s.registration.debts.iter().map(|d| &d.invoice_number)),
        ),
        Filter::missing("closed"),
    ]);
    let mut open: HashSet<InvoiceKey> = load::<OpenInvoice>(&mut tx, &CASES, open_filter, false)
        .await?
        .into_iter()
        .map(|c| (c.account, c.creditor, c.debt.invoice_number))
        .collect();
    let customer_filter = Filter::And(vec![
        accounts_in(),
        texts_in(
            "id_number",
            batch.iter().map(|s| &s.registration.customer.id_number),
        ),
    ]);
    let mut customers: HashMap<CustomerKey, Customer> =
        load::<Customer>(&mut tx, &CUSTOMERS, customer_filter, false)
            .await?
            .into_iter()
            .map(|c| ((c.account, c.id_number.clone()), c))
            .collect();

    // Pass one, in arrival order: accept or refuse each submission.
    let mut changed: Vec<CustomerKey> = Vec::new();
    let mut keys_in_batch: HashMap<(ObjectId, &str), (usize, &str)> = HashMap::new();
    let mut decisions = Vec::with_capacity(batch.len());
    for (i, s) in batch.iter().enumerate() {
        if let Some(k) = &s.idempotency {
            if let Some(u) = used.get(&(s.account, k.key.clone())) {
                decisions.push(Decision::Done(answer_again(u, &k.request_hash)));
                continue;
            }
            if let Some(&(first, hash)) = keys_in_batch.get(&(s.account, k.key.as_str())) {
                decisions.push(if hash == k.request_hash {
                    Decision::SameAs(first)
                } else {
                    Decision::Done(Outcome::Rejected(key_reused()))
                });
                continue;
            }
        }
        let issues = check(s, &creditors, &open);
        if !issues.is_empty() {
            decisions.push(Decision::Done(Outcome::Rejected(issues)));
            continue;
        }
        if !accounts.contains_key(&s.account) {
            decisions.push(Decision::Done(Outcome::UnknownAccount));
            continue;
        }
        let reg = &s.registration;
        for d in &reg.debts {
            open.insert((reg.account, reg.creditor, d.invoice_number.clone()));
        }
        let customer = upsert_customer(&mut customers, &mut changed, s);
        if let Some(k) = &s.idempotency {
            keys_in_batch.insert((s.account, &k.key), (i, &k.request_hash));
        }
        decisions.push(Decision::Open(customer));
    }

    // Pass two: number and build what the accepted submissions write.
    let debts: usize = batch
        .iter()
        .zip(&decisions)
        .filter(|(_, d)| matches!(d, Decision::Open(_)))
        .map(|(s, _)| s.registration.debts.len())
        .sum();
    let (mut reference, mut sequence) = if debts > 0 {
        let n = debts as i64;
        (
            tx.reserve_numbers("case_reference_number", FIRST_REFERENCE_NUMBER, n)
                .await?,
            tx.reserve_numbers("ocr_sequence", 1, n).await?,
        )
    } else {
        (0, 0)
    };
    let mut registrations = Vec::new();
    let mut cases = Vec::with_capacity(debts);
    let mut ocrs = Vec::with_capacity(debts);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(batch.len());
    for (s, decision) in batch.iter().zip(decisions) {
        let outcome = match decision {
            Decision::Done(o) => o,
            Decision::SameAs(first) => match &outcomes[first] {
                Outcome::Created(body) => Outcome::Replayed {
                    status: 201,
                    body: body.clone(),
                },
                _ => return Err(StoreError::Document("replay of an unwritten answer".into())),
            },
            Decision::Open(customer) => {
                let mut reg = s.registration.clone();
                let creditor = creditors
                    .get(&reg.creditor)
                    .ok_or_else(|| StoreError::Document("checked creditor vanished".into()))?;
                let account = accounts
                    .get(&s.account)
                    .ok_or_else(|| StoreError::Document("checked account vanished".into()))?;
                let (_, flow) = rules.rules(&mut tx, &reg.creditor).await?;
                for i in 0..reg.debts.len() {
                    let case = open_case(
                        &reg,
                        i,
                        &CaseContext {
                            id: ObjectId::at(s.now.unix()),
                            customer,
                            creditor,
                            case_settings: account.case_settings.clone(),
                            reference_number: reference.to_string(),
                            flow: &flow,
                            now: s.now,
                        },
                    );
                    let ocr = OcrNumber {
                        id: ObjectId::at(s.now.unix()),
                        account: reg.account,
                        creditor: reg.creditor,
                        case: case.id,
                        ocr: ocr::reference(s.now, sequence.unsigned_abs()),
                        created: s.now,
                        updated: s.now,
                        etag: String::new(),
                    };
                    reference += 1;
                    sequence += 1;
                    reg.cases.push(case.id);
                    reg.ocr_numbers.push(ocr.id);
                    reg.ocr_numbers_ocr.push(ocr.ocr.clone());
                    cases.push(crate::cases::opened(
                        case,
                        crate::cases::EffectWrites::default(),
                        s.now,
                        engine,
                    )?);
                    ocrs.push(prepare_document(&OCR_NUMBERS, &ocr)?);
                }
                let mut written: Vec<String> = vec![reg.id.to_hex(), customer.to_hex()];
                written.extend(reg.cases.iter().chain(&reg.ocr_numbers).map(|i| i.to_hex()));
                tx.on_behalf_of(&s.actor, &written);
                let doc = prepare_document(&CASE_REGISTRATIONS, &reg)?;
                let body = json!({
                    "_updated": s.now.to_string(),
                    "_created": s.now.to_string(),
                    "_etag": doc.etag,
                    "_id": reg.id.to_hex(),
                    "_status": "OK",
                    "_cases": reg.cases,
                    "_ocr_numbers": reg.ocr_numbers,
                    "_ocr_numbers_ocr": reg.ocr_numbers_ocr,
                })
                .to_string();
                registrations.push(doc);
                Outcome::Created(body)
            }
        };
        outcomes.push(outcome);
    }

    // The writes: one statement per table.
    let mut customer_docs = Vec::with_capacity(changed.len());
    for key in &changed {
        if let Some(c) = customers.get(key) {
            customer_docs.push(prepare_document(&CUSTOMERS, c)?);
        }
    }
    tx.upsert(&CUSTOMERS, customer_docs).await?;
    tx.insert(&CASE_REGISTRATIONS, registrations).await?;
    // Opened through the case path (no effects yet: the first flow item is the worker's).
    if let Some(first) = batch.first() {
        crate::cases::write_all(&mut tx, cases, first.now)
            .await
            .map_err(|e| match e {
                crate::cases::MutateError::Store(e) => e,
                other => StoreError::Document(other.to_string()),
            })?;
    }
    tx.insert(&OCR_NUMBERS, ocrs).await?;
    let answers: Vec<(&Submission, UsedKey)> = batch
        .iter()
        .zip(&outcomes)
        .filter_map(|(s, o)| match (o, &s.idempotency) {
            (Outcome::Created(body), Some(k)) => Some((
                *s,
                UsedKey {
                    request_hash: k.request_hash.clone(),
                    status: 201,
                    response: body.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    let records: Vec<KeyRecord<'_>> = answers
        .iter()
        .filter_map(|(s, used)| {
            s.idempotency.as_ref().map(|k| KeyRecord {
                account: &s.account,
                key: &k.key,
                used,
                created: s.now.unix(),
            })
        })
        .collect();
    tx.record_idempotency_keys(&records).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// The logical keys a batch writes under (PostgreSQL locks them; see [`Tx::lock_keys`]).
fn lock_keys(batch: &[&Submission]) -> Vec<String> {
    let mut keys = Vec::new();
    for s in batch {
        let reg = &s.registration;
        if let Some(k) = &s.idempotency {
            keys.push(format!("idempotency:{}:{}", s.account, k.key));
        }
        for d in &reg.debts {
            keys.push(format!("invoice:{}:{}", reg.creditor, d.invoice_number));
        }
        keys.push(format!("customer:{}:{}", s.account, reg.customer.id_number));
    }
    keys
}

/// `{path: {"$in": ids}}` over the distinct ids.
fn ids_in(path: &str, ids: impl Iterator<Item = ObjectId>) -> Filter {
    let ids: BTreeSet<ObjectId> = ids.collect();
    Filter::any_of(path, ids.into_iter().map(Val::Oid).collect())
}

/// `{path: {"$in": texts}}` over the distinct texts.
fn texts_in<'a>(path: &str, texts: impl Iterator<Item = &'a String>) -> Filter {
    let texts: BTreeSet<&String> = texts.collect();
    Filter::any_of(
        path,
        texts.into_iter().map(|t| Val::Str(t.clone())).collect(),
    )
}

/// Documents of `res` matching `filter` (any account: the callers match them to their
/// submissions), typed.
async fn load<T: DeserializeOwned>(
    tx: &mut Tx<'_>,
    res: &crate::eve::Resource,
    filter: Filter,
    share: bool,
) -> Result<Vec<T>, StoreError> {
    tx.find_all(res, &Scope::unrestricted(), &filter, share)
        .await?
        .iter()
        .map(|row| serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string())))
        .collect()
}

fn key_reused() -> Issues {
    let mut issues = Issues::default();
    issues.add("Idempotency-Key", KEY_REUSED);
    issues
}

/// The recorded answer for a key, if this request's body is the one it was recorded for.
fn answer_again(used: &UsedKey, request_hash: &str) -> Outcome {
    if used.request_hash == request_hash {
        Outcome::Replayed {
            status: used.status,
            body: used.response.clone(),
        }
    } else {
        Outcome::Rejected(key_reused())
    }
}

/// The creditor must be the caller's, in scope and active; no debt's invoice number may
/// have an open case at that creditor.
fn check(
    s: &Submission,
    creditors: &HashMap<ObjectId, Creditor>,
    open: &HashSet<InvoiceKey>,
) -> Issues {
    let reg = &s.registration;
    let mut issues = Issues::default();
    match creditors
        .get(&reg.creditor)
        .filter(|c| s.scope.admits(&c.account, &c.id))
    {
        None => issues.add("creditor", must_exist(&reg.creditor.to_hex(), "creditors")),
        Some(c) if !c.is_active => issues.add("creditor", INACTIVE_CREDITOR),
        Some(_) => {}
    }
    for (i, d) in reg.debts.iter().enumerate() {
        if open.contains(&(s.account, reg.creditor, d.invoice_number.clone())) {
            issues.add(
                &format!("debts.{i}.invoice_number"),
                format!(
                    "invoice number {} already has an open case for this creditor",
                    d.invoice_number
                ),
            );
        }
    }
    issues
}

/// The customer for the submission's account and identity number: updated with the
/// registration's name and contact details if it exists, created if not. Returns its id.
fn upsert_customer(
    customers: &mut HashMap<CustomerKey, Customer>,
    changed: &mut Vec<CustomerKey>,
    s: &Submission,
) -> ObjectId {
    let c = &s.registration.customer;
    let is_person = match c.is_company {
        Some(company) => !company,
        None => c.id_number.len() == 12,
    };
    let key = (s.account, c.id_number.clone());
    if !changed.contains(&key) {
        changed.push(key.clone());
    }
    let customer = customers.entry(key).or_insert_with(|| Customer {
        id: ObjectId::at(s.now.unix()),
        account: s.account,
        name: c.name.clone(),
        id_number: c.id_number.clone(),
        is_person,
        customer_number: None,
        address: c.address.clone(),
        mobile_number: None,
        email: None,
        is_active: true,
        created: s.now,
        updated: s.now,
        etag: String::new(),
    });
    customer.name = c.name.clone();
    customer.address = c.address.clone();
    customer.is_person = is_person;
    if c.mobile_number.is_some() {
        customer.mobile_number = c.mobile_number.clone();
    }
    if c.email.is_some() {
        customer.email = c.email.clone();
    }
    if c.customer_number.is_some() {
        customer.customer_number = c.customer_number.clone();
    }
    customer.updated = s.now;
    customer.id
}
