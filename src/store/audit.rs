//! What a transaction wrote, kept until it commits: the tables and accounts whose write
//! versions are bumped (the count cache's invalidation) and the audit trail's events — one
//! per account and actor, listing the documents written — appended in the same commit.

use super::{StoreError, StoredDoc, Tx};
use crate::domain::ObjectId;
use crate::eve::Resource;
use crate::sql::Param;

/// What a transaction wrote: the tables and accounts (their write versions are bumped at
/// commit) and the documents, for the audit trail (appended at commit).
#[derive(Default)]
pub struct Touched {
    tables: std::collections::BTreeSet<(&'static str, String)>,
    audit: Vec<crate::audit::Pending>,
    /// Items written on someone else's behalf (the registrar's batches): item id → actor.
    on_behalf: std::collections::HashMap<String, crate::audit::Actor>,
    /// Who the transaction writes for, when its caller says (a use case); else the actor of
    /// the task that commits.
    actor: Option<crate::audit::Actor>,
}

impl Touched {
    pub(super) fn insert(&mut self, key: (&'static str, String)) -> bool {
        self.tables.insert(key)
    }

    fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.tables.iter()
    }

    pub(super) fn record(
        &mut self,
        res: &Resource,
        account: &str,
        item: &str,
        action: &'static str,
    ) {
        self.audit.push(crate::audit::Pending {
            account: account.to_string(),
            resource: res.name,
            item: item.to_string(),
            action,
            actor: None,
        });
    }

    /// The audit events of the transaction, as documents to insert: one per account and
    /// actor, listing what it wrote.
    fn audit_docs(&mut self) -> Result<Vec<StoredDoc>, StoreError> {
        if self.audit.is_empty() {
            return Ok(vec![]);
        }
        let actor = self.actor.clone().unwrap_or_else(crate::audit::current);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let at = crate::domain::HttpDate::from_unix(now)
            .ok_or_else(|| StoreError::Document(format!("no date for {now}")))?;
        let pending = std::mem::take(&mut self.audit);
        let mut events: Vec<crate::audit::AuditEvent> = Vec::new();
        for p in pending {
            let who = p
                .actor
                .or_else(|| self.on_behalf.get(&p.item).cloned())
                .unwrap_or_else(|| actor.clone());
            let Ok(item) = ObjectId::parse(&p.item) else {
                continue;
            };
            let write = crate::audit::Write {
                resource: p.resource.to_string(),
                item,
                action: p.action.to_string(),
            };
            match events
                .iter_mut()
                .find(|e| e.account == p.account && e.actor == who)
            {
                Some(e) => e.writes.push(write),
                None => events.push(crate::audit::AuditEvent {
                    id: ObjectId::at(now),
                    account: p.account,
                    actor: who,
                    writes: vec![write],
                    created: at,
                    updated: at,
                    etag: String::new(),
                }),
            }
        }
        let mut docs = Vec::with_capacity(events.len());
        for e in &events {
            docs.push(super::prepare_document(&crate::resources::AUDIT_EVENTS, e)?);
            self.tables
                .insert((crate::resources::AUDIT_EVENTS.table, e.account.clone()));
        }
        Ok(docs)
    }
}

impl Tx<'_> {
    pub(super) fn touched(&mut self) -> &mut Touched {
        match self {
            Tx::Sqlite(_, touched) | Tx::Postgres(_, touched) => touched,
        }
    }

    /// Appends the audit trail of what was written, bumps the write versions and commits.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let events = self.touched().audit_docs()?;
        self.insert_rows(&crate::resources::AUDIT_EVENTS, events, false)
            .await?;
        self.bump_versions().await?;
        match self {
            Tx::Sqlite(tx, _) => tx.commit().await?,
            Tx::Postgres(tx, _) => tx.commit().await?,
        }
        Ok(())
    }

    /// One statement for every table and account the transaction touched.
    async fn bump_versions(&mut self) -> Result<(), StoreError> {
        if self.touched().is_empty() {
            return Ok(());
        }
        let rows: Vec<(String, String)> = self
            .touched()
            .iter()
            .map(|(t, a)| (t.to_string(), a.clone()))
            .collect();
        let mut st = self.statement();
        st.push("INSERT INTO write_versions (tbl, account, version) VALUES ");
        for (i, (table, account)) in rows.into_iter().enumerate() {
            if i > 0 {
                st.push(", ");
            }
            st.row([Param::Text(table), Param::Text(account), Param::Int(1)]);
        }
        st.push(" ON CONFLICT (tbl, account) DO UPDATE SET version = write_versions.version + 1");
        self.execute(st.finish()).await?;
        Ok(())
    }

    /// Attributes the audit events of `items` (written in this transaction for another
    /// request) to `actor`.
    pub fn on_behalf_of(&mut self, actor: &crate::audit::Actor, items: &[String]) {
        let touched = self.touched();
        for i in items {
            touched.on_behalf.insert(i.clone(), actor.clone());
        }
    }

    /// Attributes what the transaction writes to `actor` in the audit trail.
    pub fn set_actor(&mut self, actor: crate::audit::Actor) {
        self.touched().actor = Some(actor);
    }

    /// Records a write the document methods do not see (a sandbox reset, a moved clock) in
    /// the audit trail.
    pub fn audit(&mut self, res: &Resource, account: &str, item: &str, action: &'static str) {
        self.touched().record(res, account, item, action);
    }

    /// Records that the transaction wrote to `table` for `account` (cached counts of it are
    /// invalidated at commit).
    pub(crate) fn touch_table(&mut self, table: &'static str, account: &str) {
        self.touched().insert((table, account.to_string()));
    }
}
