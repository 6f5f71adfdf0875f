//! The case flow: a configuration (data) of steps, and what each step does to a case.

mod config;
mod steps;

pub use config::{Action, FlowConfig, LetterKind, Next, Step};
pub(crate) use steps::run_step;
