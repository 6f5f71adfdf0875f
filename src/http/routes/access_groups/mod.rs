//! `/access--groups` (amili-api.md §4.17): read-only; created with their account
//! (`account_admin`, `api_user`) or creditor (`admin`, `user`).

pub mod get;
pub mod list;
