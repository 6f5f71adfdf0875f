//! `Idempotency-Key`: a request that writes records its key, its body's hash and its answer
//! in the same transaction as its writes; a retry finds them. Concurrent requests with the
//! same key are serialised by [`Tx::lock_keys`] (PostgreSQL) or the single writer (SQLite).

use std::collections::HashMap;

use sqlx::Row as _;

use super::{StoreError, Tx};
use crate::domain::ObjectId;

/// The answer recorded for a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsedKey {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

/// A key to record with its answer.
pub struct KeyRecord<'a> {
    pub account: &'a ObjectId,
    pub key: &'a str,
    pub used: &'a UsedKey,
    pub created: i64,
}

impl Tx<'_> {
    /// The recorded answers for some (account, key) pairs, keyed the same way.
    pub async fn used_idempotency_keys(
        &mut self,
        keys: &[(ObjectId, String)],
    ) -> Result<HashMap<(ObjectId, String), UsedKey>, StoreError> {
        let mut found = HashMap::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let pg = matches!(self, Tx::Postgres(..));
        let mut sql = String::from(if pg {
            "SELECT account, key, request_hash, status::int8, response FROM idempotency_keys WHERE "
        } else {
            "SELECT account, key, request_hash, status, response FROM idempotency_keys WHERE "
        });
        for i in 0..keys.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            if pg {
                sql.push_str(&format!(
                    "(account = ${} AND key = ${})",
                    2 * i + 1,
                    2 * i + 2
                ));
            } else {
                sql.push_str("(account = ? AND key = ?)");
            }
        }
        let rows: Vec<(String, String, String, i64, String)> = match self {
            Tx::Sqlite(tx, _) => {
                let mut q = sqlx::query(&sql);
                for (a, k) in keys {
                    q = q.bind(a.to_hex()).bind(k.as_str());
                }
                q.fetch_all(&mut **tx)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok((
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            r.try_get(3)?,
                            r.try_get(4)?,
                        ))
                    })
                    .collect::<Result<_, sqlx::Error>>()?
            }
            Tx::Postgres(tx, _) => {
                let mut q = sqlx::query(&sql);
                for (a, k) in keys {
                    q = q.bind(a.to_hex()).bind(k.as_str());
                }
                q.fetch_all(&mut **tx)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok((
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            r.try_get(3)?,
                            r.try_get(4)?,
                        ))
                    })
                    .collect::<Result<_, sqlx::Error>>()?
            }
        };
        for (account, key, request_hash, status, response) in rows {
            let account: ObjectId = account
                .parse()
                .map_err(|_| StoreError::Document(format!("bad account id {account}")))?;
            let status = u16::try_from(status)
                .map_err(|_| StoreError::Document(format!("bad status {status}")))?;
            found.insert(
                (account, key),
                UsedKey {
                    request_hash,
                    status,
                    response,
                },
            );
        }
        Ok(found)
    }

    /// Records keys with their answers, in one statement.
    pub async fn record_idempotency_keys(
        &mut self,
        records: &[KeyRecord<'_>],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let pg = matches!(self, Tx::Postgres(..));
        let mut sql = String::from(
            "INSERT INTO idempotency_keys (account, key, request_hash, status, response, created) VALUES ",
        );
        for i in 0..records.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            if pg {
                let n = 6 * i;
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6
                ));
            } else {
                sql.push_str("(?, ?, ?, ?, ?, ?)");
            }
        }
        match self {
            Tx::Sqlite(tx, _) => {
                let mut q = sqlx::query(&sql);
                for r in records {
                    q = q
                        .bind(r.account.to_hex())
                        .bind(r.key)
                        .bind(r.used.request_hash.as_str())
                        .bind(i64::from(r.used.status))
                        .bind(r.used.response.as_str())
                        .bind(r.created);
                }
                q.execute(&mut **tx).await?;
            }
            Tx::Postgres(tx, _) => {
                let mut q = sqlx::query(&sql);
                for r in records {
                    q = q
                        .bind(r.account.to_hex())
                        .bind(r.key)
                        .bind(r.used.request_hash.as_str())
                        .bind(i32::from(r.used.status))
                        .bind(r.used.response.as_str())
                        .bind(r.created);
                }
                q.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    /// Serialises transactions that touch the same logical keys (an invoice number, a
    /// customer, an idempotency key) on PostgreSQL until commit; SQLite has a single writer
    /// already. The keys are locked in sorted order, so two transactions cannot deadlock.
    pub async fn lock_keys(&mut self, keys: &[String]) -> Result<(), StoreError> {
        if let Tx::Postgres(tx, _) = self {
            if keys.is_empty() {
                return Ok(());
            }
            let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            keys.sort_unstable();
            keys.dedup();
            // One statement; PostgreSQL evaluates a volatile select list after the ORDER BY.
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) \
                 FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
            )
            .bind(keys)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
