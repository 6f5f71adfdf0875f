//! The sandbox clock (the anchor is Stripe's test clocks): an integrator on a sandbox
//! account moves its time forward and watches its cases live through the days in between.
//! `GET`/`POST /sandbox/clock`, and `POST /sandbox/reset` to start over. Accounts that are
//! not sandboxes get 404. The use cases are [`crate::actions::clock`].

pub mod clock;
pub mod reset;
