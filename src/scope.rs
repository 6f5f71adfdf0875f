//! Who may see what: every query an API user makes is restricted to its account and, for a
//! creditor-bound user, to its creditors. The SQL compiler turns a [`Scope`] into the
//! `account = ? [AND creditor IN (…)]` clause of every statement.

use crate::domain::ObjectId;

/// Restricts every query to what the caller may see. Applied in the SQL, never by filtering
/// results afterwards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: Option<ObjectId>,
    /// `None`: every creditor of the account; `Some`: only these.
    pub creditors: Option<Vec<ObjectId>>,
}

impl Scope {
    /// No restriction (the admin CLI, and reads before authentication exists).
    pub fn unrestricted() -> Scope {
        Scope::default()
    }

    /// Whether a document of `account` and `creditor` is within the scope (what the SQL
    /// scope clause selects, for a document already in memory).
    pub fn admits(&self, account: &ObjectId, creditor: &ObjectId) -> bool {
        self.account.as_ref().is_none_or(|a| a == account)
            && self
                .creditors
                .as_ref()
                .is_none_or(|cs| cs.contains(creditor))
    }
}
