//! `/cases` (amili-api.md §4.2): read-only; cases change through registrations and
//! creditor actions.

pub mod forecast;
pub mod get;
pub mod list;
