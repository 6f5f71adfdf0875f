//! Time is per account. An ordinary account lives in real time. A sandbox account has a
//! clock of its own, stored in the database so every node and worker sees it: it follows
//! real time until its integrator first sets it, and from then on stands still until moved
//! again (`/sandbox/clock`). Everything written for an account is stamped with its time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::{Clock, HttpDate, ObjectId};
use crate::store::{Store, StoreError, Tx};

/// How long "this account has no clock of its own" is remembered (an account can be created
/// as a sandbox after a lookup found nothing).
const REMEMBER_REAL_TIME_SECS: i64 = 60;

/// How long a sandbox clock read for [`Clocks::time_cached`] is reused.
const CACHE_SANDBOX_SECS: i64 = 1;

/// Where accounts' time comes from.
#[derive(Clone)]
pub struct Clocks {
    real: Arc<dyn Clock>,
    /// Accounts known to live in real time, with when that was learnt.
    real_time: Arc<Mutex<HashMap<ObjectId, i64>>>,
    /// Sandbox times recently read, with when (real time) they were read.
    sandbox: Arc<Mutex<HashMap<ObjectId, (AccountTime, i64)>>>,
}

/// An account's time and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountTime {
    pub now: HttpDate,
    /// The account is a sandbox (it has a clock of its own).
    pub sandbox: bool,
    /// Its clock has been set: it stands still at `now`.
    pub set: bool,
}

impl Clocks {
    pub fn new(real: Arc<dyn Clock>) -> Clocks {
        Clocks {
            real,
            real_time: Arc::default(),
            sandbox: Arc::default(),
        }
    }

    /// Real time (token lifetimes, signed URLs, the outbox).
    pub fn real(&self) -> HttpDate {
        self.real.now()
    }

    fn known_real_time(&self, account: &ObjectId) -> bool {
        let now = self.real().unix();
        self.real_time
            .lock()
            .map(|m| {
                m.get(account)
                    .is_some_and(|t| now - t < REMEMBER_REAL_TIME_SECS)
            })
            .unwrap_or(false)
    }

    fn resolve(&self, account: &ObjectId, row: Option<crate::store::AccountClock>) -> AccountTime {
        match row {
            Some(c) if c.sandbox => AccountTime {
                now: c
                    .now
                    .and_then(HttpDate::from_unix)
                    .unwrap_or_else(|| self.real()),
                sandbox: true,
                set: c.now.is_some(),
            },
            _ => {
                if let Ok(mut m) = self.real_time.lock() {
                    m.insert(*account, self.real().unix());
                }
                AccountTime {
                    now: self.real(),
                    sandbox: false,
                    set: false,
                }
            }
        }
    }

    /// The account's time.
    pub async fn time(&self, store: &Store, account: &ObjectId) -> Result<AccountTime, StoreError> {
        if self.known_real_time(account) {
            return Ok(AccountTime {
                now: self.real(),
                sandbox: false,
                set: false,
            });
        }
        let row = store.account_clock(account).await?;
        Ok(self.resolve(account, row))
    }

    /// The account's time as read at most a second ago: for deciding whether a case is due
    /// when it is read. (A clock move runs every item due by the new time before it
    /// answers, so a clock a second old can only miss what was already run.) Writes use
    /// [`Clocks::time`].
    pub async fn time_cached(
        &self,
        store: &Store,
        account: &ObjectId,
    ) -> Result<AccountTime, StoreError> {
        let real = self.real().unix();
        if let Some((t, at)) = self
            .sandbox
            .lock()
            .ok()
            .and_then(|m| m.get(account).copied())
        {
            if real - at < CACHE_SANDBOX_SECS {
                return Ok(t);
            }
        }
        let t = self.time(store, account).await?;
        if t.sandbox {
            if let Ok(mut m) = self.sandbox.lock() {
                m.insert(*account, (t, real));
            }
        }
        Ok(t)
    }

    /// Drops what this process remembers of the account's time (its clock was just set or
    /// its sandbox reset).
    pub fn forget(&self, account: &ObjectId) {
        if let Ok(mut m) = self.sandbox.lock() {
            m.remove(account);
        }
        if let Ok(mut m) = self.real_time.lock() {
            m.remove(account);
        }
    }

    /// The account's current time.
    pub async fn now(&self, store: &Store, account: &ObjectId) -> Result<HttpDate, StoreError> {
        Ok(self.time(store, account).await?.now)
    }

    /// The account's time, read inside a write transaction (so a clock moved concurrently is
    /// seen consistently with the rows the transaction reads).
    pub async fn time_in(
        &self,
        tx: &mut Tx<'_>,
        account: &ObjectId,
    ) -> Result<AccountTime, StoreError> {
        if self.known_real_time(account) {
            return Ok(AccountTime {
                now: self.real(),
                sandbox: false,
                set: false,
            });
        }
        let row = tx.account_clock(account).await?;
        Ok(self.resolve(account, row))
    }
}
