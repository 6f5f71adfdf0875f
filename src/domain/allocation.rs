//! Allocation of a payment within one case (avräkning, domain-se.md §5): by Swedish
//! collection practice costs first, then interest, then capital; the order is a per-creditor
//! setting. What is left after every component is paid is an overpayment.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ledger::{Balances, TransactionType};
use super::Money;

/// The components of a claim a payment can settle, in the order they are settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct AllocationOrder(pub Vec<TransactionType>);

impl Default for AllocationOrder {
    fn default() -> Self {
        AllocationOrder(vec![
            TransactionType::Costs,
            TransactionType::Interest,
            TransactionType::Capital,
        ])
    }
}

impl AllocationOrder {
    /// Every component exactly once.
    pub fn problem(&self) -> Option<String> {
        let all = [
            TransactionType::Costs,
            TransactionType::Interest,
            TransactionType::Capital,
        ];
        (self.0.len() != 3 || !all.iter().all(|k| self.0.contains(k)))
            .then(|| "must name costs, interest and capital, each once".to_string())
    }
}

/// How a payment splits over the components, and what is left over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocation {
    /// (component, amount settled), in allocation order, zero amounts left out.
    pub parts: Vec<(TransactionType, Money)>,
    pub overpaid: Money,
}

impl Allocation {
    pub fn settled(&self) -> Money {
        self.parts.iter().map(|(_, m)| *m).sum()
    }
}

/// Splits `amount` over what remains of each component.
pub fn allocate(amount: Money, remaining: &Balances, order: &AllocationOrder) -> Allocation {
    let mut left = amount;
    let mut parts = Vec::new();
    for kind in &order.0 {
        let open = match kind {
            TransactionType::Capital => remaining.remaining_capital,
            TransactionType::Interest => remaining.remaining_interest,
            TransactionType::Costs => remaining.remaining_costs,
        };
        let part = left.min(open.max(Money::ZERO));
        if part > Money::ZERO {
            parts.push((*kind, part));
            left -= part;
        }
    }
    Allocation {
        parts,
        overpaid: left,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remaining(capital: i64, interest: i64, costs: i64) -> Balances {
        Balances {
            remaining_capital: Money::from_kronor(capital),
            remaining_interest: Money::from_kronor(interest),
            remaining_costs: Money::from_kronor(costs),
            ..Balances::default()
        }
    }

    #[test]
    fn costs_then_interest_then_capital() {
        let a = allocate(
            Money::from_kronor(250),
            &remaining(2000, 14, 180),
            &AllocationOrder::default(),
        );
        assert_eq!(
            a.parts,
            vec![
                (TransactionType::Costs, Money::from_kronor(180)),
                (TransactionType::Interest, Money::from_kronor(14)),
                (TransactionType::Capital, Money::from_kronor(56)),
            ]
        );
        assert_eq!(a.overpaid, Money::ZERO);
        assert_eq!(a.settled(), Money::from_kronor(250));
    }

    #[test]
    fn another_order_and_an_overpayment() {
        let order = AllocationOrder(vec![
            TransactionType::Capital,
            TransactionType::Interest,
            TransactionType::Costs,
        ]);
        assert!(order.problem().is_none());
        let a = allocate(Money::from_kronor(2300), &remaining(2000, 14, 180), &order);
        assert_eq!(
            a.parts[0],
            (TransactionType::Capital, Money::from_kronor(2000))
        );
        assert_eq!(a.settled(), Money::from_kronor(2194));
        assert_eq!(a.overpaid, Money::from_kronor(106));
        assert!(AllocationOrder(vec![TransactionType::Capital])
            .problem()
            .is_some());
    }
}
