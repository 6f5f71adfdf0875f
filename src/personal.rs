//! Personal data (GDPR; a Swedish collection agency answers to IMY): what is held about one
//! person, and pseudonymising it once the law no longer requires it to be kept.
//!
//! - [`export`]: everything held about the holder of an identity number (right of access), as
//!   one JSON document: the customer records, their cases with ledgers and letters, the
//!   registrations that named them, the creditor actions and respites on their cases, and the
//!   audit trail of all of it.
//! - [`purge`]: for cases closed long enough ago (by default seven years after the end of the
//!   year the case closed, as the Bookkeeping Act requires of the ledger), replaces the name,
//!   identity number, customer number, address and contact details with a pseudonym in the
//!   case, its registration and (once none of its cases is kept) the customer record, and
//!   deletes the uploaded invoice and the letters' PDFs. Amounts, dates, states, the ledger
//!   and the finance lines stay as they were.

use chrono::Datelike;
use serde_json::{json, Map, Value};

use crate::domain::identity::parse_id_number;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::{Filter, Paging, Resource, Sort, Val};
use crate::resources::{
    AUDIT_EVENTS, CASES, CASE_LETTERS, CASE_REGISTRATIONS, CASE_RESPITES, CREDITOR_CANCELLATIONS,
    CREDITOR_CREDITINGS, CREDITOR_PAYMENTS, CUSTOMERS,
};
use crate::store::{prepare_document, ListQuery, Store};
use crate::tenancy::Scope;

/// What a pseudonymised text field reads.
pub const PURGED: &str = "(purged)";

/// Every document of `res` matching `filter`, in id order.
async fn all(store: &Store, res: &Resource, filter: &Filter) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let sort = Sort::parse("_id")?;
    for page in 1.. {
        let p = store
            .list(
                res,
                &ListQuery {
                    scope: &Scope::unrestricted(),
                    filter,
                    sort: &sort,
                    paging: Paging {
                        page,
                        max_results: 100,
                    },
                    search: &[],
                },
            )
            .await?;
        if p.rows.is_empty() {
            break;
        }
        for r in p.rows {
            out.push(serde_json::from_str(&r.doc)?);
        }
    }
    Ok(out)
}

fn ids(docs: &[Value]) -> Vec<Val> {
    docs.iter()
        .filter_map(|d| d["_id"].as_str())
        .filter_map(|s| ObjectId::parse(s).ok())
        .map(Val::Oid)
        .collect()
}

/// Everything held about the holder of `id_number` (any accepted notation).
pub async fn export(store: &Store, id_number: &str, today: HttpDate) -> anyhow::Result<Value> {
    let canonical = parse_id_number(id_number, today.date())
        .map_err(|e| anyhow::anyhow!("{id_number}: {e}"))?
        .canonical;
    let id = Val::Str(canonical.clone());
    let customers = all(store, &CUSTOMERS, &Filter::eq("id_number", id.clone())).await?;
    let cases = all(
        store,
        &CASES,
        &Filter::Or(vec![
            Filter::eq("customer_id_number", id.clone()),
            Filter::eq("debtor_id_number", id.clone()),
        ]),
    )
    .await?;
    let registrations = all(
        store,
        &CASE_REGISTRATIONS,
        &Filter::eq("customer.id_number", id.clone()),
    )
    .await?;
    let case_ids = ids(&cases);
    let of_cases = |path: &str| Filter::any_of(path, case_ids.clone());
    let mut out = json!({
        "id_number": canonical,
        "exported": today.to_string(),
        "customers": customers,
        "cases": cases,
        "case_registrations": registrations,
    });
    for (key, res) in [
        ("case_letters", &*CASE_LETTERS),
        ("creditor_payments", &*CREDITOR_PAYMENTS),
        ("creditor_creditings", &*CREDITOR_CREDITINGS),
        ("creditor_cancellations", &*CREDITOR_CANCELLATIONS),
        ("case_respites", &*CASE_RESPITES),
    ] {
        let docs = if case_ids.is_empty() {
            vec![]
        } else {
            all(store, res, &of_cases("case")).await?
        };
        out[key] = Value::Array(docs);
    }
    let mut items = case_ids.clone();
    for key in ["customers", "case_registrations"] {
        items.extend(ids(out[key].as_array().map(Vec::as_slice).unwrap_or(&[])));
    }
    out["audit_events"] = Value::Array(if items.is_empty() {
        vec![]
    } else {
        all(store, &AUDIT_EVENTS, &Filter::any_of("writes.item", items)).await?
    });
    Ok(out)
}

