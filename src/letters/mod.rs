//! Letters: the flow queues a letter in the case's transaction (a `queued` document in
//! `/case--letters` and an outbox job holding what the letter says); after the commit the
//! worker typesets it with Typst from a template, stores the PDF through the media store and
//! marks the letter `rendered`. Templates are files an operator can replace, for every
//! creditor or for one (docs/letters.md).

pub mod typeset;

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::cases::{LetterJob, LETTER_JOB};
use crate::clocks::Clocks;
use crate::domain::case::{Case, MediaRef};
use crate::domain::flow::LetterKind;
use crate::domain::interest::percent_sv;
use crate::domain::letter::{CaseLetter, LetterStatus};
use crate::domain::party::{Address, Creditor, Customer};
use crate::domain::registration::OcrNumber;
use crate::domain::{Money, ObjectId};
use crate::eve::{Filter, Val};
use crate::media::Media;
use crate::resources::{CASES, CASE_LETTERS, CREDITORS, CUSTOMERS, OCR_NUMBERS};
use crate::store::{prepare_document, OutboxJob, Store, StoreError};
use crate::tenancy::Scope;

/// The default template, embedded in the binary.
pub const DEFAULT_TEMPLATE: &str = include_str!("templates/letter.typ");

/// Who sends the letters and where debtors pay: printed on every letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agency {
    pub name: String,
    pub org_no: String,
    /// Postal address, one line per entry.
    pub address: Vec<String>,
    pub email: String,
    pub phone: String,
    /// The agency's bankgiro number, where debtors pay with the case's OCR reference.
    pub bankgiro: String,
}

/// The sandbox default bankgiro: the payee of Bankgirot's own BgMax example files.
pub const SANDBOX_BANKGIRO: &str = "991-2346";

impl Default for Agency {
    fn default() -> Self {
        Agency {
            name: "Indriva Inkasso (sandbox)".into(),
            org_no: "559000-0000".into(),
            address: vec!["Box 100".into(), "111 21 Stockholm".into()],
            email: "inkasso@example.se".into(),
            phone: "08-000 00 00".into(),
            bankgiro: SANDBOX_BANKGIRO.into(),
        }
    }
}

/// Where templates are looked for, most specific first:
/// `<dir>/<creditor id>/<kind>.typ`, `<dir>/<creditor id>/letter.typ`, `<dir>/<kind>.typ`,
/// `<dir>/letter.typ`, then the built-in [`DEFAULT_TEMPLATE`].
#[derive(Clone, Debug, Default)]
pub struct Templates {
    pub dir: Option<PathBuf>,
}

impl Templates {
    pub fn for_letter(&self, creditor: &ObjectId, kind: LetterKind) -> String {
        if let Some(dir) = &self.dir {
            let c = creditor.to_hex();
            let kind = format!("{}.typ", kind.as_str());
            for path in [
                dir.join(&c).join(&kind),
                dir.join(&c).join("letter.typ"),
                dir.join(&kind),
                dir.join("letter.typ"),
            ] {
                if let Ok(t) = std::fs::read_to_string(&path) {
                    return t;
                }
            }
        }
        DEFAULT_TEMPLATE.to_string()
    }
}

fn title(kind: LetterKind) -> &'static str {
    match kind {
        LetterKind::Reminder => "Betalningspåminnelse",
        LetterKind::DebtCollection => "Inkassokrav",
        LetterKind::DebtStatement => "Skuldbesked",
        LetterKind::DebtSurveillance => "Kravbrev",
    }
}

/// What a ledger tag is called on a letter.
pub fn fee_label(tag: &str) -> String {
    use crate::domain::ledger::tags;
    match tag {
        tags::REMINDER_FEE => "Påminnelseavgift".into(),
        tags::DEBT_COLLECTION_FEE => "Inkassoavgift".into(),
        tags::LATE_PAYMENT_COMPENSATION => "Förseningsersättning".into(),
        tags::PAYMENT_PLAN_FEE => "Avgift för avbetalningsplan".into(),
        tags::ENFORCEMENT_APPLICATION_FEE => "Ansökningsavgift, Kronofogden".into(),
        tags::ENFORCEMENT_OWN_WORK_FEE => {
            "Ersättning för eget arbete, betalningsföreläggande".into()
        }
        t if t.starts_with(tags::FEE_ALREADY_CLAIMED) => {
            match &t[tags::FEE_ALREADY_CLAIMED.len()..] {
                "reminder" => "Påminnelseavgift (borgenären)".into(),
                "debt_collection" => "Inkassoavgift (borgenären)".into(),
                other => format!("Avgift (borgenären): {other}"),
            }
        }
        other => other.to_string(),
    }
}

fn address_lines(a: &Address) -> Vec<String> {
    let zip = a.zip_code.replace(' ', "");
    let zip = if zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {}", &zip[..3], &zip[3..])
    } else {
        a.zip_code.clone()
    };
    let mut lines = vec![a.address_line_1.clone(), format!("{zip} {}", a.city)];
    if a.country != "SE" {
        lines.push(a.country.clone());
    }
    lines
}

