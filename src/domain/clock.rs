//! The clock is injected everywhere time matters, so tests and the sandbox can move it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::HttpDate;

/// A source of "now", in whole seconds (the wire has no sub-second precision).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> HttpDate;
}

/// The wall clock, optionally shifted forward by an offset (the sandbox's time travel).
#[derive(Clone, Default)]
pub struct SystemClock {
    offset_seconds: Arc<AtomicI64>,
}

impl SystemClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this clock (and every clone of it) forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}

impl Clock for SystemClock {
    fn now(&self) -> HttpDate {
        let secs = chrono::Utc::now().timestamp() + self.offset_seconds.load(Ordering::Relaxed);
        HttpDate::from_unix(secs).unwrap_or(HttpDate::EPOCH)
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Clone)]
pub struct FixedClock(Arc<AtomicI64>);

impl FixedClock {
    pub fn at(date: HttpDate) -> Self {
        FixedClock(Arc::new(AtomicI64::new(date.unix())))
    }
    pub fn set(&self, date: HttpDate) {
        self.0.store(date.unix(), Ordering::Relaxed);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> HttpDate {
        HttpDate::from_unix(self.0.load(Ordering::Relaxed)).unwrap_or(HttpDate::EPOCH)
    }
}
