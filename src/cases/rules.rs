//! Each creditor's policy and flow configuration, read once per transaction or batch.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::flow::FlowConfig;
use crate::domain::policy::CreditorPolicy;
use crate::domain::ObjectId;
use crate::store::{StoreError, Tx};

/// Policies and flow configurations read so far, by creditor and by id.
#[derive(Default)]
pub struct RuleBook {
    policies: HashMap<ObjectId, Arc<CreditorPolicy>>,
    flows: HashMap<ObjectId, Arc<FlowConfig>>,
}

impl RuleBook {
    pub fn new() -> RuleBook {
        RuleBook::default()
    }

    /// The creditor's policy (the default one when none is stored).
    pub async fn policy(
        &mut self,
        tx: &mut Tx<'_>,
        creditor: &ObjectId,
    ) -> Result<Arc<CreditorPolicy>, StoreError> {
        if let Some(p) = self.policies.get(creditor) {
            return Ok(p.clone());
        }
        let mut policy: CreditorPolicy = match tx.creditor_policy(creditor).await? {
            Some(doc) => serde_json::from_str(&doc)
                .map_err(|e| StoreError::Document(format!("creditor {creditor}'s policy: {e}")))?,
            None => CreditorPolicy::default(),
        };
        // Never stored: only a sandbox account's flow simulates Kronofogden.
        policy.in_sandbox = tx.creditor_in_sandbox(creditor).await?;
        let policy = Arc::new(policy);
        self.policies.insert(*creditor, policy.clone());
        Ok(policy)
    }

    /// A flow configuration by id; the built-in default for its id or one not stored.
    pub async fn flow(
        &mut self,
        tx: &mut Tx<'_>,
        id: &ObjectId,
    ) -> Result<Arc<FlowConfig>, StoreError> {
        if let Some(f) = self.flows.get(id) {
            return Ok(f.clone());
        }
        let default = FlowConfig::default_swedish();
        let flow = if *id == default.id {
            default.clone()
        } else {
            match tx.flow_config(id).await? {
                Some(doc) => serde_json::from_str(&doc)
                    .map_err(|e| StoreError::Document(format!("flow configuration {id}: {e}")))?,
                None => {
                    tracing::warn!(flow_config = %id, "unknown flow configuration; using the default");
                    default.clone()
                }
            }
        };
        let flow = Arc::new(flow);
        self.flows.insert(*id, flow.clone());
        Ok(flow)
    }

    /// The creditor's rules if they have been read already.
    pub fn cached(&self, creditor: &ObjectId) -> Option<(Arc<CreditorPolicy>, Arc<FlowConfig>)> {
        let policy = self.policies.get(creditor)?;
        let flow = self.flows.get(&policy.flow_config)?;
        Some((policy.clone(), flow.clone()))
    }

    /// The creditor's policy and the flow configuration it names.
    pub async fn rules(
        &mut self,
        tx: &mut Tx<'_>,
        creditor: &ObjectId,
    ) -> Result<(Arc<CreditorPolicy>, Arc<FlowConfig>), StoreError> {
        let policy = self.policy(tx, creditor).await?;
        let flow = self.flow(tx, &policy.flow_config).await?;
        Ok((policy, flow))
    }
}
