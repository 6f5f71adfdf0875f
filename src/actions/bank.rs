//! Debtor payments from the agency's bank: a BgMax file is parsed whole, each payment's OCR
//! reference matched to its case, and the payment applied through the case's one change path
//! (costs, interest, capital in the creditor's order, as of the payment date). What cannot be
//! put on a case — no OCR reference, an unknown one, a closed case, the rest of an
//! overpayment — is kept as an unmatched payment for a person to match ([`match_payment`]).
//! The file, its report, the cases and the unmatched payments are written in one
//! transaction. The agency's operators only.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::{parse_case, transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::{self, MutateError, RuleBook};
use crate::domain::apply::{Command, Refusal};
use crate::domain::bank::{
    unmatched_reasons, BankFile, ImportedDeduction, ImportedPart, ImportedPayment, ManualMatch,
    PaymentOutcome, UnmatchedPayment, UnmatchedStatus, AGENCY_ACCOUNT,
};
use crate::domain::bgmax::{self, Payment, Section};
use crate::domain::registration::OcrNumber;
use crate::domain::{HttpDate, Money, ObjectId};
use crate::eve::filter::{Filter, Val};
use crate::resources::{BANK_FILES, CASES, OCR_NUMBERS, UNMATCHED_PAYMENTS};
use crate::scope::Scope;
use crate::store::{prepare_document, StoreError, Tx};

/// OCR references looked up per statement when a file is imported.
const OCR_LOOKUP_CHUNK: usize = 5_000;

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    pub file: BankFile,
    /// The same file (by content) was imported before: nothing was added.
    pub already_imported: bool,
}

/// The digits of a bankgiro number without leading zeros (`991-2346` → `9912346`).
pub fn bankgiro_digits(bg: &str) -> String {
    let digits: String = bg.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').to_string()
}

fn payment_key(s: &Section, p: &Payment) -> String {
    format!(
        "{}:{}:{}:{}",
        bankgiro_digits(&s.payee_bankgiro),
        s.payment_date.format("%Y%m%d"),
        s.deposit_serial,
        p.serial
    )
}

/// Imports a BgMax file paid into the agency's bankgiro. A file that does not parse, or
/// pays another bankgiro, is an issue on `file`; nothing is written.
pub async fn import(
    app: &App,
    actor: &Actor,
    name: &str,
    bytes: &[u8],
) -> Result<Imported, ActionError> {
    actor.require_agency()?;
    let parsed = bgmax::parse(bytes).map_err(|e| {
        ActionError::invalid("file", format!("the file is not a valid BgMax file: {e}"))
    })?;
    let expected = bankgiro_digits(&app.bankgiro);
    for s in &parsed.sections {
        let found = bankgiro_digits(&s.payee_bankgiro);
        if found != expected {
            return Err(ActionError::invalid(
                "file",
                format!(
                    "the file pays bankgiro {found}, not the agency's {}",
                    app.bankgiro
                ),
            ));
        }
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    transact(
        &app.store,
        actor,
        &Import {
            app,
            parsed: &parsed,
            name,
            sha256: &sha256,
        },
    )
    .await
}

struct Import<'a> {
    app: &'a App,
    parsed: &'a bgmax::BgMaxFile,
    name: &'a str,
    sha256: &'a str,
}

impl Attempt for Import<'_> {
    type Output = Imported;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Imported, Failure> {
        tx.lock_keys(&[format!("bank-file:{}", self.sha256)])
            .await?;
        let now = self.app.clocks.real();
        import_in(tx, self.app, self.parsed, self.name, self.sha256, now).await
    }
}

/// Which payment of its deposit each deduction was taken from, and what each payment lost.
struct Taken {
    /// Per deduction: the index of the payment, or `None` when no payment carries it.
    from: Vec<Option<usize>>,
    /// Per payment: the sum of the deductions taken from it.
    per_payment: Vec<Money>,
}

