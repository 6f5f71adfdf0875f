//! `/creditors` (amili-api.md §4.12): read, create, update with `If-Match`, and delete a
//! creditor that has no cases. Creating one creates its `admin` and `user` access groups.
//! A creditor-bound API user sees and may update only its own creditor.

pub mod delete;
pub mod get;
pub mod list;
pub mod patch;
pub mod post;

pub use crate::tenancy::creditors::{check, with_server_fields, SCHEMA};
