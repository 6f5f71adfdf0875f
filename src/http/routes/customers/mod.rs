//! `/customers` (amili-api.md §4.15): read-only; registrations create and update them.
//! A creditor-bound API user sees the customers that have a case at its creditor.

pub mod get;
pub mod list;
