//! The bank payments already imported, by their key (payee bankgiro, payment date, deposit
//! serial, BGC serial): a payment in a second file is not booked twice.

use std::collections::HashSet;

use super::flow::numbered;
use super::{StoreError, Tx};
use crate::eve::sql::{Param, Sql};

impl Tx<'_> {
    /// The keys of `keys` already imported.
    pub async fn imported_bank_payments(
        &mut self,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        let pg = matches!(self, Tx::Postgres(..));
        for chunk in keys.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = Sql {
                text: numbered(
                    pg,
                    &format!("SELECT key FROM bank_payments WHERE key IN ({marks})"),
                ),
                params: chunk.iter().map(|k| Param::Text(k.clone())).collect(),
            };
            let found: Vec<String> = match self {
                Tx::Sqlite(tx, _) => {
                    let mut q = sqlx::query_scalar(&sql.text);
                    for k in chunk {
                        q = q.bind(k.as_str());
                    }
                    q.fetch_all(&mut **tx).await?
                }
                Tx::Postgres(tx, _) => {
                    let mut q = sqlx::query_scalar(&sql.text);
                    for k in chunk {
                        q = q.bind(k.as_str());
                    }
                    q.fetch_all(&mut **tx).await?
                }
            };
            known.extend(found);
        }
        Ok(known)
    }

    /// Records payments as imported from `bank_file`.
    pub async fn record_bank_payments(
        &mut self,
        keys: &[String],
        bank_file: &str,
    ) -> Result<(), StoreError> {
        let pg = matches!(self, Tx::Postgres(..));
        for chunk in keys.chunks(500) {
            let rows = vec!["(?, ?)"; chunk.len()].join(", ");
            let mut params = Vec::with_capacity(2 * chunk.len());
            for k in chunk {
                params.push(Param::Text(k.clone()));
                params.push(Param::Text(bank_file.to_string()));
            }
            let sql = Sql {
                text: numbered(
                    pg,
                    &format!("INSERT INTO bank_payments (key, bank_file) VALUES {rows}"),
                ),
                params,
            };
            self.execute(&sql).await?;
        }
        Ok(())
    }
}
