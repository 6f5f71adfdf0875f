//! What webhooks keep besides documents: the signing secrets (served once, in the 201 that
//! made them).

use super::exec::Ty;
use super::{Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::sql::{query, Param};

impl Tx<'_> {
    pub async fn insert_webhook_secret(
        &mut self,
        webhook: &ObjectId,
        secret: &str,
    ) -> Result<(), StoreError> {
        let q = query(
            self.dialect(),
            "INSERT INTO webhook_secrets (webhook, secret) VALUES (?, ?)",
            vec![
                Param::Text(webhook.to_hex()),
                Param::Text(secret.to_string()),
            ],
        );
        self.execute(q).await?;
        Ok(())
    }

    pub async fn delete_webhook_secret(&mut self, webhook: &ObjectId) -> Result<(), StoreError> {
        let q = query(
            self.dialect(),
            "DELETE FROM webhook_secrets WHERE webhook = ?",
            vec![Param::Text(webhook.to_hex())],
        );
        self.execute(q).await?;
        Ok(())
    }
}

impl Store {
    /// A webhook's signing secret; `None` once the webhook is deleted.
    pub async fn webhook_secret(&self, webhook: &ObjectId) -> Result<Option<String>, StoreError> {
        let q = query(
            self.dialect(),
            "SELECT secret FROM webhook_secrets WHERE webhook = ?",
            vec![Param::Text(webhook.to_hex())],
        );
        let rows = self.cells(q, &[Ty::Text]).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|mut r| r.remove(0).into_text()))
    }
}
