//! Indriva: a self-hostable debt-collection case management server whose HTTP API is
//! wire-compatible with Amili's creditor integration API.
//!
//! * [`domain`] — money, dates, ids and the case model; pure, no I/O.
//! * [`eve`] — the generic Eve query layer: `where`, `projection`, `sort`, paging, and the
//!   compiler from those to SQL.
//! * [`store`] — SQLite (default) or PostgreSQL.
//! * [`http`] — the axum routes.
//! * [`seed`] and [`sandbox`] — demo data and the first-start sandbox account.

pub mod actions;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cases;
pub mod cli;
pub mod clocks;
pub mod console;
pub mod datadir;
pub mod domain;
pub mod eve;
pub mod http;
pub mod jobs;
pub mod letters;
pub mod media;
pub mod observe;
pub mod personal;
pub mod registrar;
pub mod resources;
pub mod sandbox;
pub mod schemas;
pub mod scope;
pub mod seed;
pub mod sql;
pub mod store;
pub mod tenancy;
pub mod webhooks;
pub mod worker;
