//! Letters: the flow queues a letter in the case's transaction (a `queued` document in
//! `/case--letters` and a [`RenderLetter`] job holding what the letter says); after the
//! commit the worker typesets it with Typst from a template, stores the PDF through the media store and
//! marks the letter `rendered`. Templates are files an operator can replace, for every
//! creditor or for one (docs/letters.md).

pub mod typeset;

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::domain::case::{Case, MediaRef};
use crate::domain::flow::LetterKind;
use crate::domain::interest::percent_sv;
use crate::domain::letter::{CaseLetter, LetterStatus};
use crate::domain::party::{Address, Creditor, Customer};
use crate::domain::registration::OcrNumber;
use crate::domain::{HttpDate, Money, ObjectId};
use crate::eve::{Filter, Val};
use crate::jobs::{RenderLetter, Run};
use crate::media::Media;
use crate::resources::{CASES, CASE_LETTERS, CREDITORS, CUSTOMERS, OCR_NUMBERS};
use crate::scope::Scope;
use crate::store::{prepare_document, Store, StoreError};

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
        LetterKind::PaymentPlan => "Avbetalningsplan",
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

/// A word longer than this gets break opportunities (a zero-width space after every this
/// many characters), so a 200-character name wraps instead of running past the margin.
const LONGEST_WORD: usize = 30;

