//! The bank payments already imported, by their key (payee bankgiro, payment date, deposit
//! serial, BGC serial): a payment in a second file is not booked twice.

use std::collections::HashSet;

use super::exec::Ty;
use super::{StoreError, Tx};
use crate::sql::Param;

impl Tx<'_> {
    /// The keys of `keys` already imported.
    pub async fn imported_bank_payments(
        &mut self,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        for chunk in keys.chunks(500) {
            let mut st = self.statement();
            st.push("SELECT key FROM bank_payments WHERE key IN (")
                .list(chunk.iter().map(|k| Param::Text(k.clone())))
                .push(")");
            known.extend(
                self.cells(st.finish(), &[Ty::Text])
                    .await?
                    .into_iter()
                    .filter_map(|mut r| r.remove(0).into_text()),
            );
        }
        Ok(known)
    }

    /// Records payments as imported from `bank_file`.
    pub async fn record_bank_payments(
        &mut self,
        keys: &[String],
        bank_file: &str,
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(500) {
            let mut st = self.statement();
            st.push("INSERT INTO bank_payments (key, bank_file) VALUES ");
            for (i, k) in chunk.iter().enumerate() {
                if i > 0 {
                    st.push(", ");
                }
                st.row([Param::Text(k.clone()), Param::Text(bank_file.to_string())]);
            }
            self.execute(st.finish()).await?;
        }
        Ok(())
    }
}
