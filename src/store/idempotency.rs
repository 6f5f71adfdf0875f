//! `Idempotency-Key`: a request that writes records its key, its body's hash and its answer
//! in the same transaction as its writes; a retry finds them. Concurrent requests with the
//! same key are serialised by [`Tx::lock_keys`] (PostgreSQL) or the single writer (SQLite).

use std::collections::HashMap;

use super::{StoreError, Tx};
use crate::domain::ObjectId;
use crate::eve::sql::{Param, Sql};

/// An `Idempotency-Key` and the hash of the request it came with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    /// The key with the hash of a request body (its JSON, as received and validated).
    pub fn of(key: String, body: &serde_json::Value) -> Idempotency {
        use sha2::{Digest, Sha256};
        Idempotency {
            key,
            request_hash: hex::encode(Sha256::digest(body.to_string())),
        }
    }
}

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

/// `n` rows of `width` placeholders each, `(?, ?)` or `($1, $2)`, joined by `sep`, with
/// `row` turning one row's placeholders into its text.
fn placeholders(
    pg: bool,
    n: usize,
    width: usize,
    sep: &str,
    row: impl Fn(&[String]) -> String,
) -> String {
    (0..n)
        .map(|i| {
            let marks: Vec<String> = (1..=width)
                .map(|j| {
                    if pg {
                        format!("${}", i * width + j)
                    } else {
                        "?".into()
                    }
                })
                .collect();
            row(&marks)
        })
        .collect::<Vec<_>>()
        .join(sep)
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
        let sql = format!(
            "SELECT account, key, request_hash, {}, response FROM idempotency_keys WHERE {}",
            if pg { "status::int8" } else { "status" },
            placeholders(pg, keys.len(), 2, " OR ", |m| {
                format!("(account = {} AND key = {})", m[0], m[1])
            })
        );
        type KeyRow = (String, String, String, i64, String);
        let rows: Vec<KeyRow> = match self {
            Tx::Sqlite(tx, _) => {
                let mut q = sqlx::query_as(&sql);
                for (a, k) in keys {
                    q = q.bind(a.to_hex()).bind(k.as_str());
                }
                q.fetch_all(&mut **tx).await?
            }
            Tx::Postgres(tx, _) => {
                let mut q = sqlx::query_as(&sql);
                for (a, k) in keys {
                    q = q.bind(a.to_hex()).bind(k.as_str());
                }
                q.fetch_all(&mut **tx).await?
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
        let text = format!(
            "INSERT INTO idempotency_keys (account, key, request_hash, status, response, created) VALUES {}",
            placeholders(pg, records.len(), 6, ", ", |m| format!("({})", m.join(", ")))
        );
        let mut params = Vec::with_capacity(6 * records.len());
        for r in records {
            params.extend([
                Param::Text(r.account.to_hex()),
                Param::Text(r.key.to_string()),
                Param::Text(r.used.request_hash.clone()),
                Param::Int(i64::from(r.used.status)),
                Param::Text(r.used.response.clone()),
                Param::Int(r.created),
            ]);
        }
        self.execute(&Sql { text, params }).await?;
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
