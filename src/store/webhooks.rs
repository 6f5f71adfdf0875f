//! What webhooks keep besides documents: the signing secrets (served once, in the 201 that
//! made them) and the claim on deliveries whose time has come.

use super::flow::{sql, Ty};
use super::{Store, StoreError, Tx};
use crate::domain::ObjectId;
use crate::eve::sql::Param;

impl Tx<'_> {
    pub async fn insert_webhook_secret(
        &mut self,
        webhook: &ObjectId,
        secret: &str,
    ) -> Result<(), StoreError> {
        let q = sql(
            self.is_pg(),
            "INSERT INTO webhook_secrets (webhook, secret) VALUES (?, ?)",
            vec![
                Param::Text(webhook.to_hex()),
                Param::Text(secret.to_string()),
            ],
        );
        self.execute(&q).await?;
        Ok(())
    }

    pub async fn delete_webhook_secret(&mut self, webhook: &ObjectId) -> Result<(), StoreError> {
        let q = sql(
            self.is_pg(),
            "DELETE FROM webhook_secrets WHERE webhook = ?",
            vec![Param::Text(webhook.to_hex())],
        );
        self.execute(&q).await?;
        Ok(())
    }
}

impl Store {
    /// A webhook's signing secret; `None` once the webhook is deleted.
    pub async fn webhook_secret(&self, webhook: &ObjectId) -> Result<Option<String>, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT secret FROM webhook_secrets WHERE webhook = ?",
            vec![Param::Text(webhook.to_hex())],
        );
        let rows = self.cells(&q, &[Ty::Text]).await?;
        Ok(rows.first().and_then(|r| r[0].text()).map(str::to_string))
    }

    /// Takes up to `limit` deliveries due by `now` (real time), leasing them until
    /// `lease_until` so no other worker sends them meanwhile; their ids, the longest-due
    /// first. A delivery whose sender dies is taken again when the lease ends.
    pub async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<ObjectId>, StoreError> {
        let pg = self.pg();
        let text = format!(
            "UPDATE webhook_deliveries SET next_attempt = ? WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE next_attempt <= ? \
             ORDER BY next_attempt, id LIMIT ?{}) RETURNING id, next_attempt",
            if pg { " FOR UPDATE SKIP LOCKED" } else { "" }
        );
        let q = sql(
            pg,
            &text,
            vec![Param::Int(lease_until), Param::Int(now), Param::Int(limit)],
        );
        let mut tx = self.begin().await?;
        let rows = tx.cells(&q, &[Ty::Text, Ty::Int]).await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .filter_map(|r| r[0].text().and_then(|t| ObjectId::parse(t).ok()))
            .collect())
    }

    /// Seconds the longest-waiting due delivery has waited (0 when none is due).
    pub async fn delivery_lag(&self, now: i64) -> Result<i64, StoreError> {
        let q = sql(
            self.pg(),
            "SELECT MIN(next_attempt) FROM webhook_deliveries WHERE next_attempt IS NOT NULL",
            vec![],
        );
        let rows = self.cells(&q, &[Ty::Int]).await?;
        Ok(rows
            .first()
            .and_then(|r| r[0].int())
            .map_or(0, |t| (now - t).max(0)))
    }
}
