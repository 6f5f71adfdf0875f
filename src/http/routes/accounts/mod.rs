//! `/accounts` (amili-api.md §4.13): an API user sees its own account; an account-wide one
//! may update it with `If-Match`. Accounts are created by the operator
//! (`indriva admin account create`): `POST /accounts` is Amili's Partner API, which Indriva
//! does not have, and answers 403.

pub mod get;
pub mod list;
pub mod patch;

use axum::response::Response;

use crate::eve::validate::{Rule, Schema};
use crate::http::error::ApiError;
use crate::schemas::{ADDRESS, CASE_SETTINGS};

pub const SCHEMA: Schema = &[
    ("name", Rule::string().nonempty().maxlength(200)),
    ("description", Rule::string().maxlength(1000)),
    ("standard_debt_description", Rule::string().maxlength(500)),
    ("agreement_address", Rule::dict(ADDRESS)),
    ("case_settings", Rule::dict(CASE_SETTINGS)),
    ("organization_no", Rule::string().readonly()),
    ("agreement_template", Rule::objectid().readonly()),
    ("access_group_template", Rule::objectid().readonly()),
];

pub const NO_PARTNER_API: &str =
    "Accounts are created by the operator (indriva admin account create); the Partner API is not available";

pub async fn post() -> Result<Response, ApiError> {
    Err(ApiError::forbidden(NO_PARTNER_API))
}
