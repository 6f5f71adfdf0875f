//! `Idempotency-Key`: a request that writes records its key, its body's hash and its answer
//! in the same transaction as its writes; a retry finds them. Concurrent requests with the
//! same key are serialised by [`Tx::lock_keys`] (PostgreSQL) or the single writer (SQLite).

use std::collections::HashMap;

use super::exec::{Cell, Ty};
use super::{StoreError, Tx};
use crate::domain::ObjectId;
use crate::sql::{query, Dialect, Param};

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
        let mut st = self.statement();
        st.push("SELECT account, key, request_hash, CAST(status AS BIGINT), response FROM idempotency_keys WHERE ");
        for (i, (a, k)) in keys.iter().enumerate() {
            if i > 0 {
                st.push(" OR ");
            }
            st.push("(account = ")
                .text(a.to_hex())
                .push(" AND key = ")
                .text(k.clone())
                .push(")");
        }
        let rows = self
            .cells(
                st.finish(),
                &[Ty::Text, Ty::Text, Ty::Text, Ty::Int, Ty::Text],
            )
            .await?
            .into_iter()
            .map(|r| {
                let status = r[3].int().unwrap_or_default();
                let mut t = r.into_iter().map(Cell::into_text);
                let (account, key, hash) = (t.next(), t.next(), t.next());
                let response = t.nth(1).flatten();
                (
                    account.flatten().unwrap_or_default(),
                    key.flatten().unwrap_or_default(),
                    hash.flatten().unwrap_or_default(),
                    status,
                    response.unwrap_or_default(),
                )
            });
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
        let mut st = self.statement();
        st.push("INSERT INTO idempotency_keys (account, key, request_hash, status, response, created) VALUES ");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                st.push(", ");
            }
            st.row([
                Param::Text(r.account.to_hex()),
                Param::Text(r.key.to_string()),
                Param::Text(r.used.request_hash.clone()),
                Param::Int(i64::from(r.used.status)),
                Param::Text(r.used.response.clone()),
                Param::Int(r.created),
            ]);
        }
        self.execute(st.finish()).await?;
        Ok(())
    }

    /// Serialises transactions that touch the same logical keys (an invoice number, a
    /// customer, an idempotency key) on PostgreSQL until commit; SQLite has a single writer
    /// already. The keys are locked in sorted order, so two transactions cannot deadlock.
    pub async fn lock_keys(&mut self, keys: &[String]) -> Result<(), StoreError> {
        if self.dialect() == Dialect::Postgres && !keys.is_empty() {
            let mut keys: Vec<String> = keys.to_vec();
            keys.sort_unstable();
            keys.dedup();
            // One statement; PostgreSQL evaluates a volatile select list after the ORDER BY.
            let sql = query(
                Dialect::Postgres,
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) \
                 FROM unnest(?) WITH ORDINALITY AS t(k, n) ORDER BY n",
                vec![Param::TextArray(keys)],
            );
            self.cells(sql, &[]).await?;
        }
        Ok(())
    }
}