fn id_number_display(n: &str) -> String {
    match n.len() {
        10 => format!("{}-{}", &n[..6], &n[6..]),
        12 => format!("{}-{}", &n[..8], &n[8..]),
        _ => n.to_string(),
    }
}

/// Everything a template receives as `/data.json` (docs/letters.md lists the fields).
pub fn letter_data(
    job: &LetterJob,
    case: &Case,
    debtor: Option<&Customer>,
    creditor: Option<&Creditor>,
    ocr: &str,
    agency: &Agency,
) -> Value {
    let o = &job.order;
    let mut lines = vec![
        json!({"label": "Kapital", "amount": o.capital.to_swedish()}),
        json!({"label": format!("Ränta till och med {}", o.sent.to_swedish_date()), "amount": o.interest.to_swedish()}),
    ];
    for (tag, amount) in &o.fees {
        lines.push(json!({"label": fee_label(tag), "amount": amount.to_swedish()}));
    }
    let due_date = case
        .debt
        .invoice_date
        .plus_days(case.debt.invoice_due_days_after_invoice_date);
    let creditor_address = creditor
        .and_then(|c| c.sender_address.as_ref().or(c.agreement_address.as_ref()))
        .map(address_lines)
        .unwrap_or_default();
    json!({
        "kind": o.kind.as_str(),
        "title": title(o.kind),
        "date": o.sent.to_swedish_date(),
        "pay_by": o.pay_by.to_swedish_date(),
        "reference_number": case.reference_number,
        "ocr": ocr,
        "bankgiro": agency.bankgiro,
        "agency": {
            "name": agency.name,
            "org_no": agency.org_no,
            "address": agency.address,
            "email": agency.email,
            "phone": agency.phone,
        },
        "creditor": {
            "name": case.creditor_name,
            "org_no": creditor.and_then(|c| c.organization_no.clone().or(c.non_swedish_organization_no.clone()))
                .map(|n| id_number_display(&n)).unwrap_or_default(),
            "address": creditor_address,
        },
        "debtor": {
            "name": debtor.map(|c| c.name.clone()).unwrap_or_else(|| case.debtor_name.clone()),
            "id_number": id_number_display(&case.debtor_id_number),
            "address": debtor.map(|c| address_lines(&c.address)).unwrap_or_default(),
        },
        "invoice": {
            "number": case.debt.invoice_number,
            "date": case.debt.invoice_date.to_swedish_date(),
            "due_date": due_date.to_swedish_date(),
            "description": case.debt.debt_description,
        },
        "lines": lines,
        "reduced": (o.reduced > Money::ZERO).then(|| o.reduced.to_swedish()),
        "total": o.total.to_swedish(),
        "interest": {
            "rate": percent_sv(o.interest_rate_bp),
            "basis": "Dröjsmålsränta enligt 6 § räntelagen: Riksbankens referensränta plus 8 procentenheter, beräknad per dag på obetalt kapital.",
            "periods": o.interest_periods.iter().map(|p| json!({
                "from": p.from.to_swedish_date(),
                "through": p.through.to_swedish_date(),
                "capital": p.capital.to_swedish(),
                "rate": percent_sv(p.rate_bp),
                "amount": p.amount.to_swedish(),
            })).collect::<Vec<_>>(),
        },
    })
}

/// Typesets queued letters (the outbox's `letter` jobs), and fans events out to webhooks
/// (its `event` jobs).
#[derive(Clone)]
pub struct Renderer {
    pub media: Media,
    pub templates: Templates,
    pub agency: Agency,
}

/// Outbox jobs taken per round.
const JOBS_PER_ROUND: i64 = 16;
/// How long a taken job is reserved for its worker.
const LEASE_SECS: i64 = 300;

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Document(e.to_string())
}

impl Renderer {
    /// Carries out up to a round of outbox jobs; how many it took.
    pub async fn run_once(&self, store: &Store, clocks: &Clocks) -> Result<usize, StoreError> {
        let now = clocks.real().unix();
        let jobs = store
            .outbox_claim(now, now + LEASE_SECS, JOBS_PER_ROUND)
            .await?;
        for job in &jobs {
            if job.kind == crate::webhooks::EVENT_JOB {
                // Fanned out and removed in one transaction: no event is lost or doubled.
                let mut tx = store.begin().await?;
                crate::webhooks::fan_out(&mut tx, &job.payload, clocks.real()).await?;
                tx.outbox_done(job.id).await?;
                tx.commit().await?;
                continue;
            }
            let result = match job.kind.as_str() {
                LETTER_JOB => self.render(store, clocks, job).await,
                other => Err(format!("unknown outbox job kind {other}")),
            };
            let mut tx = store.begin().await?;
            match result {
                Ok(()) => {
                    metrics::counter!("indriva_letters_rendered_total", "outcome" => "rendered")
                        .increment(1);
                    tx.outbox_done(job.id).await?
                }
                Err(e) => {
                    metrics::counter!("indriva_letters_rendered_total", "outcome" => "failed")
                        .increment(1);
                    // 1, 2, 4, … minutes, at most an hour.
                    let wait = 60 * (1i64 << (job.attempts.clamp(1, 7) - 1)).min(60);
                    tracing::error!(job = job.id, attempts = job.attempts, error = %e, "outbox job failed; it is retried");
                    tx.outbox_retry(job.id, now + wait, &e).await?;
                    if job.attempts >= 3 {
                        mark_failed(&mut tx, job).await?;
                    }
                }
            }
            tx.commit().await?;
        }
        Ok(jobs.len())
    }

