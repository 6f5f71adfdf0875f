//! Pseudonymising personal data once the law no longer requires it to be kept (GDPR; a
//! Swedish collection agency answers to IMY): for cases closed long enough ago — by default
//! seven years after the end of the year the case closed, as the Bookkeeping Act
//! (bokföringslagen 1999:1078, 7 kap. 2 §) requires of the ledger — the debtor's name,
//! identity number, customer number, address and contact details are replaced with a
//! pseudonym in the case ([`Command::Pseudonymise`], through the case path), its
//! registration and (once none of its cases is kept) the customer record; the uploaded
//! invoice and the letters' PDFs are deleted by jobs after the commit. Amounts, dates,
//! states, the ledger and the finance lines stay as they were.

use std::collections::HashSet;

use chrono::Datelike;

use super::{parse_case, transact, ActionError, Actor, Attempt, Failure};
use crate::app::App;
use crate::cases::{self, RuleBook};
use crate::domain::apply::Command;
use crate::domain::letter::CaseLetter;
use crate::domain::party::{Customer, PURGED};
use crate::domain::registration::CaseRegistration;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::{Cond, Filter, Val};
use crate::jobs::{new_job, DeleteMedia, Priority};
use crate::resources::{CASES, CASE_LETTERS, CASE_REGISTRATIONS, CUSTOMERS};
use crate::scope::Scope;
use crate::store::{prepare_document, StoreError, Tx};

/// How many of each were pseudonymised (or would be, in a dry run), and the files deleted.
#[derive(Debug, Default)]
pub struct Purged {
    pub cases: u64,
    pub registrations: u64,
    pub customers: u64,
    pub letters: u64,
    /// Operators' notes on the cases (deleted: they may name the debtor).
    pub notes: u64,
    /// Media keys (uploaded invoices, letter PDFs) no longer referenced: a job deletes each.
    pub files: Vec<String>,
}

/// The first day on which nothing closed before it is kept: cases closed in a year whose
/// end is more than `retention_years` years ago.
pub fn cutoff(today: HttpDate, retention_years: u32) -> Option<HttpDate> {
    let year = today.date().year() - retention_years as i32;
    HttpDate::from_ymd_hms(year, 1, 1, 0, 0, 0)
}

/// Pseudonymises the cases closed before [`cutoff`], in every account (the agency's);
/// `dry_run` counts only. One transaction.
pub async fn purge(
    app: &App,
    actor: &Actor,
    today: HttpDate,
    retention_years: u32,
    dry_run: bool,
) -> Result<Purged, ActionError> {
    actor.require_agency()?;
    let cutoff = cutoff(today, retention_years)
        .ok_or_else(|| ActionError::invalid("retention_years", "no cutoff date"))?;
    transact(
        &app.store,
        actor,
        &Purge {
            app,
            today,
            cutoff,
            dry_run,
        },
    )
    .await
}

struct Purge<'a> {
    app: &'a App,
    today: HttpDate,
    cutoff: HttpDate,
    dry_run: bool,
}

fn typed<T: serde::de::DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Document(e.to_string()))
}

fn not_purged(path: &str) -> Filter {
    Filter::Field {
        path: path.into(),
        conds: vec![Cond::Ne(Val::Str(PURGED.into()))],
    }
}

impl Attempt for Purge<'_> {
    type Output = Purged;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Purged, Failure> {
        let all = Scope::unrestricted();
        let (today, dry) = (self.today, self.dry_run);
        let due = Filter::And(vec![
            Filter::Field {
                path: "closed.close_date".into(),
                conds: vec![Cond::Lt(Val::Date(self.cutoff))],
            },
            not_purged("customer_name"),
        ]);
        let rows = tx.find_all(&CASES, &all, &due, false).await?;
        let mut out = Purged::default();
        if rows.is_empty() {
            return Ok(out);
        }
        // The cases, through their change path.
        let mut book = RuleBook::new();
        let mut prepared = Vec::with_capacity(rows.len());
        let mut purged: HashSet<ObjectId> = HashSet::new();
        let (mut registrations, mut customers) = (Vec::new(), Vec::new());
        for row in rows {
            let case = parse_case(&row)?;
            purged.insert(case.id);
            registrations.push(Val::Oid(case.case_registration));
            customers.push(Val::Oid(case.customer));
            let p = cases::prepare(
                tx,
                &mut book,
                &self.app.engine,
                case,
                row.etag,
                today,
                Command::Pseudonymise,
            )
            .await?;
            out.files
                .extend(p.writes.replaced_files.iter().map(|f| f.id.clone()));
            prepared.push(p);
        }
        out.cases = prepared.len() as u64;
        if !dry {
            cases::write_all(tx, prepared, today).await?;
        }
        let ids: Vec<Val> = purged.iter().map(|id| Val::Oid(*id)).collect();
        let purged_ids: Vec<ObjectId> = purged.iter().copied().collect();
        out.notes = tx.delete_case_notes(&purged_ids, dry).await?;

        // Their letters' PDFs.
        let mut jobs = Vec::new();
        for row in tx
            .find_all(&CASE_LETTERS, &all, &Filter::any_of("case", ids), false)
            .await?
        {
            let mut letter: CaseLetter = typed(&row.doc)?;
            let Some(file) = letter.file.take() else {
                continue;
            };
            out.letters += 1;
            out.files.push(file.id.clone());
            jobs.push(new_job(&DeleteMedia { key: file.id }, Priority::Now)?);
            letter.updated = today;
            if !dry
                && !tx
                    .replace(
                        &CASE_LETTERS,
                        prepare_document(&CASE_LETTERS, &letter)?,
                        &row.etag,
                    )
                    .await?
            {
                return Err(Failure::Conflict);
            }
        }

        // Registrations all of whose cases are pseudonymised.
        for row in tx
            .find_all(
                &CASE_REGISTRATIONS,
                &all,
                &Filter::any_of("_id", registrations),
                false,
            )
            .await?
        {
            let mut reg: CaseRegistration = typed(&row.doc)?;
            if !reg.cases.iter().all(|c| purged.contains(c)) || reg.customer.name == PURGED {
                continue;
            }
            reg.customer.pseudonymise(&format!("purged-{}", reg.id));
            reg.updated = today;
            out.registrations += 1;
            if !dry
                && !tx
                    .replace(
                        &CASE_REGISTRATIONS,
                        prepare_document(&CASE_REGISTRATIONS, &reg)?,
                        &row.etag,
                    )
                    .await?
            {
                return Err(Failure::Conflict);
            }
        }

        // Customers none of whose cases is kept.
        for row in tx
            .find_all(&CUSTOMERS, &all, &Filter::any_of("_id", customers), false)
            .await?
        {
            let mut customer: Customer = typed(&row.doc)?;
            if customer.name == PURGED {
                continue;
            }
            let kept = tx
                .find_all(
                    &CASES,
                    &all,
                    &Filter::And(vec![
                        Filter::eq("customer", Val::Oid(customer.id)),
                        not_purged("customer_name"),
                    ]),
                    false,
                )
                .await?
                .iter()
                .map(parse_case)
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                // A dry run has not written the cases it counted.
                .any(|c| !purged.contains(&c.id));
            if kept {
                continue;
            }
            customer.pseudonymise(today);
            out.customers += 1;
            if !dry
                && !tx
                    .replace(
                        &CUSTOMERS,
                        prepare_document(&CUSTOMERS, &customer)?,
                        &row.etag,
                    )
                    .await?
            {
                return Err(Failure::Conflict);
            }
        }
        if !dry {
            crate::jobs::enqueue(tx, &jobs, today.unix()).await?;
        }
        Ok(out)
    }
}