/// How many of each were pseudonymised, and the media files to delete.
#[derive(Debug, Default)]
pub struct Purged {
    pub cases: u64,
    pub registrations: u64,
    pub customers: u64,
    pub letters: u64,
    /// Media keys (uploaded invoices, letter PDFs) no longer referenced.
    pub files: Vec<String>,
}

/// The first day on which nothing closed before it is kept: cases closed in a year whose
/// end is more than `retention_years` years ago.
pub fn cutoff(today: HttpDate, retention_years: u32) -> Option<HttpDate> {
    let year = today.date().year() - retention_years as i32;
    HttpDate::from_ymd_hms(year, 1, 1, 0, 0, 0)
}

/// Pseudonymises the cases closed before [`cutoff`] (all accounts; `dry_run` counts only).
pub async fn purge(
    store: &Store,
    today: HttpDate,
    retention_years: u32,
    dry_run: bool,
) -> anyhow::Result<Purged> {
    let cutoff = cutoff(today, retention_years).ok_or_else(|| anyhow::anyhow!("no cutoff date"))?;
    let due = Filter::And(vec![
        Filter::Field {
            path: "closed.close_date".into(),
            conds: vec![crate::eve::Cond::Lt(Val::Date(cutoff))],
        },
        Filter::Field {
            path: "customer_name".into(),
            conds: vec![crate::eve::Cond::Ne(Val::Str(PURGED.into()))],
        },
    ]);
    let cases = all(store, &CASES, &due).await?;
    let mut out = Purged::default();
    if cases.is_empty() {
        return Ok(out);
    }
    let case_ids = ids(&cases);
    let letters = all(
        store,
        &CASE_LETTERS,
        &Filter::any_of("case", case_ids.clone()),
    )
    .await?;
    let registration_ids: Vec<Val> = cases
        .iter()
        .filter_map(|c| c["case_registration"].as_str())
        .filter_map(|s| ObjectId::parse(s).ok())
        .map(Val::Oid)
        .collect();
    let registrations = all(
        store,
        &CASE_REGISTRATIONS,
        &Filter::any_of("_id", registration_ids),
    )
    .await?;
    let customer_ids: Vec<Val> = cases
        .iter()
        .filter_map(|c| c["customer"].as_str())
        .filter_map(|s| ObjectId::parse(s).ok())
        .map(Val::Oid)
        .collect();
    let customers = all(store, &CUSTOMERS, &Filter::any_of("_id", customer_ids)).await?;
    let purged: std::collections::HashSet<&str> =
        cases.iter().filter_map(|c| c["_id"].as_str()).collect();

    let mut tx = store.begin().await?;
    let stamp = today.to_string();
    for mut case in cases.clone() {
        let etag = case["_etag"].as_str().unwrap_or_default().to_string();
        if let Some(key) = case["original_invoice"]["id"].as_str() {
            out.files.push(key.to_string());
        }
        if let Some(o) = case.as_object_mut() {
            for f in ["customer_name", "debtor_name"] {
                o.insert(f.into(), json!(PURGED));
            }
            let pseudonym = format!("purged-{}", o["customer"].as_str().unwrap_or_default());
            for f in ["customer_id_number", "debtor_id_number"] {
                o.insert(f.into(), json!(pseudonym));
            }
            o.remove("customer_number");
            o.remove("original_invoice");
            o.insert("_updated".into(), json!(stamp));
        }
        out.cases += u64::from(replace(&mut tx, &CASES, &case, &etag, dry_run).await?);
    }
    for mut letter in letters {
        let etag = letter["_etag"].as_str().unwrap_or_default().to_string();
        let Some(key) = letter["file"]["id"].as_str().map(str::to_string) else {
            continue;
        };
        out.files.push(key);
        if let Some(o) = letter.as_object_mut() {
            o.remove("file");
            o.insert("_updated".into(), json!(stamp));
        }
        out.letters += u64::from(replace(&mut tx, &CASE_LETTERS, &letter, &etag, dry_run).await?);
    }
    for mut reg in registrations {
        let all_purged = reg["_cases"]
            .as_array()
            .or(reg["cases"].as_array())
            .is_some_and(|cs| {
                cs.iter()
                    .all(|c| c.as_str().is_some_and(|c| purged.contains(c)))
            });
        if !all_purged {
            continue;
        }
        let etag = reg["_etag"].as_str().unwrap_or_default().to_string();
        let id = reg["_id"].as_str().unwrap_or_default().to_string();
        if let Some(c) = reg.get_mut("customer").and_then(Value::as_object_mut) {
            pseudonymise_person(c, &format!("purged-{id}"));
        }
        if let Some(o) = reg.as_object_mut() {
            o.insert("_updated".into(), json!(stamp));
        }
        out.registrations +=
            u64::from(replace(&mut tx, &CASE_REGISTRATIONS, &reg, &etag, dry_run).await?);
    }
    for mut customer in customers {
        let id = customer["_id"].as_str().unwrap_or_default().to_string();
        // Kept while any of the customer's cases is kept.
        let kept = tx
            .count(
                &CASES,
                &Scope::unrestricted(),
                &Filter::And(vec![
                    Filter::eq("customer", Val::Oid(ObjectId::parse(&id)?)),
                    Filter::Field {
                        path: "customer_name".into(),
                        conds: vec![crate::eve::Cond::Ne(Val::Str(PURGED.into()))],
                    },
                ]),
            )
            .await?;
        let kept = if dry_run {
            kept - cases.iter().filter(|c| c["customer"] == json!(id)).count() as i64
        } else {
            kept
        };
        if kept > 0 {
            continue;
        }
        let etag = customer["_etag"].as_str().unwrap_or_default().to_string();
        if let Some(o) = customer.as_object_mut() {
            pseudonymise_person(o, &format!("purged-{id}"));
            o.insert("is_active".into(), json!(false));
            o.insert("_updated".into(), json!(stamp));
        }
        out.customers += u64::from(replace(&mut tx, &CUSTOMERS, &customer, &etag, dry_run).await?);
    }
    if !dry_run {
        tx.commit().await?;
    }
    Ok(out)
}

fn pseudonymise_person(o: &mut Map<String, Value>, pseudonym: &str) {
    o.insert("name".into(), json!(PURGED));
    o.insert("id_number".into(), json!(pseudonym));
    for f in ["customer_number", "mobile_number", "email"] {
        o.remove(f);
    }
    if let Some(a) = o.get_mut("address").and_then(Value::as_object_mut) {
        let country = a.get("country").cloned().unwrap_or(json!("SE"));
        a.clear();
        a.insert("address_line_1".into(), json!(PURGED));
        a.insert("zip_code".into(), json!(PURGED));
        a.insert("city".into(), json!(PURGED));
        a.insert("country".into(), country);
    }
}

async fn replace(
    tx: &mut crate::store::Tx<'_>,
    res: &Resource,
    doc: &Value,
    etag: &str,
    dry_run: bool,
) -> anyhow::Result<bool> {
    if dry_run {
        return Ok(true);
    }
    let mut doc = doc.clone();
    if let Some(o) = doc.as_object_mut() {
        o.insert("_etag".into(), json!(""));
    }
    let stored = prepare_document(res, &doc)?;
    if !tx.replace(res, stored, etag).await? {
        anyhow::bail!("a document changed while it was purged; run the purge again");
    }
    Ok(true)
}