/// Every string of a letter's data made safe to print: characters that print nothing or
/// turn the text around them are dropped (the API refuses them; data written before it did
/// may hold them), and long words get places to break.
fn printable(v: &mut Value) {
    match v {
        Value::String(s) => {
            let mut out = String::with_capacity(s.len());
            let mut run = 0;
            for c in s.chars() {
                if crate::eve::validate::is_invisible_format(c) {
                    continue;
                }
                if c.is_whitespace() {
                    run = 0;
                } else {
                    if run == LONGEST_WORD {
                        out.push('\u{200B}');
                        run = 0;
                    }
                    run += 1;
                }
                out.push(c);
            }
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(printable),
        Value::Object(o) => o.values_mut().for_each(printable),
        _ => {}
    }
}

/// Everything a template receives as `/data.json` (docs/letters.md lists the fields), every
/// string [`printable`].
pub fn letter_data(
    job: &RenderLetter,
    case: &Case,
    debtor: Option<&Customer>,
    creditor: Option<&Creditor>,
    ocr: &str,
    agency: &Agency,
) -> Value {
    let mut data = raw_letter_data(job, case, debtor, creditor, ocr, agency);
    printable(&mut data);
    data
}

fn raw_letter_data(
    job: &RenderLetter,
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
    // Moved off a weekend or holiday as the engine moves it (lag 1930:173).
    let due_date = HttpDate::midnight(case.due_date());
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
        "plan": o.plan.as_ref().map(|p| json!({
            "monthly_amount": p.monthly_amount.to_swedish(),
            "first_due": p.first_due.to_swedish_date(),
        })),
        // After Kronofogden's verdict (utslag) the claim is settled law: a letter no longer
        // invites objections to it.
        "after_verdict": case
            .status_history
            .iter()
            .any(|s| s.status == crate::domain::case::CaseStatus::EnforcementActive),
        "interest": {
            // The computation to the öre, and what the letter charges of it (whole kronor,
            // rounded down): one explains the other, so both are named.
            "computed": o.interest_periods.iter().map(|p| p.amount).sum::<Money>().to_swedish(),
            "charged": o.interest.to_swedish(),
            "rate": percent_sv(o.interest_rate_bp),
            "basis": "Dröjsmålsränta enligt 6 § räntelagen: Riksbankens referensränta plus 8 procentenheter, beräknad per dag på obetalt kapital.",
            // A claim with no due date agreed in advance: the notice that interest will run,
            // and from when (räntelagen 4 §).
            "from": o.interest_from.map(|d| d.to_swedish_date()),
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

/// Typesets letters into PDFs ([`RenderLetter`] jobs) and stores them through the media
/// store.
#[derive(Clone)]
pub struct Renderer {
    pub media: Media,
    pub templates: Templates,
    pub agency: Agency,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Document(e.to_string())
}

/// A letter is marked `failed` after this many attempts (it is still retried).
const ATTEMPTS_BEFORE_FAILED: i64 = 3;

impl Renderer {
    /// Typesets a [`RenderLetter`] job's letter and stores its PDF through the media store:
    /// the file, or `None` when the case is gone (a sandbox reset: nothing to send). The
    /// letter is marked `rendered` by the caller, in the transaction that removes the job
    /// (`actions::letters`).
    pub async fn typeset(
        &self,
        store: &Store,
        lj: &RenderLetter,
    ) -> Result<Option<MediaRef>, String> {
        let result = self.typeset_and_store(store, lj).await;
        let outcome = if result.is_ok() { "rendered" } else { "failed" };
        metrics::counter!("indriva_letters_rendered_total", "outcome" => outcome).increment(1);
        result
    }

    async fn typeset_and_store(
        &self,
        store: &Store,
        lj: &RenderLetter,
    ) -> Result<Option<MediaRef>, String> {
        let all = Scope::unrestricted();
        let load = |s: Option<crate::store::Row>| s.map(|r| r.doc);
        let case: Case = match load(
            store
                .get(&CASES, &all, &lj.case)
                .await
                .map_err(|e| e.to_string())?,
        ) {
            Some(doc) => serde_json::from_str(&doc).map_err(|e| e.to_string())?,
            None => return Ok(None),
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
            lj,
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
        Ok(Some(MediaRef {
            id: key,
            filename: format!("{}-{}.pdf", lj.order.kind.as_str(), case.reference_number),
            content_type: "application/pdf".into(),
            size,
        }))
    }
}

/// After a failed attempt: the letter is marked `failed` once it has failed
/// [`ATTEMPTS_BEFORE_FAILED`] times (the job is still retried).
pub async fn after_failure(store: &Store, letter: &ObjectId, run: &Run) {
    if run.attempt >= ATTEMPTS_BEFORE_FAILED {
        if let Err(e) = mark_failed(store, letter).await {
            tracing::error!(letter = %letter, error = %e, "could not mark a letter failed");
        }
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

async fn mark_failed(store: &Store, letter: &ObjectId) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    if let Some(row) = tx
        .get(&CASE_LETTERS, &Scope::unrestricted(), letter)
        .await?
    {
        let mut letter: CaseLetter = serde_json::from_str(&row.doc).map_err(err)?;
        if letter.status == LetterStatus::Queued {
            letter.status = LetterStatus::Failed;
            let doc = prepare_document(&CASE_LETTERS, &letter)?;
            tx.replace(&CASE_LETTERS, doc, &row.etag).await?;
        }
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::apply::{Command, Ctx};
    use crate::domain::case::Case;
    use crate::domain::flow::FlowConfig;
    use crate::domain::interest::RateTable;
    use crate::domain::policy::CreditorPolicy;
    use crate::domain::{HttpDate, Money};

    /// `order` for `case` typeset with the default template: the PDF, and its text without
    /// whitespace (text extraction keeps the words, not their spacing).
    fn typeset_with_default(
        case: &Case,
        order: crate::domain::apply::LetterOrder,
    ) -> (Vec<u8>, String) {
        let kind = order.kind;
        let job = RenderLetter {
            letter: case.id,
            case: case.id,
            account: Some(case.account),
            order,
        };
        let data = letter_data(&job, case, None, None, "12345678", &Agency::default());
        let pdf = typeset::pdf(DEFAULT_TEMPLATE, &data.to_string(), (2025, 9, 5))
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let text = pdf_extract::extract_text_from_mem(&pdf)
            .unwrap()
            .split_whitespace()
            .collect();
        (pdf, text)
    }

    /// Every kind of letter typesets with the default template; the payment plan's says
    /// what to pay each month and from when.
    #[test]
    fn every_kind_of_letter_typesets_and_the_plan_letter_states_its_terms() {
        let mut case: Case =
            serde_json::from_str(crate::domain::case::tests::SEED_OPEN_CASE).unwrap();
        let now = HttpDate::parse_lenient("Fri, 05 Sep 2025 10:00:00 GMT").unwrap();
        let policy = CreditorPolicy::default();
        let ctx = Ctx {
            now,
            rates: RateTable::swedish(),
            policy: &policy,
            flow: FlowConfig::default_swedish(),
        };
        let applied = case
            .apply(
                Command::PaymentPlan {
                    monthly_amount: Money::from_kronor(500),
                    first_due: HttpDate::parse_lenient("Tue, 30 Sep 2025 00:00:00 GMT").unwrap(),
                },
                &ctx,
            )
            .unwrap();
        let order = applied
            .effects
            .iter()
            .find_map(|e| match e {
                crate::domain::apply::Effect::Letter { order, .. } => Some(order.clone()),
                _ => None,
            })
            .expect("the plan letter");
        for kind in LetterKind::ALL {
            let mut order = order.clone();
            order.kind = kind;
            if kind != LetterKind::PaymentPlan {
                order.plan = None;
            }
            let (pdf, text) = typeset_with_default(&case, order);
            assert!(
                text.contains(&title(kind).to_uppercase().replace(' ', "")),
                "{kind:?}: {text}"
            );
            // The interest as computed (15,89) and as charged (15,00), each named.
            assert!(
                text.contains("Beräknadränta15,89kr") && text.contains("nedåt:15,00kr"),
                "{kind:?}: {text}"
            );
            assert!(text.contains("Omduanserattkravetärfelaktigt"), "{kind:?}");
            if kind == LetterKind::PaymentPlan {
                // `INDRIVA_WRITE_LETTER=/tmp/plan.pdf cargo test --lib every_kind` keeps it.
                if let Ok(path) = std::env::var("INDRIVA_WRITE_LETTER") {
                    std::fs::write(path, &pdf).unwrap();
                }
                for expected in [
                    "500,00",
                    "kr",
                    "imånaden",
                    "30september2025",
                    "erkäntskulden",
                ] {
                    assert!(text.contains(expected), "{expected} not in: {text}");
                }
            }
        }
        // After Kronofogden's verdict a letter does not invite objections to the claim.
        case.status_history.push(crate::domain::case::StatusChange {
            status: crate::domain::case::CaseStatus::EnforcementActive,
            status_date: now,
        });
        let mut order = order.clone();
        order.kind = LetterKind::DebtSurveillance;
        order.plan = None;
        let (_, text) = typeset_with_default(&case, order);
        assert!(!text.contains("Omduanserattkravetärfelaktigt"), "{text}");
        assert!(text.contains("fastställdgenomutslag"), "{text}");
    }

    /// A claim with no due date agreed in advance: its first demand gives notice that
    /// interest will run and from which day (räntelagen 4 §).
    #[test]
    fn a_demand_without_an_agreed_due_date_says_from_when_interest_runs() {
        let mut case: Case =
            serde_json::from_str(crate::domain::case::tests::SEED_OPEN_CASE).unwrap();
        case.debt.due_date_agreed = false;
        let at = HttpDate::parse_lenient("Fri, 05 Sep 2025 10:00:00 GMT").unwrap();
        case.record_first_demand(at);
        let order = case.letter(LetterKind::DebtCollection, at, 10, RateTable::swedish());
        assert!(order.interest_periods.is_empty());
        let (pdf, text) = typeset_with_default(&case, order);
        // `INDRIVA_WRITE_LETTER_4=/tmp/demand.pdf cargo test --lib a_demand_without` keeps it.
        if let Ok(path) = std::env::var("INDRIVA_WRITE_LETTER_4") {
            std::fs::write(path, &pdf).unwrap();
        }
        assert!(
            text.contains("dröjsmålsräntaenligt4och6§§räntelagenfrånochmed5oktober2025"),
            "{text}"
        );
        assert!(text.contains("idag10,00%"), "{text}");
    }

    /// Issue 23 item 6: what prints nothing or reverses text is dropped from a letter's data,
    /// and a 200-character word gets places to break, so it wraps within the margin.
    #[test]
    fn letter_data_drops_text_direction_characters_and_breaks_long_words() {
        let mut case: Case =
            serde_json::from_str(crate::domain::case::tests::SEED_OPEN_CASE).unwrap();
        case.debt.invoice_number = "INV-77\u{202e}".into();
        case.debtor_name = "A".repeat(200);
        let at = HttpDate::parse_lenient("Fri, 05 Sep 2025 10:00:00 GMT").unwrap();
        let order = case.letter(LetterKind::DebtCollection, at, 10, RateTable::swedish());
        let job = RenderLetter {
            letter: case.id,
            case: case.id,
            account: Some(case.account),
            order: order.clone(),
        };
        let data = letter_data(&job, &case, None, None, "12345678", &Agency::default());
        assert_eq!(data["invoice"]["number"], "INV-77");
        let name = data["debtor"]["name"].as_str().unwrap();
        assert_eq!(name.replace('\u{200B}', ""), "A".repeat(200));
        assert!(name
            .split('\u{200B}')
            .all(|w| w.chars().count() <= LONGEST_WORD));
        // `INDRIVA_WRITE_LETTER_LONG=/tmp/long.pdf cargo test --lib letter_data_drops` keeps it.
        let (pdf, text) = typeset_with_default(&case, order);
        if let Ok(path) = std::env::var("INDRIVA_WRITE_LETTER_LONG") {
            std::fs::write(path, &pdf).unwrap();
        }
        assert!(text.contains("INV-77,"), "{text}");
    }
}
