//! The domain core: pure types and rules, no HTTP and no SQL.
//!
//! Everything here is deterministic given its inputs (the clock is passed in), so it can be
//! unit-tested without a database or a server.

pub mod action;
pub mod allocation;
pub mod apply;
pub mod bank;
pub mod banking;
pub mod bgmax;
pub mod case;
pub mod clock;
pub mod country;
pub mod date;
pub mod effects;
pub mod fees;
pub mod finance;
pub mod flow;
pub mod forecast;
pub mod identity;
pub mod interest;
pub mod ledger;
pub mod letter;
pub mod limitation;
pub mod money;
pub mod object_id;
pub mod ocr;
pub mod party;
pub mod policy;
pub mod registration;
pub mod webhook;

pub use clock::{Clock, SystemClock};
pub use date::HttpDate;
pub use money::Money;
pub use object_id::ObjectId;
