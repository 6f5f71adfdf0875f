//! API credentials and access tokens (plain tables, not Eve resources). API codes and tokens
//! are stored and looked up by their SHA-256 ([`token_hash`]), never in plain text. What the
//! rows mean is `crate::auth`'s business: this file only keeps them.

use sha2::{Digest, Sha256};

use super::exec::Ty;
use super::{Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::sql::{query, Param};

/// What is stored for an API code or an access token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An API user's credential as stored (the code itself is not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCredential {
    pub user: ObjectId,
    pub account: ObjectId,
    pub creditor: Option<ObjectId>,
    /// `ES256`, `RS256`, …
    pub algorithm: String,
    pub public_key_pem: String,
}

/// An access token's grant as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    pub account: ObjectId,
    pub creditor: Option<ObjectId>,
    pub expires: i64,
    /// The API user it was issued to (its credential may be gone).
    pub user: Option<ObjectId>,
}

fn oid(s: Option<String>) -> Result<ObjectId, StoreError> {
    s.as_deref()
        .and_then(|s| ObjectId::parse(s).ok())
        .ok_or_else(|| StoreError::Document(format!("bad id {s:?}")))
}

fn opt_oid(s: Option<String>) -> Result<Option<ObjectId>, StoreError> {
    s.map(|s| oid(Some(s))).transpose()
}

impl Tx<'_> {
    /// Registers an API user's credential (its code stored hashed).
    pub async fn insert_api_credential(
        &mut self,
        api_code: &str,
        c: &StoredCredential,
        created: i64,
    ) -> Result<(), StoreError> {
        let sql = query(
            self.dialect(),
            "INSERT INTO api_credentials (api_code_hash, user_id, account, creditor, algorithm, public_key_pem, created, hashed) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
            vec![
                Param::Text(token_hash(api_code)),
                Param::Text(c.user.to_hex()),
                Param::Text(c.account.to_hex()),
                Param::opt_text(c.creditor.map(|c| c.to_hex())),
                Param::Text(c.algorithm.clone()),
                Param::Text(c.public_key_pem.clone()),
                Param::Int(created),
            ],
        );
        self.execute(sql).await?;
        Ok(())
    }

    /// Revokes one API user's credentials and the access tokens issued to them.
    pub async fn revoke_user_credentials(
        &mut self,
        account: &ObjectId,
        user: &ObjectId,
    ) -> Result<(), StoreError> {
        for template in [
            "DELETE FROM access_tokens WHERE api_code_hash IN \
             (SELECT api_code_hash FROM api_credentials WHERE account = ? AND user_id = ?)",
            "DELETE FROM api_credentials WHERE account = ? AND user_id = ?",
        ] {
            let sql = query(
                self.dialect(),
                template,
                vec![Param::Text(account.to_hex()), Param::Text(user.to_hex())],
            );
            self.execute(sql).await?;
        }
        Ok(())
    }

    /// Revokes the API credentials and access tokens bound to a creditor.
    pub async fn revoke_creditor_credentials(
        &mut self,
        account: &ObjectId,
        creditor: &ObjectId,
    ) -> Result<(), StoreError> {
        for template in [
            "DELETE FROM api_credentials WHERE account = ? AND creditor = ?",
            "DELETE FROM access_tokens WHERE account = ? AND creditor = ?",
        ] {
            let sql = query(
                self.dialect(),
                template,
                vec![
                    Param::Text(account.to_hex()),
                    Param::Text(creditor.to_hex()),
                ],
            );
            self.execute(sql).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Hashes the API codes an older release stored in plain text (migration 0012 marks
    /// them), with the access tokens that name them, in one transaction. Runs when the
    /// database is opened; does nothing once every code is hashed.
    pub(super) async fn hash_plain_api_codes(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let sql = query(
            self.dialect(),
            "SELECT api_code_hash FROM api_credentials WHERE hashed = 0",
            vec![],
        );
        let plain: Vec<String> = tx
            .cells(sql, &[Ty::Text])
            .await?
            .into_iter()
            .filter_map(|mut r| r.remove(0).into_text())
            .collect();
        for code in &plain {
            let hash = token_hash(code);
            for template in [
                "UPDATE api_credentials SET api_code_hash = ?, hashed = 1 WHERE api_code_hash = ? AND hashed = 0",
                "UPDATE access_tokens SET api_code_hash = ? WHERE api_code_hash = ?",
            ] {
                let sql = query(
                    self.dialect(),
                    template,
                    vec![Param::Text(hash.clone()), Param::Text(code.clone())],
                );
                tx.execute(sql).await?;
            }
        }
        tx.commit().await?;
        Ok(plain.len() as u64)
    }

    /// The credential of an API code.
    pub async fn api_credential(
        &self,
        api_code: &str,
    ) -> Result<Option<StoredCredential>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT user_id, account, creditor, algorithm, public_key_pem FROM api_credentials WHERE api_code_hash = ?",
            vec![Param::Text(token_hash(api_code))],
        );
        let rows = self.cells(sql, &[Ty::Text; 5]).await?;
        let Some(r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let mut r = r.into_iter().map(|c| c.into_text());
        let mut next = || r.next().flatten();
        Ok(Some(StoredCredential {
            user: oid(next())?,
            account: oid(next())?,
            creditor: opt_oid(next())?,
            algorithm: next().unwrap_or_default(),
            public_key_pem: next().unwrap_or_default(),
        }))
    }

    /// Stores a newly issued access token (by hash) for the credential of `api_code`, and
    /// drops expired ones.
    pub async fn insert_token(
        &self,
        hash: &str,
        api_code: &str,
        c: &StoredCredential,
        expires: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let d = tx.dialect();
        tx.execute(query(
            d,
            "DELETE FROM access_tokens WHERE expires < ?",
            vec![Param::Int(now)],
        ))
        .await?;
        tx.execute(query(
            d,
            "INSERT INTO access_tokens (token_hash, api_code_hash, account, creditor, expires) VALUES (?, ?, ?, ?, ?)",
            vec![
                Param::Text(hash.to_string()),
                Param::Text(token_hash(api_code)),
                Param::Text(c.account.to_hex()),
                Param::opt_text(c.creditor.map(|c| c.to_hex())),
                Param::Int(expires),
            ],
        ))
        .await?;
        tx.commit().await
    }

    /// The grant of a token, by hash (expired or not; the caller checks).
    pub async fn token(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT t.account, t.creditor, t.expires, c.user_id FROM access_tokens t \
             LEFT JOIN api_credentials c ON c.api_code_hash = t.api_code_hash WHERE t.token_hash = ?",
            vec![Param::Text(hash.to_string())],
        );
        let rows = self
            .cells(sql, &[Ty::Text, Ty::Text, Ty::Int, Ty::Text])
            .await?;
        let Some(mut r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let expires = r[2].int().unwrap_or(0);
        let mut take =
            |i: usize| std::mem::replace(&mut r[i], super::exec::Cell::Text(None)).into_text();
        Ok(Some(StoredToken {
            account: oid(take(0))?,
            creditor: opt_oid(take(1))?,
            expires,
            user: opt_oid(take(3))?,
        }))
    }
}
