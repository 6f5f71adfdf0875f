//! Creditors' policies and flow configurations, kept as JSON beside the creditor documents.

use super::exec::Ty;
use super::{StoreError, Tx};
use crate::domain::ObjectId;
use crate::sql::{query, Param};

impl Tx<'_> {
    /// A creditor's stored policy document, if it has one.
    pub async fn creditor_policy(
        &mut self,
        creditor: &ObjectId,
    ) -> Result<Option<String>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT doc FROM creditor_policies WHERE creditor = ?",
            vec![Param::Text(creditor.to_hex())],
        );
        let rows = self.cells(sql, &[Ty::Text]).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|mut r| r.remove(0).into_text()))
    }

    /// Whether the creditor belongs to a sandbox account.
    pub async fn creditor_in_sandbox(&mut self, creditor: &ObjectId) -> Result<bool, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT cl.sandbox FROM creditors c JOIN account_clocks cl ON cl.account = c.account \
             WHERE c.id = ?",
            vec![Param::Text(creditor.to_hex())],
        );
        let rows = self.cells(sql, &[Ty::Int]).await?;
        Ok(rows.first().is_some_and(|r| r[0].int() == Some(1)))
    }

    pub async fn set_creditor_policy(
        &mut self,
        creditor: &ObjectId,
        account: &ObjectId,
        doc: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = query(
            self.dialect(),
            "INSERT INTO creditor_policies (creditor, account, updated, doc) VALUES (?, ?, ?, ?) \
             ON CONFLICT (creditor) DO UPDATE SET updated = excluded.updated, doc = excluded.doc",
            vec![
                Param::Text(creditor.to_hex()),
                Param::Text(account.to_hex()),
                Param::Int(now),
                Param::Text(doc.to_string()),
            ],
        );
        self.execute(sql).await?;
        Ok(())
    }

    /// A stored flow configuration, if there is one with this id.
    pub async fn flow_config(&mut self, id: &ObjectId) -> Result<Option<String>, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT doc FROM flow_configs WHERE id = ?",
            vec![Param::Text(id.to_hex())],
        );
        let rows = self.cells(sql, &[Ty::Text]).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|mut r| r.remove(0).into_text()))
    }

    pub async fn put_flow_config(
        &mut self,
        id: &ObjectId,
        doc: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = query(
            self.dialect(),
            "INSERT INTO flow_configs (id, created, doc) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            vec![
                Param::Text(id.to_hex()),
                Param::Int(now),
                Param::Text(doc.to_string()),
            ],
        );
        self.execute(sql).await?;
        Ok(())
    }
}
