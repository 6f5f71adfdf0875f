//! One folder per resource, one file per action.

pub mod authenticates;
pub mod cases;
