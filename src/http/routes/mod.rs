//! One folder per resource, one file per action.

pub mod cases;