/// Nets a deposit's deductions (`21`) against its payments: each is taken from the first
/// payment with the same reference (and the same payer bankgiro when both are known) that
/// still has that much left. The deposit (`15`) is what reached the account, so a deduction
/// never counts as a payment, and the case is paid only what was not taken back.
fn net_deductions(section: &Section) -> Taken {
    let mut left: Vec<Money> = section.payments.iter().map(|p| p.amount).collect();
    let mut from = Vec::with_capacity(section.deductions.len());
    let known = |bg: &str| bg.chars().any(|c| c != '0');
    for d in &section.deductions {
        let i = section.payments.iter().enumerate().position(|(i, p)| {
            !d.reference.is_empty()
                && p.reference == d.reference
                && (!known(&p.payer_bankgiro)
                    || !known(&d.payer_bankgiro)
                    || p.payer_bankgiro == d.payer_bankgiro)
                && left[i] >= d.amount
        });
        if let Some(i) = i {
            left[i] -= d.amount;
        }
        from.push(i);
    }
    let per_payment = section
        .payments
        .iter()
        .zip(&left)
        .map(|(p, l)| p.amount - *l)
        .collect();
    Taken { from, per_payment }
}

/// What the import keeps for an operator: `amount` of the payment or deduction on `line`
/// (reference, reference code, payer bankgiro) of bank file `file`.
fn kept(
    file: ObjectId,
    now: HttpDate,
    paid: HttpDate,
    (line, reference, reference_code, payer_bankgiro): (usize, &str, u8, &str),
    amount: Money,
    reason: &str,
) -> UnmatchedPayment {
    UnmatchedPayment {
        id: ObjectId::at(now.unix()),
        account: AGENCY_ACCOUNT,
        bank_file: file,
        line: line as i64,
        reference: reference.to_string(),
        reference_code: i64::from(reference_code),
        amount,
        paid_amount: amount,
        payment_date: paid,
        reason: reason.into(),
        references: vec![],
        case: None,
        payer_name: None,
        payer_bankgiro: payer_bankgiro.to_string(),
        information: vec![],
        status: UnmatchedStatus::Unmatched,
        matches: vec![],
        created: now,
        updated: now,
        etag: String::new(),
    }
}

fn unmatched_event(
    u: &UnmatchedPayment,
    file: ObjectId,
    now: HttpDate,
) -> crate::domain::webhook::Event {
    crate::domain::webhook::Event::new(
        crate::domain::webhook::PAYMENT_UNMATCHED,
        AGENCY_ACCOUNT,
        None,
        now,
        serde_json::json!({
            "unmatched_payment": u.id.to_hex(),
            "bank_file": file.to_hex(),
            "amount": u.amount,
            "reason": u.reason,
        }),
    )
}

/// What a payment did to its case.
struct Settled {
    settled: Money,
    excess: Money,
}

