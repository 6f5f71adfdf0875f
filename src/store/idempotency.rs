//! `Idempotency-Key`: the first request with a key claims it inside its transaction and
//! records its answer there; a retry finds the answer. A concurrent retry waits for the first
//! transaction (PostgreSQL: the unique key; SQLite: the single writer).

use sqlx::Row as _;

use super::{StoreError, Tx};
use crate::domain::ObjectId;

/// What claiming a key found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new and now belongs to this transaction.
    New,
    /// An earlier request used it: its body hash and answer.
    Used {
        request_hash: String,
        status: Option<i64>,
        response: Option<String>,
    },
}

const CLAIM_SQLITE: &str = "INSERT INTO idempotency_keys (account, key, request_hash, created) \
     VALUES (?, ?, ?, ?) ON CONFLICT (account, key) DO NOTHING";
const CLAIM_PG: &str = "INSERT INTO idempotency_keys (account, key, request_hash, created) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (account, key) DO NOTHING";
const FIND_SQLITE: &str =
    "SELECT request_hash, status, response FROM idempotency_keys WHERE account = ? AND key = ?";
const FIND_PG: &str =
    "SELECT request_hash, status::int8, response FROM idempotency_keys WHERE account = $1 AND key = $2";
const DONE_SQLITE: &str =
    "UPDATE idempotency_keys SET status = ?, response = ? WHERE account = ? AND key = ?";
const DONE_PG: &str =
    "UPDATE idempotency_keys SET status = $1, response = $2 WHERE account = $3 AND key = $4";

impl Tx<'_> {
    pub async fn claim_idempotency_key(
        &mut self,
        account: &ObjectId,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        let acc = account.to_hex();
        let inserted = match self {
            Tx::Sqlite(tx, _) => sqlx::query(CLAIM_SQLITE)
                .bind(&acc)
                .bind(key)
                .bind(request_hash)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Tx::Postgres(tx, _) => sqlx::query(CLAIM_PG)
                .bind(&acc)
                .bind(key)
                .bind(request_hash)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        };
        if inserted == 1 {
            return Ok(Claim::New);
        }
        let row = match self {
            Tx::Sqlite(tx, _) => {
                let r = sqlx::query(FIND_SQLITE)
                    .bind(&acc)
                    .bind(key)
                    .fetch_one(&mut **tx)
                    .await?;
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)
            }
            Tx::Postgres(tx, _) => {
                let r = sqlx::query(FIND_PG)
                    .bind(&acc)
                    .bind(key)
                    .fetch_one(&mut **tx)
                    .await?;
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)
            }
        };
        Ok(Claim::Used {
            request_hash: row.0,
            status: row.1,
            response: row.2,
        })
    }

    /// Records the answer to a claimed key (in the same transaction as the writes).
    pub async fn complete_idempotency_key(
        &mut self,
        account: &ObjectId,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<(), StoreError> {
        let acc = account.to_hex();
        match self {
            Tx::Sqlite(tx, _) => {
                sqlx::query(DONE_SQLITE)
                    .bind(i64::from(status))
                    .bind(response)
                    .bind(&acc)
                    .bind(key)
                    .execute(&mut **tx)
                    .await?;
            }
            Tx::Postgres(tx, _) => {
                sqlx::query(DONE_PG)
                    .bind(i32::from(status))
                    .bind(response)
                    .bind(&acc)
                    .bind(key)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Serialises transactions that touch the same logical key (an invoice number, a
    /// customer) on PostgreSQL until commit; SQLite has a single writer already.
    pub async fn lock_key(&mut self, key: &str) -> Result<(), StoreError> {
        if let Tx::Postgres(tx, _) = self {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