    async fn render(&self, store: &Store, clocks: &Clocks, job: &OutboxJob) -> Result<(), String> {
        let lj: LetterJob = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let all = Scope::unrestricted();
        let load = |s: Option<crate::store::Row>| s.map(|r| r.doc);
        let case: Case = match load(
            store
                .get(&CASES, &all, &lj.case)
                .await
                .map_err(|e| e.to_string())?,
        ) {
            Some(doc) => serde_json::from_str(&doc).map_err(|e| e.to_string())?,
            // The case is gone (a sandbox reset): nothing to send.
            None => return Ok(()),
        };
        let debtor: Option<Customer> = load(
            store
                .get(&CUSTOMERS, &all, &case.customer)
                .await
                .map_err(|e| e.to_string())?,
        )
        .and_then(|d| serde_json::from_str(&d).ok());
        let creditor: Option<Creditor> = load(
            store
                .get(&CREDITORS, &all, &case.creditor)
                .await
                .map_err(|e| e.to_string())?,
        )
        .and_then(|d| serde_json::from_str(&d).ok());
        let ocr = ocr_of(store, &case).await.map_err(|e| e.to_string())?;
        let data = letter_data(
            &lj,
            &case,
            debtor.as_ref(),
            creditor.as_ref(),
            &ocr,
            &self.agency,
        )
        .to_string();
        let template = self.templates.for_letter(&case.creditor, lj.order.kind);
        let d = lj.order.sent.date();
        let today = (
            chrono::Datelike::year(&d),
            chrono::Datelike::month(&d) as u8,
            chrono::Datelike::day(&d) as u8,
        );
        let pdf = tokio::task::spawn_blocking(move || typeset::pdf(&template, &data, today))
            .await
            .map_err(|e| e.to_string())??;
        let key = format!("letters/{}/{}.pdf", case.id, lj.letter);
        let size = pdf.len() as i64;
        self.media
            .store
            .put(&self.media.path(&key), pdf.into())
            .await
            .map_err(|e| e.to_string())?;
        let file = MediaRef {
            id: key,
            filename: format!("{}-{}.pdf", lj.order.kind.as_str(), case.reference_number),
            content_type: "application/pdf".into(),
            size,
        };
        let now = clocks
            .now(store, &case.account)
            .await
            .map_err(|e| e.to_string())?;
        let mut tx = store.begin().await.map_err(|e| e.to_string())?;
        if let Some(row) = tx
            .get(&CASE_LETTERS, &all, &lj.letter)
            .await
            .map_err(|e| e.to_string())?
        {
            let mut letter: CaseLetter =
                serde_json::from_str(&row.doc).map_err(|e| e.to_string())?;
            letter.status = LetterStatus::Rendered;
            letter.file = Some(file);
            letter.updated = now.max(letter.updated);
            let doc = prepare_document(&CASE_LETTERS, &letter).map_err(|e| e.to_string())?;
            tx.replace(&CASE_LETTERS, doc, &row.etag)
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())
    }
}

/// The case's OCR reference.
pub async fn ocr_of(store: &Store, case: &Case) -> Result<String, StoreError> {
    let scope = Scope {
        account: Some(case.account),
        creditors: None,
    };
    let rows = store
        .find(
            &OCR_NUMBERS,
            &scope,
            &Filter::eq("case", Val::Oid(case.id)),
            1,
        )
        .await?;
    match rows.first() {
        Some(r) => Ok(serde_json::from_str::<OcrNumber>(&r.doc).map_err(err)?.ocr),
        None => Ok(String::new()),
    }
}

async fn mark_failed(tx: &mut crate::store::Tx<'_>, job: &OutboxJob) -> Result<(), StoreError> {
    let Ok(lj) = serde_json::from_str::<LetterJob>(&job.payload) else {
        return Ok(());
    };
    if let Some(row) = tx
        .get(&CASE_LETTERS, &Scope::unrestricted(), &lj.letter)
        .await?
    {
        let mut letter: CaseLetter = serde_json::from_str(&row.doc).map_err(err)?;
        if letter.status == LetterStatus::Queued {
            letter.status = LetterStatus::Failed;
            let doc = prepare_document(&CASE_LETTERS, &letter)?;
            tx.replace(&CASE_LETTERS, doc, &row.etag).await?;
        }
    }
    Ok(())
}
