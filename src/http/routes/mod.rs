//! One folder per resource, one file per action.

pub mod access_groups;
pub mod accounts;
pub mod audit;
pub mod authenticates;
pub mod bank_files;
pub mod case_letters;
pub mod case_registrations;
pub mod case_respites;
pub mod cases;
pub mod creditor_actions;
pub mod creditors;
pub mod customers;
pub mod finance;
pub mod health;
pub mod media;
pub mod sandbox;
pub mod unmatched_payments;
pub mod users;
pub mod webhooks;
