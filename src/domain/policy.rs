//! What an agency agreed with a creditor about how its cases are worked: the fees, the order
//! in which payments settle a claim, and the flow configuration. Set by the agency's operator
//! (`indriva admin creditor policy`), never by the creditor's integration.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::allocation::AllocationOrder;
use super::fees::FeePolicy;
use super::flow::FlowConfig;
use super::ObjectId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreditorPolicy {
    pub fees: FeePolicy,
    /// The order in which a debtor's payment settles costs, interest and capital.
    pub allocation_order: AllocationOrder,
    /// The flow configuration new and running cases follow.
    pub flow_config: ObjectId,
}

impl Default for CreditorPolicy {
    fn default() -> Self {
        CreditorPolicy {
            fees: FeePolicy::default(),
            allocation_order: AllocationOrder::default(),
            flow_config: FlowConfig::default_swedish().id,
        }
    }
}

impl CreditorPolicy {
    /// The sandbox creditor's policy: no collection fee, so that seed 002's case has the
    /// ledger Amili's guide shows (capital 2000, interest 14, costs 0).
    pub fn sandbox() -> Self {
        CreditorPolicy {
            fees: FeePolicy {
                collection_fee: super::Money::ZERO,
                ..FeePolicy::default()
            },
            ..CreditorPolicy::default()
        }
    }

    /// Problems as `(field, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .fees
            .problems()
            .into_iter()
            .map(|(f, m)| (format!("fees.{f}"), m))
            .collect();
        if let Some(m) = self.allocation_order.problem() {
            out.push(("allocation_order".into(), m));
        }
        out
    }
}
