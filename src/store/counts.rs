//! Cached totals for `_meta.total`. Counting hundreds of thousands of index entries on every
//! page is what made Eve slow (eve-wire.md §7); here a count is computed once per compiled
//! query and reused until a write bumps the table's version for the account(s) in scope.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::eve::sql::Sql;

pub struct CountCache {
    capacity: usize,
    map: Mutex<HashMap<String, (i64, i64)>>,
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
        }
    }

    pub fn get(&self, key: &str, version: i64) -> Option<i64> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(v, _)| *v == version).map(|(_, n)| *n)
    }

    pub fn put(&self, key: String, version: i64, count: i64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity {
            // Stale entries are the common case; dropping everything is simple and rare.
            map.clear();
        }
        map.insert(key, (version, count));
    }
}
