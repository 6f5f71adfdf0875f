//! Personal data (GDPR; a Swedish collection agency answers to IMY): what is held about one
//! person, and pseudonymising it once the law no longer requires it to be kept.
//!
//! - [`export`]: everything held about the holder of an identity number (right of access), as
//!   one JSON document: the customer records, their cases with ledgers and letters, the
//!   registrations that named them, the creditor actions and respites on their cases, and the
//!   audit trail of all of it.
//! - pseudonymising what the law no longer requires to be kept is a use case:
//!   [`crate::actions::pseudonymise`].

use serde_json::{json, Value};

use crate::domain::identity::parse_id_number;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::{Filter, Paging, Resource, Sort, Val};
use crate::resources::{
    AUDIT_EVENTS, CASES, CASE_LETTERS, CASE_REGISTRATIONS, CASE_RESPITES, CREDITOR_CANCELLATIONS,
    CREDITOR_CREDITINGS, CREDITOR_PAYMENTS, CUSTOMERS,
};
use crate::scope::Scope;
use crate::store::{ListQuery, Store};

/// What a pseudonymised text field reads.
pub use crate::domain::party::PURGED;

/// Every document of `res` matching `filter`, in id order.
pub(crate) async fn all(
    store: &Store,
    res: &Resource,
    filter: &Filter,
) -> anyhow::Result<Vec<Value>> {
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
