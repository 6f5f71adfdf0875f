//! Failed authentication attempts are limited per API code and per client address (the
//! console's sign-in per email and address). In memory: a restart forgets, which is
//! acceptable for a limit measured in minutes.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct FailureLimiter {
    max_failures: u32,
    window_secs: i64,
    map: Mutex<HashMap<String, (i64, u32)>>,
}

impl FailureLimiter {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        FailureLimiter {
            max_failures,
            window_secs,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` is currently blocked.
    pub fn blocked(&self, key: &str, now: i64) -> bool {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .is_some_and(|(start, n)| now - start < self.window_secs && *n >= self.max_failures)
    }

    /// Counts an attempt for `key` before it is checked, unless `key` is blocked: whether
    /// it may go on. Check and count are one step, so concurrent attempts cannot all pass
    /// the check before any is counted. A successful attempt is [`FailureLimiter::forgive`]n.
    pub fn attempt(&self, key: &str, now: i64) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now - *start < self.window_secs);
        }
        let e = map.entry(key.to_string()).or_insert((now, 0));
        if now - e.0 >= self.window_secs {
            *e = (now, 0);
        }
        if e.1 >= self.max_failures {
            return false;
        }
        e.1 += 1;
        true
    }

    /// Takes back one counted attempt of `key` (it succeeded, or was not made).
    pub fn forgive(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get_mut(key) {
            e.1 = e.1.saturating_sub(1);
        }
    }

    /// Records a failure for `key`.
    pub fn fail(&self, key: &str, now: i64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now - *start < self.window_secs);
        }
        let e = map.entry(key.to_string()).or_insert((now, 0));
        if now - e.0 >= self.window_secs {
            *e = (now, 0);
        }
        e.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let l = FailureLimiter::new(3, 60);
        for _ in 0..3 {
            assert!(!l.blocked("k", 100));
            l.fail("k", 100);
        }
        assert!(l.blocked("k", 120));
        assert!(!l.blocked("other", 120));
        assert!(!l.blocked("k", 161));
    }

    #[test]
    fn an_attempt_is_counted_before_it_is_checked() {
        let l = FailureLimiter::new(3, 60);
        assert!(l.attempt("k", 100));
        assert!(l.attempt("k", 100));
        // One succeeded: it does not count.
        l.forgive("k");
        assert!(l.attempt("k", 100));
        assert!(l.attempt("k", 100));
        assert!(!l.attempt("k", 100), "three in flight or failed");
        assert!(l.blocked("k", 100));
        assert!(l.attempt("k", 161), "a new window");
    }
}
