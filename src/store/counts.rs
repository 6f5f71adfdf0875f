//! Cached totals for `_meta.total`. Counting hundreds of thousands of index entries on every
//! page is what made Eve slow (eve-wire.md §7); here a count is computed once per compiled
//! query and reused until a write bumps the table's version for the account(s) in scope.
//!
//! A count is stored with the write version read just *before* it was taken, so it reflects
//! every write up to that version (versions only grow). A request that saw version `v` can
//! therefore use any count stored at a version ≥ `v`: under a steady stream of writes, the
//! requests that queue up while one count runs are all answered by the next count, instead
//! of each counting in turn for its own version.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::eve::sql::Sql;

pub struct CountCache {
    capacity: usize,
    map: Mutex<HashMap<String, (i64, i64)>>,
    /// One lock per key being computed, so concurrent misses for the same query wait for one
    /// count instead of all counting at once (and exhausting the connection pool).
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The cache key: table, SQL text and parameters.
pub fn key(table: &str, sql: &Sql) -> String {
    format!("{table}\u{1}{}\u{1}{:?}", sql.text, sql.params)
}

impl CountCache {
    pub fn new(capacity: usize) -> Self {
        CountCache {
            capacity,
            map: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str, version: i64) -> Option<i64> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(v, _)| *v >= version).map(|(_, n)| *n)
    }

    pub fn put(&self, key: String, version: i64, count: i64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&key).is_some_and(|(v, _)| *v > version) {
            return; // a newer count is already stored
        }
        if map.len() >= self.capacity {
            // Stale entries are the common case; dropping everything is simple and rare.
            map.clear();
        }
        map.insert(key, (version, count));
    }

    /// A cached count for `key` at `version` or later, or the result of `compute`, which
    /// runs for one caller at a time per key and returns the version it read before counting
    /// and the count.
    pub async fn get_or_compute<E, F>(
        &self,
        key: String,
        version: i64,
        compute: F,
    ) -> Result<i64, E>
    where
        F: Future<Output = Result<(i64, i64), E>>,
    {
        if let Some(n) = self.get(&key, version) {
            return Ok(n);
        }
        let gate = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            inflight.entry(key.clone()).or_default().clone()
        };
        let held = gate.lock().await;
        let result = match self.get(&key, version) {
            Some(n) => Ok(n),
            None => {
                let r = compute.await;
                if let Ok((v, n)) = &r {
                    self.put(key.clone(), *v, *n);
                }
                r.map(|(_, n)| n)
            }
        };
        drop(held);
        let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map and this caller hold the gate: nobody is waiting on it.
        if Arc::strong_count(&gate) <= 2 {
            inflight.remove(&key);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_misses_count_once_and_a_new_version_recounts() {
        let cache = Arc::new(CountCache::new(10));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (cache, runs) = (cache.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_compute("k".into(), 1, async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok::<_, ()>((1, 42))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(42));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let n = cache
            .get_or_compute("k".into(), 2, async { Ok::<_, ()>((2, 43)) })
            .await;
        assert_eq!(n, Ok(43));
    }

    #[tokio::test]
    async fn a_count_taken_at_a_later_version_serves_earlier_ones_but_never_the_reverse() {
        let cache = CountCache::new(10);
        // Counted after reading version 7: good for anyone who saw 7 or less.
        let n = cache
            .get_or_compute("k".into(), 5, async { Ok::<_, ()>((7, 70)) })
            .await;
        assert_eq!(n, Ok(70));
        assert_eq!(cache.get("k", 5), Some(70));
        assert_eq!(cache.get("k", 7), Some(70));
        assert_eq!(cache.get("k", 8), None, "a later write needs a new count");
        // A slow count that read an older version does not replace a newer one.
        cache.put("k".into(), 6, 60);
        assert_eq!(cache.get("k", 7), Some(70));
        let n = cache
            .get_or_compute("k".into(), 8, async { Ok::<_, ()>((9, 90)) })
            .await;
        assert_eq!(n, Ok(90));
        assert_eq!(cache.get("k", 9), Some(90));
    }
}