/// Applies a debtor payment of `amount`, paid on `paid`, to case `id` (any account), at the
/// case's account time. `None` when the case is closed (nothing applied).
async fn pay_case(
    tx: &mut Tx<'_>,
    book: &mut RuleBook,
    app: &App,
    id: &ObjectId,
    amount: Money,
    paid: HttpDate,
) -> Result<Option<Settled>, Failure> {
    let Some(row) = tx.get(&CASES, &Scope::unrestricted(), id).await? else {
        return Ok(None);
    };
    let case = parse_case(&row)?;
    let now = app.clocks.time_in(tx, &case.account).await?.now;
    // A sandbox clock can stand before the bank's date: the payment counts from the
    // account's today at the latest.
    let paid = paid.min(now);
    let cmd = Command::DebtorPayment { amount, paid };
    match cases::prepare(tx, book, &app.engine, case, row.etag, now, cmd).await {
        Ok(p) => {
            let settled = Settled {
                settled: p.applied.settled,
                excess: p.applied.excess,
            };
            cases::write(tx, p, now).await?;
            Ok(Some(settled))
        }
        Err(MutateError::Refused(Refusal::Closed)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn import_in(
    tx: &mut Tx<'_>,
    app: &App,
    parsed: &bgmax::BgMaxFile,
    name: &str,
    sha256: &str,
    now: HttpDate,
) -> Result<Imported, Failure> {
    let everyone = Scope::unrestricted();
    let same = tx
        .find_all(
            &BANK_FILES,
            &everyone,
            &Filter::eq("sha256", Val::Str(sha256.to_string())),
            false,
        )
        .await?;
    if let Some(row) = same.into_iter().next() {
        let file: BankFile =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        return Ok(Imported {
            file,
            already_imported: true,
        });
    }

    let keys: Vec<String> = parsed.payments().map(|(s, p)| payment_key(s, p)).collect();
    // Two files with a payment in common, imported at once: the second waits and finds it.
    // Locked per deposit (a payment in common means a deposit in common): one lock per
    // payment would take PostgreSQL's lock table past its size in a large file.
    let mut deposits: Vec<String> = parsed
        .sections
        .iter()
        .map(|s| {
            format!(
                "bank-deposit:{}:{}:{}",
                bankgiro_digits(&s.payee_bankgiro),
                s.payment_date.format("%Y%m%d"),
                s.deposit_serial
            )
        })
        .collect();
    deposits.sort();
    deposits.dedup();
    tx.lock_keys(&deposits).await?;
    let known = tx.imported_bank_payments(&keys).await?;
    let ocrs: Vec<Val> = parsed
        .payments()
        .flat_map(|(_, p)| {
            p.ocr()
                .into_iter()
                .chain(p.parts.iter().filter_map(|x| x.ocr()))
        })
        .map(|o| Val::Str(o.to_string()))
        .collect();
    // In chunks: one bound value per reference, and a statement takes at most 32,766 on
    // SQLite (65,535 on PostgreSQL), where a file may carry many more payments.
    let mut cases_by_ocr: HashMap<String, ObjectId> = HashMap::new();
    for chunk in ocrs.chunks(OCR_LOOKUP_CHUNK) {
        let filter = Filter::any_of("ocr", chunk.to_vec());
        cases_by_ocr.extend(
            tx.find_all(&OCR_NUMBERS, &everyone, &filter, false)
                .await?
                .iter()
                .filter_map(|r| serde_json::from_str::<OcrNumber>(&r.doc).ok())
                .map(|o| (o.ocr, o.case)),
        );
    }

    let file_id = ObjectId::at(now.unix());
    let mut book = RuleBook::new();
    let mut report = Vec::new();
    let mut deductions = Vec::new();
    let mut unmatched = Vec::new();
    let mut events = Vec::new();
    let mut new_keys = Vec::new();
    let mut duplicate_amount = Money::ZERO;
    for section in &parsed.sections {
        let paid = HttpDate::midnight(section.payment_date);
        let taken = net_deductions(section);
        for (d, from) in section.deductions.iter().zip(&taken.from) {
            let mut line = ImportedDeduction {
                line: d.line as i64,
                reference: d.reference.clone(),
                amount: d.amount,
                code: i64::from(d.code),
                payment_line: from.map(|i| section.payments[i].line as i64),
                unmatched_payment: None,
            };
            if from.is_none() {
                let u = UnmatchedPayment {
                    case: d.ocr().and_then(|o| cases_by_ocr.get(o)).copied(),
                    ..kept(
                        file_id,
                        now,
                        paid,
                        (d.line, &d.reference, d.reference_code, &d.payer_bankgiro),
                        -d.amount,
                        unmatched_reasons::DEDUCTION,
                    )
                };
                line.unmatched_payment = Some(u.id);
                events.push(unmatched_event(&u, file_id, now));
                unmatched.push(u);
            }
            deductions.push(line);
        }
        for (i, p) in section.payments.iter().enumerate() {
            let key = payment_key(section, p);
            let deducted = taken.per_payment[i];
            let net = p.amount - deducted;
            let mut line = ImportedPayment {
                line: p.line as i64,
                reference: p.reference.clone(),
                amount: p.amount,
                outcome: PaymentOutcome::Unmatched,
                case: p.ocr().and_then(|o| cases_by_ocr.get(o)).copied(),
                settled_amount: Money::ZERO,
                deducted_amount: deducted,
                parts: vec![],
                unmatched_payment: None,
            };
            if known.contains(&key) || new_keys.contains(&key) {
                line.outcome = PaymentOutcome::Duplicate;
                duplicate_amount += net;
                report.push(line);
                continue;
            }
            new_keys.push(key);
            if net == Money::ZERO {
                line.outcome = PaymentOutcome::Deducted;
                report.push(line);
                continue;
            }
            // What goes where: a split payment's parts (and what is left for its own
            // reference), or the whole net amount to the payment's own reference.
            let split = p.is_split() && deducted == Money::ZERO;
            let mut targets: Vec<(i64, String, Option<&str>, Money)> = Vec::new();
            if split {
                let own = p.amount - p.parts.iter().map(|x| x.amount).sum::<Money>();
                if own > Money::ZERO {
                    targets.push((p.line as i64, p.reference.clone(), p.ocr(), own));
                }
                for x in &p.parts {
                    targets.push((x.line as i64, x.reference.clone(), x.ocr(), x.amount));
                }
            } else {
                targets.push((p.line as i64, p.reference.clone(), p.ocr(), net));
            }
            let mut rest = net;
            let mut reason = None;
            for (part_line, reference, ocr, amount) in targets {
                let case = ocr.and_then(|o| cases_by_ocr.get(o)).copied();
                let mut part = ImportedPart {
                    line: part_line,
                    reference,
                    amount,
                    case,
                    settled_amount: Money::ZERO,
                };
                let why = match (ocr, case) {
                    // A negative part, or one the money left cannot cover, waits for a person.
                    _ if amount <= Money::ZERO || amount > rest => Some(unmatched_reasons::SPLIT),
                    (None, _) => Some(unmatched_reasons::NO_OCR),
                    (Some(_), None) => Some(unmatched_reasons::UNKNOWN_OCR),
                    (Some(_), Some(id)) => {
                        match pay_case(tx, &mut book, app, &id, amount, paid).await? {
                            None => Some(unmatched_reasons::CASE_CLOSED),
                            Some(s) => {
                                part.settled_amount = s.settled;
                                rest -= s.settled;
                                (s.excess > Money::ZERO).then_some(unmatched_reasons::OVERPAYMENT)
                            }
                        }
                    }
                };
                reason = reason.or(why);
                line.settled_amount += part.settled_amount;
                if split {
                    line.parts.push(part);
                }
            }
            line.outcome = match (rest > Money::ZERO, line.settled_amount > Money::ZERO) {
                (false, _) => PaymentOutcome::Matched,
                (true, true) => PaymentOutcome::PartlyMatched,
                (true, false) => PaymentOutcome::Unmatched,
            };
            if rest > Money::ZERO {
                let u = UnmatchedPayment {
                    paid_amount: net,
                    references: if p.parts.is_empty() {
                        vec![]
                    } else {
                        p.references()
                    },
                    case: line.case,
                    payer_name: p.payer_name.clone(),
                    information: p.information.clone(),
                    ..kept(
                        file_id,
                        now,
                        paid,
                        (p.line, &p.reference, p.reference_code, &p.payer_bankgiro),
                        rest,
                        if split {
                            unmatched_reasons::SPLIT
                        } else {
                            reason.unwrap_or(unmatched_reasons::OVERPAYMENT)
                        },
                    )
                };
                line.unmatched_payment = Some(u.id);
                events.push(unmatched_event(&u, file_id, now));
                unmatched.push(u);
            }
            report.push(line);
        }
    }

    let count = |o: PaymentOutcome| report.iter().filter(|l| l.outcome == o).count() as i64;
    let file = BankFile {
        id: file_id,
        account: AGENCY_ACCOUNT,
        name: name.to_string(),
        sha256: sha256.to_string(),
        format: "bgmax".into(),
        payee_bankgiro: parsed
            .sections
            .first()
            .map(|s| bankgiro_digits(&s.payee_bankgiro))
            .unwrap_or_default(),
        written: parsed.written.clone(),
        test: parsed.test,
        payment_dates: parsed
            .sections
            .iter()
            .map(|s| HttpDate::midnight(s.payment_date))
            .collect(),
        payment_count: report.len() as i64,
        matched_count: count(PaymentOutcome::Matched) + count(PaymentOutcome::PartlyMatched),
        unmatched_count: count(PaymentOutcome::Unmatched),
        duplicate_count: count(PaymentOutcome::Duplicate),
        deduction_count: deductions.len() as i64,
        deposit_amount: parsed.sections.iter().map(|s| s.amount).sum(),
        settled_amount: report.iter().map(|l| l.settled_amount).sum(),
        unmatched_amount: unmatched.iter().map(|u| u.amount).sum(),
        duplicate_amount,
        deduction_amount: deductions.iter().map(|d| d.amount).sum(),
        payments: report,
        deductions,
        created: now,
        updated: now,
        etag: String::new(),
    };
    // Every öre of the deposits is accounted for before anything is written.
    let accounted = file.settled_amount + file.unmatched_amount + file.duplicate_amount;
    if accounted != file.deposit_amount {
        return Err(ActionError::invalid(
            "file",
            format!(
                "the import does not reconcile: settled {} + unmatched {} + imported before {} = {}, \
                 but the deposits are {}; nothing was imported",
                file.settled_amount,
                file.unmatched_amount,
                file.duplicate_amount,
                accounted,
                file.deposit_amount
            ),
        )
        .into());
    }
    let unmatched = unmatched
        .iter()
        .map(|u| prepare_document(&UNMATCHED_PAYMENTS, u))
        .collect::<Result<Vec<_>, _>>()?;
    tx.insert(&UNMATCHED_PAYMENTS, unmatched).await?;
    crate::webhooks::enqueue(tx, &events, now).await?;
    tx.record_bank_payments(&new_keys, &file_id.to_hex())
        .await?;
    let stored = prepare_document(&BANK_FILES, &file)?;
    let file = BankFile {
        etag: stored.etag.clone(),
        ..file
    };
    tx.insert(&BANK_FILES, vec![stored]).await?;
    Ok(Imported {
        file,
        already_imported: false,
    })
}

/// The unmatched payment as written after a manual match, and what its case took.
#[derive(Debug)]
pub struct Matched {
    pub payment: UnmatchedPayment,
    pub settled: Money,
}

/// Puts an unmatched payment on `case` by hand. What the case did not need stays unmatched
/// (its `amount` lowered); otherwise the payment is `matched`.
pub async fn match_payment(
    app: &App,
    actor: &Actor,
    id: &ObjectId,
    case: &ObjectId,
) -> Result<Matched, ActionError> {
    actor.require_agency()?;
    transact(
        &app.store,
        actor,
        &Match {
            app,
            id: *id,
            case: *case,
        },
    )
    .await
}

struct Match<'a> {
    app: &'a App,
    id: ObjectId,
    case: ObjectId,
}

impl Attempt for Match<'_> {
    type Output = Matched;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Matched, Failure> {
        let row = tx
            .get(&UNMATCHED_PAYMENTS, &Scope::unrestricted(), &self.id)
            .await?
            .ok_or(ActionError::NotFound("unmatched payment"))?;
        let mut payment: UnmatchedPayment =
            serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()))?;
        if payment.status == UnmatchedStatus::Matched {
            return Err(ActionError::invalid("case", "the payment was matched already").into());
        }
        if payment.amount <= Money::ZERO {
            return Err(ActionError::invalid(
                "case",
                format!(
                    "this is a deduction the bank made ({}), not a payment: there is nothing to put on a case",
                    payment.amount
                ),
            )
            .into());
        }
        if tx
            .get(&CASES, &Scope::unrestricted(), &self.case)
            .await?
            .is_none()
        {
            return Err(ActionError::invalid(
                "case",
                crate::eve::validate::must_exist(&self.case.to_hex(), "cases"),
            )
            .into());
        }
        let settled = pay_case(
            tx,
            &mut RuleBook::new(),
            self.app,
            &self.case,
            payment.amount,
            payment.payment_date,
        )
        .await?
        .ok_or_else(|| ActionError::invalid("case", "the case is closed"))?;
        let now = self.app.clocks.real();
        payment.matches.push(ManualMatch {
            case: self.case,
            settled_amount: settled.settled,
            date: now,
        });
        payment.amount = settled.excess;
        if settled.excess <= Money::ZERO {
            payment.status = UnmatchedStatus::Matched;
        }
        payment.updated = now;
        let stored = prepare_document(&UNMATCHED_PAYMENTS, &payment)?;
        payment.etag = stored.etag.clone();
        if !tx.replace(&UNMATCHED_PAYMENTS, stored, &row.etag).await? {
            return Err(Failure::Conflict);
        }
        Ok(Matched {
            payment,
            settled: settled.settled,
        })
    }
}
