//! `/case--registrations` (amili-api.md §4.1, seeds 000 and 001): register a customer and
//! one or more overdue debts; one case and one OCR reference per debt.

pub mod get;
pub mod list;
pub mod post;

use serde_json::Value;

use crate::domain::Money;
use crate::eve::validate::{Rule, Schema};
use crate::schemas::{amount, email, ADDRESS};

/// Like [`amount`], but 0 is allowed (a fee of nothing).
fn fee(v: &Value) -> Result<(), String> {
    let x = v.as_f64().unwrap_or(f64::NAN);
    if x < 0.0 {
        return Err("must not be negative".into());
    }
    Money::from_kronor_f64(x)
        .map(|_| ())
        .map_err(|e| format!("{e}"))
}

const CUSTOMER: Schema = &[
    ("name", Rule::string().required().nonempty().maxlength(200)),
    (
        "id_number",
        Rule::string().required().nonempty().maxlength(20),
    ),
    ("is_company", Rule::boolean()),
    ("address", Rule::dict(ADDRESS).required()),
    ("mobile_number", Rule::string().maxlength(30)),
    ("email", Rule::string().maxlength(254).check(email)),
    ("customer_number", Rule::string().maxlength(50)),
];

const CLAIMED_FEE: Schema = &[
    ("amount", Rule::number().required().check(amount)),
    ("fee_registration_date", Rule::datetime().required()),
];

const DEBT: Rule = Rule::dict(&[
    (
        "invoice_number",
        Rule::string().required().nonempty().maxlength(100),
    ),
    (
        "debt_description",
        Rule::string().required().nonempty().maxlength(500),
    ),
    ("invoice_date", Rule::datetime().required()),
    ("capital_to_claim", Rule::number().required().check(amount)),
    (
        "invoice_due_days_after_invoice_date",
        Rule::integer().required().min(0.0).max(3650.0),
    ),
    (
        "fees_included_in_capital_to_claim",
        Rule::dict(&[
            ("invoice_fee", Rule::number().check(fee)),
            ("shipment_fee", Rule::number().check(fee)),
        ]),
    ),
    (
        "fees_already_claimed",
        Rule::dict(&[
            ("reminder", Rule::dict(CLAIMED_FEE)),
            ("debt_collection", Rule::dict(CLAIMED_FEE)),
        ]),
    ),
    ("limitation_interrupted_date", Rule::datetime()),
    ("due_date_agreed", Rule::boolean()),
]);

/// The registration body (seed 000's table; `is_company` from seed 001).
pub const SCHEMA: Schema = &[
    ("account", Rule::objectid().required()),
    ("creditor", Rule::objectid().required()),
    (
        "first_action",
        Rule::string()
            .required()
            .allowed(&["reminder", "debt_collection"]),
    ),
    ("currency", Rule::string().required().allowed(&["SEK"])),
    ("customer", Rule::dict(CUSTOMER).required()),
    (
        "debts",
        Rule::list(&DEBT).required().nonempty().maxlength(100),
    ),
];
