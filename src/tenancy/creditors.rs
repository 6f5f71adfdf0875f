//! The rules on a creditor document shared by `POST`/`PATCH /creditors` and
//! `indriva admin creditor create`: which fields a client may send, the defaults and
//! server-set fields of a new creditor, and the checks on the whole document.

use serde_json::{json, Map, Value};

use crate::domain::identity::parse_org_number;
use crate::domain::party::Creditor;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::validate::{Issues, Rule, Schema};
use crate::schemas::ADDRESS;

fn digits(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.chars().all(|c| c.is_ascii_digit() || c == '-') => Ok(()),
        _ => Err("must contain digits only".into()),
    }
}

const ACCOUNT: Schema = &[
    (
        "bankgiro",
        Rule::string().nonempty().maxlength(9).check(digits),
    ),
    (
        "plusgiro",
        Rule::string().nonempty().maxlength(9).check(digits),
    ),
    (
        "clearing_number",
        Rule::string().nonempty().maxlength(5).check(digits),
    ),
    (
        "account_number",
        Rule::string().nonempty().maxlength(20).check(digits),
    ),
    ("iban", Rule::string().nonempty().maxlength(34)),
    ("bic", Rule::string().nonempty().maxlength(11)),
];

const PAYOUT_DETAILS: Schema = &[
    ("sek", Rule::dict(ACCOUNT)),
    ("eur", Rule::dict(ACCOUNT)),
    ("nok", Rule::dict(ACCOUNT)),
    ("dkk", Rule::dict(ACCOUNT)),
];

const CASE_CONFIG: Schema = &[
    ("vat_area", Rule::string().required().nonempty()),
    ("commission_excluded_vat", Rule::boolean().required()),
    ("payout_capital_by_invoice", Rule::boolean().required()),
    ("payout_interest_by_invoice", Rule::boolean().required()),
];

/// The creditor fields a client may send. `account` and `agreement_template` are accepted
/// on POST only; `creditor_number`, `added_to_erp_system` and `partner` are read-only.
pub const SCHEMA: Schema = &[
    ("account", Rule::objectid().required()),
    ("agreement_template", Rule::objectid()),
    ("name", Rule::string().required().nonempty().maxlength(200)),
    ("organization_no", Rule::string().nonempty()),
    (
        "non_swedish_organization_no",
        Rule::string().nonempty().maxlength(40),
    ),
    ("is_active", Rule::boolean()),
    ("standard_debt_description", Rule::string().maxlength(500)),
    ("always_use_standard_debt_description", Rule::boolean()),
    ("description", Rule::string().maxlength(1000)),
    (
        "default_letter_locale",
        Rule::string().allowed(&["sv", "en"]),
    ),
    ("agreement_address", Rule::dict(ADDRESS)),
    ("sender_address", Rule::dict(ADDRESS)),
    ("invoice_address", Rule::dict(ADDRESS)),
    ("payout_details", Rule::dict(PAYOUT_DETAILS)),
    ("case_config", Rule::dict(CASE_CONFIG)),
    ("creditor_number", Rule::integer().readonly()),
    ("added_to_erp_system", Rule::boolean().readonly()),
    ("partner", Rule::objectid().readonly()),
];

/// A validated `POST /creditors` body with the defaults for what the client left out
/// (inactive, Swedish letters) and the fields only the server sets (a new `_id`, no number
/// yet, the creation time).
pub fn with_server_fields(mut doc: Map<String, Value>, now: HttpDate) -> Map<String, Value> {
    for (k, v) in [
        ("is_active", json!(false)),
        ("default_letter_locale", json!("sv")),
        ("always_use_standard_debt_description", json!(false)),
    ] {
        doc.entry(k).or_insert(v);
    }
    for (k, v) in [
        ("_id", json!(ObjectId::at(now.unix()).to_hex())),
        ("added_to_erp_system", json!(false)),
        ("creditor_number", json!(0)),
        ("_created", json!(now.to_string())),
        ("_updated", json!(now.to_string())),
    ] {
        doc.insert(k.into(), v);
    }
    doc
}

/// Rules on the whole creditor after a POST or PATCH: exactly one organisation number, a
/// valid Swedish one (checked when it is sent: a stored one is not re-judged), and Amili's
/// activation rule.
pub fn check(c: &mut Creditor, issues: &mut Issues, org_no_sent: bool) {
    match (&c.organization_no, &c.non_swedish_organization_no) {
        (Some(_), Some(_)) => issues.add(
            "organization_no",
            "'organization_no' must not be present with 'non_swedish_organization_no'",
        ),
        (None, None) if !issues.has("organization_no") => {
            issues.add("organization_no", "required field");
        }
        (Some(nr), None) if org_no_sent && !issues.has("organization_no") => {
            match parse_org_number(nr) {
                Ok(canonical) => c.organization_no = Some(canonical),
                Err(msg) => issues.add("organization_no", msg),
            }
        }
        _ => {}
    }
    for (field, msg) in c.activation_problems() {
        if !issues.has(field) {
            issues.add(field, msg);
        }
    }
}
