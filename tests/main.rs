//! Every integration test in one binary: one link instead of thirty, and one process whose
//! tests share the machine's threads. `cargo test --test integration flow::` runs one file's
//! tests; tests/console_browser.rs stays apart because it needs Chromium.

mod common;
mod concurrency;

mod audit;
mod auth;
mod backend;
mod backup;
mod bank_files;
mod cli;
mod console;
mod creditor_actions;
mod durability;
mod finance;
mod flow;
mod flow_crash;
mod fuzz;
mod http_cases;
mod jobs;
mod law;
mod layers;
mod media;
mod observe;
mod openapi;
mod personal_data;
mod promises;
mod query_limits;
mod query_semantics;
mod registration;
mod seed;
mod tenancy;
mod upgrade;
mod webhooks;
