//! Storage of API credentials and access tokens (plain tables, not Eve resources).

use sqlx::Row as _;

use super::{Backend, Store, StoreError, Tx};
use crate::auth::jwt::Algorithm;
use crate::auth::keys::token_hash;
use crate::auth::{ApiCredential, Grant};
use crate::domain::ObjectId;

/// `?` placeholders → `$1, $2, …` for PostgreSQL.
pub(super) fn pg(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn oid(s: String) -> Result<ObjectId, StoreError> {
    ObjectId::parse(&s).map_err(|_| StoreError::Document(format!("bad id {s}")))
}

// API codes are looked up and stored by their SHA-256 (`token_hash`), never in plain text.
const INSERT_CREDENTIAL: &str = "INSERT INTO api_credentials (api_code_hash, user_id, account, creditor, algorithm, public_key_pem, created, hashed) VALUES (?, ?, ?, ?, ?, ?, ?, 1)";
const SELECT_CREDENTIAL: &str = "SELECT user_id, account, creditor, algorithm, public_key_pem FROM api_credentials WHERE api_code_hash = ?";
const INSERT_TOKEN: &str = "INSERT INTO access_tokens (token_hash, api_code_hash, account, creditor, expires) VALUES (?, ?, ?, ?, ?)";
const PLAIN_CODES: &str = "SELECT api_code_hash FROM api_credentials WHERE hashed = 0";
const HASH_CREDENTIAL: &str =
    "UPDATE api_credentials SET api_code_hash = ?, hashed = 1 WHERE api_code_hash = ? AND hashed = 0";
const HASH_TOKENS: &str = "UPDATE access_tokens SET api_code_hash = ? WHERE api_code_hash = ?";
const SELECT_TOKEN: &str =
    "SELECT t.account, t.creditor, t.expires, c.user_id FROM access_tokens t \
     LEFT JOIN api_credentials c ON c.api_code_hash = t.api_code_hash WHERE t.token_hash = ?";
const DELETE_EXPIRED: &str = "DELETE FROM access_tokens WHERE expires < ?";

impl Tx<'_> {
    /// Registers an API user's credentials in this transaction.
    pub async fn insert_api_credential(
        &mut self,
        c: &ApiCredential,
        created: i64,
    ) -> Result<(), StoreError> {
        let creditor = c.creditor.map(|c| c.to_hex());
        match self {
            Tx::Sqlite(tx, _) => {
                sqlx::query(INSERT_CREDENTIAL)
                    .bind(token_hash(&c.api_code))
                    .bind(c.user.to_hex())
                    .bind(c.account.to_hex())
                    .bind(creditor)
                    .bind(c.algorithm.as_str())
                    .bind(&c.public_key_pem)
                    .bind(created)
                    .execute(&mut **tx)
                    .await?;
            }
            Tx::Postgres(tx, _) => {
                sqlx::query(&pg(INSERT_CREDENTIAL))
                    .bind(token_hash(&c.api_code))
                    .bind(c.user.to_hex())
                    .bind(c.account.to_hex())
                    .bind(creditor)
                    .bind(c.algorithm.as_str())
                    .bind(&c.public_key_pem)
                    .bind(created)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }
}

const DELETE_CREDITOR_CREDENTIALS: &str =
    "DELETE FROM api_credentials WHERE account = ? AND creditor = ?";
const DELETE_CREDITOR_TOKENS: &str = "DELETE FROM access_tokens WHERE account = ? AND creditor = ?";

const DELETE_USER_TOKENS: &str = "DELETE FROM access_tokens WHERE api_code_hash IN \
     (SELECT api_code_hash FROM api_credentials WHERE account = ? AND user_id = ?)";
const DELETE_USER_CREDENTIALS: &str =
    "DELETE FROM api_credentials WHERE account = ? AND user_id = ?";

impl Tx<'_> {
    /// Revokes one API user's credentials and the access tokens issued to them.
    pub async fn revoke_user_credentials(
        &mut self,
        account: &ObjectId,
        user: &ObjectId,
    ) -> Result<(), StoreError> {
        let (a, u) = (account.to_hex(), user.to_hex());
        for sql in [DELETE_USER_TOKENS, DELETE_USER_CREDENTIALS] {
            match self {
                Tx::Sqlite(tx, _) => {
                    sqlx::query(sql)
                        .bind(&a)
                        .bind(&u)
                        .execute(&mut **tx)
                        .await?;
                }
                Tx::Postgres(tx, _) => {
                    sqlx::query(&pg(sql))
                        .bind(&a)
                        .bind(&u)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Revokes the API credentials and access tokens bound to a creditor.
    pub async fn revoke_creditor_credentials(
        &mut self,
        account: &ObjectId,
        creditor: &ObjectId,
    ) -> Result<(), StoreError> {
        for sql in [DELETE_CREDITOR_CREDENTIALS, DELETE_CREDITOR_TOKENS] {
            match self {
                Tx::Sqlite(tx, _) => {
                    sqlx::query(sql)
                        .bind(account.to_hex())
                        .bind(creditor.to_hex())
                        .execute(&mut **tx)
                        .await?;
                }
                Tx::Postgres(tx, _) => {
                    sqlx::query(&pg(sql))
                        .bind(account.to_hex())
                        .bind(creditor.to_hex())
                        .execute(&mut **tx)
                        .await?;
                }
            }
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
        let plain: Vec<String> = match &mut tx {
            Tx::Sqlite(t, _) => sqlx::query_scalar(PLAIN_CODES).fetch_all(&mut **t).await?,
            Tx::Postgres(t, _) => sqlx::query_scalar(PLAIN_CODES).fetch_all(&mut **t).await?,
        };
        for code in &plain {
            let hash = token_hash(code);
            for sql in [HASH_CREDENTIAL, HASH_TOKENS] {
                match &mut tx {
                    Tx::Sqlite(t, _) => {
                        sqlx::query(sql)
                            .bind(&hash)
                            .bind(code)
                            .execute(&mut **t)
                            .await?;
                    }
                    Tx::Postgres(t, _) => {
                        sqlx::query(&pg(sql))
                            .bind(&hash)
                            .bind(code)
                            .execute(&mut **t)
                            .await?;
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(plain.len() as u64)
    }

    pub async fn api_credential(
        &self,
        api_code: &str,
    ) -> Result<Option<ApiCredential>, StoreError> {
        let row = match &self.backend {
            Backend::Sqlite(s) => {
                let r = sqlx::query(SELECT_CREDENTIAL)
                    .bind(token_hash(api_code))
                    .fetch_optional(s.reader())
                    .await?;
                r.map(|r| -> Result<_, sqlx::Error> {
                    Ok((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                    ))
                })
                .transpose()?
            }
            Backend::Postgres(p) => {
                let r = sqlx::query(&pg(SELECT_CREDENTIAL))
                    .bind(token_hash(api_code))
                    .fetch_optional(p.pool())
                    .await?;
                r.map(|r| -> Result<_, sqlx::Error> {
                    Ok((
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                    ))
                })
                .transpose()?
            }
        };
        let Some((user, account, creditor, algorithm, public_key_pem)): Option<(
            String,
            String,
            Option<String>,
            String,
            String,
        )> = row
        else {
            return Ok(None);
        };
        Ok(Some(ApiCredential {
            api_code: api_code.to_string(),
            user: oid(user)?,
            account: oid(account)?,
            creditor: creditor.map(oid).transpose()?,
            algorithm: Algorithm::parse(&algorithm)
                .ok_or_else(|| StoreError::Document(format!("unknown algorithm {algorithm}")))?,
            public_key_pem,
        }))
    }

    /// Stores a newly issued access token (by hash) and drops expired ones.
    pub async fn insert_token(
        &self,
        hash: &str,
        c: &ApiCredential,
        expires: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let creditor = c.creditor.map(|c| c.to_hex());
        match &self.backend {
            Backend::Sqlite(s) => {
                let mut tx = s.begin().await?;
                sqlx::query(DELETE_EXPIRED)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_TOKEN)
                    .bind(hash)
                    .bind(token_hash(&c.api_code))
                    .bind(c.account.to_hex())
                    .bind(creditor)
                    .bind(expires)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Backend::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query(&pg(DELETE_EXPIRED))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&pg(INSERT_TOKEN))
                    .bind(hash)
                    .bind(token_hash(&c.api_code))
                    .bind(c.account.to_hex())
                    .bind(creditor)
                    .bind(expires)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The grant of a token, by hash (expired or not; the caller checks).
    pub async fn token(&self, hash: &str) -> Result<Option<Grant>, StoreError> {
        let row: Option<(String, Option<String>, i64, Option<String>)> = match &self.backend {
            Backend::Sqlite(s) => {
                sqlx::query_as(SELECT_TOKEN)
                    .bind(hash)
                    .fetch_optional(s.reader())
                    .await?
            }
            Backend::Postgres(p) => {
                sqlx::query_as(&pg(SELECT_TOKEN))
                    .bind(hash)
                    .fetch_optional(p.pool())
                    .await?
            }
        };
        row.map(|(account, creditor, expires, user)| {
            Ok(Grant {
                account: oid(account)?,
                creditor: creditor.map(oid).transpose()?,
                expires,
                user: user.map(oid).transpose()?,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(super::pg("a = ? AND b = ?"), "a = $1 AND b = $2");
    }
}
