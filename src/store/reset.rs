//! A sandbox reset: an account's case data deleted, its set-up kept. Which table is which is
//! one list, [`ACCOUNT_DATA_TABLES`] and [`KEPT_ON_RESET`]; a test reads the migrations and
//! fails on a table with an `account` column that is in neither, so a new table is sorted
//! into one when it is made.

use super::exec::Ty;
use super::{StoreError, Tx};
use crate::domain::ObjectId;
use crate::sql::{query, Param};

/// The tables of an account's case data (cases and everything hanging off them, in an order
/// that deletes what refers to a row before the row): a reset deletes the account's rows.
pub const ACCOUNT_DATA_TABLES: &[&str] = &[
    "case_notes",
    "cases",
    "case_registrations",
    "ocr_numbers",
    "case_letters",
    "creditor_payments",
    "creditor_creditings",
    "creditor_cancellations",
    "case_respites",
    "payout_specifications",
    "payouts",
    "webhook_deliveries",
    "customers",
    "jobs",
    "idempotency_keys",
];

/// The tables with an `account` column a reset keeps: the account's set-up (creditors, users
/// and their credentials, webhooks, its clock and policies), the audit trail, and the
/// agency's own (bank files, unmatched payments, operators).
pub const KEPT_ON_RESET: &[&str] = &[
    "accounts",
    "creditors",
    "users",
    "access_groups",
    "api_credentials",
    "access_tokens",
    "account_clocks",
    "creditor_policies",
    "webhooks",
    "audit_events",
    "write_versions",
    "bank_files",
    "unmatched_payments",
    "console_operators",
];

/// Tables that are not Eve resources: their writes are not counted in `write_versions`.
const PLAIN_TABLES: &[&str] = &["jobs", "idempotency_keys", "case_notes"];

impl Tx<'_> {
    /// The media keys of an account's letters and uploaded invoices.
    pub async fn account_media_keys(
        &mut self,
        account: &ObjectId,
    ) -> Result<Vec<String>, StoreError> {
        let a = account.to_hex();
        let mut st = self.statement();
        st.push("SELECT ")
            .json_text("doc", &["file", "id"])
            .push(" FROM case_letters WHERE account = ")
            .text(a.clone())
            .push(" AND ")
            .json_text("doc", &["file", "id"])
            .push(" IS NOT NULL UNION ALL SELECT ")
            .json_text("doc", &["original_invoice", "id"])
            .push(" FROM cases WHERE account = ")
            .text(a)
            .push(" AND ")
            .json_text("doc", &["original_invoice", "id"])
            .push(" IS NOT NULL");
        Ok(self
            .cells(st.finish(), &[Ty::Text])
            .await?
            .into_iter()
            .filter_map(|mut r| r.remove(0).into_text())
            .collect())
    }

    /// Deletes an account's case data (every table of [`ACCOUNT_DATA_TABLES`]); the number
    /// of cases.
    pub async fn delete_account_cases(&mut self, account: &ObjectId) -> Result<u64, StoreError> {
        let a = account.to_hex();
        let mut cases = 0;
        for &table in ACCOUNT_DATA_TABLES {
            let sql = query(
                self.dialect(),
                &format!("DELETE FROM {table} WHERE account = ?"),
                vec![Param::Text(a.clone())],
            );
            let n = self.execute(sql).await?;
            if table == "cases" {
                cases = n;
                self.audit(&crate::resources::ACCOUNTS, &a, &a, "sandbox_reset");
            }
            if !PLAIN_TABLES.contains(&table) && n > 0 {
                self.touch_table(table, &a);
            }
        }
        Ok(cases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every table the migrations leave, with whether it has an `account` column.
    fn tables(dialect: &str) -> Vec<(String, bool)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dialect);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut out: Vec<(String, bool)> = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(f).unwrap();
            let mut current: Option<(String, bool)> = None;
            for line in text.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                match words.as_slice() {
                    ["CREATE", "TABLE", name, ..] => {
                        current = Some((name.trim_end_matches('(').to_string(), false));
                    }
                    ["DROP", "TABLE", name, ..] => {
                        let name = name.trim_end_matches(';');
                        out.retain(|(t, _)| t != name);
                    }
                    ["ALTER", "TABLE", name, "ADD", "COLUMN", "account", ..] => {
                        if let Some(t) = out.iter_mut().find(|(t, _)| t == name) {
                            t.1 = true;
                        }
                    }
                    [first, ..] if current.is_some() && first.starts_with(')') => {
                        out.extend(current.take());
                    }
                    ["account", ..] => {
                        if let Some(c) = current.as_mut() {
                            c.1 = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    #[test]
    fn every_table_with_an_account_is_either_reset_or_kept() {
        for dialect in ["sqlite", "postgres"] {
            let all = tables(dialect);
            let names: BTreeSet<&str> = all.iter().map(|(t, _)| t.as_str()).collect();
            for (table, has_account) in &all {
                let reset = ACCOUNT_DATA_TABLES.contains(&table.as_str());
                let kept = KEPT_ON_RESET.contains(&table.as_str());
                if *has_account {
                    assert!(
                        reset ^ kept,
                        "{dialect}: table {table} has an account column: put it in exactly one of \
                         ACCOUNT_DATA_TABLES (a sandbox reset deletes it) or KEPT_ON_RESET"
                    );
                } else {
                    assert!(
                        !reset,
                        "{dialect}: {table} has no account column to reset by"
                    );
                }
            }
            for t in ACCOUNT_DATA_TABLES.iter().chain(KEPT_ON_RESET) {
                assert!(names.contains(t), "{dialect}: no table {t}");
            }
            assert!(names.contains("cases") && !names.contains("outbox"));
        }
    }
}
