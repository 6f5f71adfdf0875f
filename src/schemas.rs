//! Validation rules shared by several resources' request bodies.

use serde_json::Value;

use crate::domain::country::is_country_code;
use crate::domain::Money;
use crate::eve::validate::{Rule, Schema};

fn country(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(c) if is_country_code(c) => Ok(()),
        _ => Err("must be an ISO 3166-1 alpha-2 country code (e.g. SE)".into()),
    }
}

/// An e-mail address, checked as loosely as Eve's usual `^.+@.+$` regex.
pub fn email(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.contains('@') && !s.starts_with('@') && !s.ends_with('@') => Ok(()),
        _ => Err("value does not match regex '^.+@.+$'".into()),
    }
}

/// `{address_line_1, zip_code, city, country}` (amili-api.md §4.1 "Address Properties").
pub const ADDRESS: Schema = &[
    (
        "address_line_1",
        Rule::string().required().nonempty().maxlength(200),
    ),
    (
        "zip_code",
        Rule::string().required().nonempty().maxlength(20),
    ),
    ("city", Rule::string().required().nonempty().maxlength(100)),
    ("country", Rule::string().required().check(country)),
];

pub const CASE_SETTINGS: Schema = &[(
    "interest_rate",
    Rule::dict(&[("reference_rate", Rule::boolean().required())]).required(),
)];

/// A positive amount in kronor with at most two decimals.
pub fn amount(v: &Value) -> Result<(), String> {
    let x = v.as_f64().unwrap_or(f64::NAN);
    if x <= 0.0 {
        return Err("must be greater than 0".into());
    }
    Money::from_kronor_f64(x)
        .map(|_| ())
        .map_err(|e| format!("{e}"))
}
