//! The money between agency and creditor (amili-api.md §4.10–§4.11, the alpha shape): every
//! settlement on a case makes payout-specification lines, and a payout run groups a
//! creditor's unpaid lines into a payout. Derived from the ledger lines a change appended, so
//! they can be recomputed from the case. Sign: a positive line is owed to the creditor, a
//! negative one is owed by the creditor (deducted from its payout). See docs/finance.md.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::case::{Case, CaseState};
use super::ledger::{tags, Transaction, TransactionType};
use super::{HttpDate, Money, ObjectId};

/// VAT on the agency's commission, in percent.
pub const VAT_PERCENT: i64 = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinanceCategory {
    /// Capital the debtor paid to the agency: the creditor's.
    Capital,
    /// Interest the debtor paid to the agency: the creditor's.
    Interest,
    /// The agency's fees the creditor owes it (the debtor paid the creditor directly, so the
    /// agency's fees were written off on the case), with VAT.
    CreditorCommission,
    /// Fees the creditor charged before handing the debt over, paid by the debtor to the
    /// agency: passed on to the creditor.
    CreditorOutlay,
}

/// One line a settlement makes, before it is a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinanceLine {
    pub category: FinanceCategory,
    pub article: String,
    pub amount: Money,
    pub vat_amount: Money,
    pub booking_date: HttpDate,
}

/// VAT on `amount`, rounded half away from zero to the öre.
pub fn vat(amount: Money) -> Money {
    let ore = amount.ore() * VAT_PERCENT;
    let rounded = if ore >= 0 {
        (ore + 50) / 100
    } else {
        (ore - 50) / 100
    };
    Money::from_ore(rounded)
}

/// Whose a cost line's money is, which decides what a settlement does with it (the rule
/// and a worked payout are in docs/finance.md, "Fees, outlays and VAT").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostOwner {
    /// The creditor's own claim: its fees from before hand-over (`fees_already_claimed`)
    /// and the B2B förseningsersättning (lag 1981:739, 4 a §), which the law gives the
    /// creditor. Paid to the agency: passed on (`creditor_outlay`, no VAT). Written off:
    /// the creditor's own loss; it owes the agency nothing for it.
    Creditor,
    /// Kronofogden's application fee, which the agency pays in the creditor's name (the
    /// applicant owes it by law): an outlay (utlägg). Paid: the agency has its money back.
    /// Written off: the creditor owes it at cost, without VAT, since an outlay made in the
    /// buyer's name is no consideration for a service (mervärdesskattedirektivet
    /// 2006/112/EG art. 79 c; Skatteverket, ställningstagande 2025-03-25, dnr
    /// 8-112199-2025).
    Outlay,
    /// The agency's own fees for its work (reminder, collection letter, payment plan,
    /// the work of the application). Paid by the debtor: the agency keeps them, no VAT (the
    /// debtor pays damages under lag 1981:739, not for a service). Written off because
    /// the debtor paid the creditor: the creditor owes them as commission for the service
    /// it bought, with 25 % VAT.
    Agency,
}

/// A cost line's payout article (Amili's names where Amili has one) and its owner.
pub fn cost_article(line: &Transaction) -> (String, CostOwner) {
    let tag = line.description_locale_tag.as_str();
    if let Some(kind) = tag.strip_prefix(tags::FEE_ALREADY_CLAIMED) {
        return (kind.to_string(), CostOwner::Creditor);
    }
    let (article, owner) = match tag {
        tags::LATE_PAYMENT_COMPENSATION => ("late_payment_fee", CostOwner::Creditor),
        tags::ENFORCEMENT_APPLICATION_FEE => ("enforcement", CostOwner::Outlay),
        tags::ENFORCEMENT_OWN_WORK_FEE => ("enforcement_own_work", CostOwner::Agency),
        tags::REMINDER_FEE => ("reminder", CostOwner::Agency),
        tags::DEBT_COLLECTION_FEE => ("debt_collection", CostOwner::Agency),
        tags::PAYMENT_PLAN_FEE => ("payment_plan", CostOwner::Agency),
        other => {
            let a = other.trim_start_matches("api.transaction.");
            (a.trim_end_matches("_fee"), CostOwner::Agency)
        }
    };
    (article.to_string(), owner)
}

/// The case's charges in the order the costs a debtor pays settle them: the creditor's own
/// first (in ledger order), then the agency's fees and outlays (in ledger order).
fn charges(all: &[Transaction]) -> Vec<(String, CostOwner, Money)> {
    let mut out: Vec<(String, CostOwner, Money)> = all
        .iter()
        .filter(|t| t.kind == TransactionType::Costs && t.amount > Money::ZERO)
        .map(|t| {
            let (article, owner) = cost_article(t);
            (article, owner, t.amount)
        })
        .collect();
    out.sort_by_key(|(_, owner, _)| *owner != CostOwner::Creditor);
    out
}

/// The parts of `charges` that `amount` settles after `already` was settled, in order.
fn settle(
    charges: &[(String, CostOwner, Money)],
    already: Money,
    amount: Money,
) -> Vec<(&str, CostOwner, Money)> {
    let mut skip = already;
    let mut left = amount;
    let mut out = Vec::new();
    for (article, owner, charged) in charges {
        let covered = skip.min(*charged);
        skip -= covered;
        let part = (*charged - covered).min(left);
        if part > Money::ZERO {
            out.push((article.as_str(), *owner, part));
            left -= part;
        }
    }
    out
}

fn costs_paid(lines: &[Transaction]) -> Money {
    -lines
        .iter()
        .filter(|t| t.kind == TransactionType::Costs && t.is(tags::DEBTOR_PAYMENT))
        .map(|t| t.amount)
        .sum::<Money>()
}

/// The lines made by the ledger lines `case.transactions[before..]` (what one change
/// appended). Costs a debtor pays settle the creditor's own charges first (passed on), then
/// the agency's (which it keeps: no line). When the debtor paid the creditor and the rest
/// was written off, the creditor owes the agency its fees and outlays, one line per
/// article ([`CostOwner`]).
pub fn settlement_lines(case: &Case, before: usize) -> Vec<FinanceLine> {
    let all = &case.transactions;
    let before = before.min(all.len());
    let (old, new) = all.split_at(before);
    let mut out = Vec::new();
    let charges = charges(all);
    let mut costs_settled = costs_paid(old);
    for t in new {
        let day = t.bank_transaction_date.start_of_day();
        let line = |category, article: &str, amount: Money| FinanceLine {
            category,
            article: article.to_string(),
            amount,
            vat_amount: Money::ZERO,
            booking_date: day,
        };
        // Money paid as interest that a backdated payment made no longer owed, moved to
        // capital: the creditor's interest goes down and its capital up by as much.
        if t.is(tags::PAYMENT_REALLOCATED) {
            match t.kind {
                TransactionType::Capital => {
                    out.push(line(FinanceCategory::Capital, "capital", -t.amount))
                }
                TransactionType::Interest => {
                    out.push(line(FinanceCategory::Interest, "interest", -t.amount))
                }
                TransactionType::Costs => {}
            }
        }
        if t.is(tags::DEBTOR_PAYMENT) && t.amount < Money::ZERO {
            let paid = -t.amount;
            match t.kind {
                TransactionType::Capital => {
                    out.push(line(FinanceCategory::Capital, "capital", paid))
                }
                TransactionType::Interest => {
                    out.push(line(FinanceCategory::Interest, "interest", paid))
                }
                TransactionType::Costs => {
                    for (article, owner, part) in settle(&charges, costs_settled, paid) {
                        if owner == CostOwner::Creditor {
                            out.push(line(FinanceCategory::CreditorOutlay, article, part));
                        }
                    }
                    costs_settled += paid;
                }
            }
        }
    }
    // The debtor paid the creditor: what the agency charged and the case wrote off is owed
    // by the creditor, one line per article.
    let paid_to_creditor = new.iter().any(|t| t.is(tags::CREDITOR_PAYMENT));
    let written_off: Money = -new
        .iter()
        .filter(|t| t.kind == TransactionType::Costs && t.is(tags::DEPRECIATED))
        .map(|t| t.amount)
        .sum::<Money>();
    if paid_to_creditor && written_off > Money::ZERO {
        let day = new
            .iter()
            .find(|t| t.is(tags::DEPRECIATED))
            .map(|t| t.bank_transaction_date.start_of_day())
            .unwrap_or(case.updated);
        // One line per article (each article has one owner).
        let mut owed: Vec<(&str, CostOwner, Money)> = Vec::new();
        for (article, owner, part) in settle(&charges, costs_settled, written_off) {
            match owed.iter_mut().find(|(a, _, _)| *a == article) {
                Some((_, _, sum)) => *sum += part,
                None => owed.push((article, owner, part)),
            }
        }
        let owed = owed.into_iter().filter_map(|(article, owner, sum)| {
            let vat_amount = match owner {
                CostOwner::Creditor => return None,
                CostOwner::Outlay => Money::ZERO,
                CostOwner::Agency => vat(-sum),
            };
            Some(FinanceLine {
                category: FinanceCategory::CreditorCommission,
                article: article.to_string(),
                amount: -sum,
                vat_amount,
                booking_date: day,
            })
        });
        out.extend(owed);
    }
    out
}

/// A payout-specification line (`/finance--payout-specifications`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PayoutSpecification {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub creditor_name: String,
    pub case: ObjectId,
    pub currency: String,
    pub amount: Money,
    pub vat_amount: Money,
    pub total_amount: Money,
    pub article: String,
    /// The case's state when the money was settled.
    pub state: CaseState,
    pub booking_date: HttpDate,
    pub finance_category: FinanceCategory,
    pub invoice_number: String,
    pub reference_number: String,
    /// Set by the payout run that pays it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_date: Option<HttpDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_interval: Option<String>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

impl PayoutSpecification {
    pub fn new(id: ObjectId, case: &Case, line: &FinanceLine, now: HttpDate) -> Self {
        PayoutSpecification {
            id,
            account: case.account,
            creditor: case.creditor,
            creditor_name: case.creditor_name.clone(),
            case: case.id,
            currency: "SEK".into(),
            amount: line.amount,
            vat_amount: line.vat_amount,
            total_amount: line.amount + line.vat_amount,
            article: line.article.clone(),
            state: case.state,
            booking_date: line.booking_date,
            finance_category: line.category,
            invoice_number: case.debt.invoice_number.clone(),
            reference_number: case.reference_number.clone(),
            payout: None,
            payout_date: None,
            payout_reference: None,
            payout_interval: None,
            created: now,
            updated: now,
            etag: String::new(),
        }
    }
}

/// One article's total in a payout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PayoutSummary {
    pub finance_category: FinanceCategory,
    pub article: String,
    pub count: i64,
    pub amount: Money,
    pub vat_amount: Money,
    pub total_amount: Money,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// To be paid to the creditor on `payout_date` (positive total).
    Scheduled,
    /// The creditor owes the agency (negative total): to be invoiced.
    ToInvoice,
}

/// A payout to a creditor (`/finance--payouts`): its unpaid lines of one run, summed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Payout {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub creditor_name: String,
    pub currency: String,
    /// The booking dates covered, `YYYY-MM-DD/YYYY-MM-DD`.
    pub finance_interval: String,
    pub payout_date: HttpDate,
    pub payout_reference: String,
    pub status: PayoutStatus,
    pub line_count: i64,
    pub amount: Money,
    pub vat_amount: Money,
    pub total_amount: Money,
    pub summary: Vec<PayoutSummary>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}

/// Groups a creditor's unpaid lines into a payout (`None` when there are none), and marks
/// each line with it. The totals are the sums of the lines, to the öre.
pub fn payout(
    id: ObjectId,
    lines: &mut [PayoutSpecification],
    payout_date: HttpDate,
    now: HttpDate,
) -> Option<Payout> {
    let first = lines.first()?.clone();
    let sum = |f: fn(&PayoutSpecification) -> Money| lines.iter().map(f).sum::<Money>();
    let (amount, vat_amount, total_amount) = (
        sum(|l| l.amount),
        sum(|l| l.vat_amount),
        sum(|l| l.total_amount),
    );
    let mut summary: Vec<PayoutSummary> = Vec::new();
    for l in lines.iter() {
        match summary
            .iter_mut()
            .find(|s| s.finance_category == l.finance_category && s.article == l.article)
        {
            Some(s) => {
                s.count += 1;
                s.amount += l.amount;
                s.vat_amount += l.vat_amount;
                s.total_amount += l.total_amount;
            }
            None => summary.push(PayoutSummary {
                finance_category: l.finance_category,
                article: l.article.clone(),
                count: 1,
                amount: l.amount,
                vat_amount: l.vat_amount,
                total_amount: l.total_amount,
            }),
        }
    }
    let from = lines.iter().map(|l| l.booking_date).min()?;
    let to = lines.iter().map(|l| l.booking_date).max()?;
    let interval = format!(
        "{}/{}",
        from.date().format("%Y-%m-%d"),
        to.date().format("%Y-%m-%d")
    );
    // Unique even when a creditor gets two payouts the same day.
    let hex = id.to_hex();
    let reference = format!(
        "PAYOUT-{}-{}",
        payout_date.date().format("%Y%m%d"),
        &hex[hex.len() - 6..]
    );
    for l in lines.iter_mut() {
        l.payout = Some(id);
        l.payout_date = Some(payout_date);
        l.payout_reference = Some(reference.clone());
        l.payout_interval = Some(interval.clone());
        l.updated = now;
    }
    Some(Payout {
        id,
        account: first.account,
        creditor: first.creditor,
        creditor_name: first.creditor_name,
        currency: "SEK".into(),
        finance_interval: interval,
        payout_date,
        payout_reference: reference,
        status: if total_amount >= Money::ZERO {
            PayoutStatus::Scheduled
        } else {
            PayoutStatus::ToInvoice
        },
        line_count: lines.len() as i64,
        amount,
        vat_amount,
        total_amount,
        summary,
        created: now,
        updated: now,
        etag: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_is_a_quarter_rounded_to_the_ore() {
        assert_eq!(vat(Money::from_ore(6000)), Money::from_ore(1500));
        assert_eq!(vat(Money::from_ore(-18000)), Money::from_ore(-4500));
        assert_eq!(vat(Money::from_ore(1)), Money::ZERO);
        assert_eq!(vat(Money::from_ore(2)), Money::from_ore(1));
    }

    /// Costs a debtor paid settle the creditor's own charges first; what a write-off after
    /// a payment to the creditor leaves is owed per article, VAT only on the agency's
    /// service (docs/finance.md, "Fees, outlays and VAT").
    #[test]
    fn partly_paid_costs_settle_the_creditors_first_and_the_rest_is_owed_per_article() {
        let mut case: Case =
            serde_json::from_str(crate::domain::case::tests::SEED_OPEN_CASE).unwrap();
        case.transactions
            .retain(|t| t.kind != TransactionType::Costs);
        let at = HttpDate::parse_lenient("Mon, 06 Oct 2025 00:00:00 GMT").unwrap();
        let kr = Money::from_kronor;
        for (tag, amount) in [
            (tags::ENFORCEMENT_APPLICATION_FEE, 300),
            (tags::LATE_PAYMENT_COMPENSATION, 450),
            (tags::ENFORCEMENT_OWN_WORK_FEE, 380),
        ] {
            case.transactions.push(Transaction::booked(
                TransactionType::Costs,
                tag,
                kr(amount),
                at,
            ));
        }
        // The debtor pays 500 towards the costs: the creditor's 450 first, then 50 of
        // Kronofogden's fee (which the agency keeps).
        let before = case.transactions.len();
        case.transactions.push(Transaction::booked(
            TransactionType::Costs,
            tags::DEBTOR_PAYMENT,
            -kr(500),
            at,
        ));
        let lines = settlement_lines(&case, before);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].category, FinanceCategory::CreditorOutlay);
        assert_eq!(lines[0].article, "late_payment_fee");
        assert_eq!(lines[0].amount, kr(450));
        // Then the creditor reports the capital paid; the 630 left is written off.
        let before = case.transactions.len();
        case.transactions.push(Transaction::booked(
            TransactionType::Capital,
            tags::CREDITOR_PAYMENT,
            -kr(1),
            at,
        ));
        case.transactions.push(Transaction::booked(
            TransactionType::Costs,
            tags::DEPRECIATED,
            -kr(630),
            at,
        ));
        let owed: Vec<(String, Money, Money)> = settlement_lines(&case, before)
            .into_iter()
            .map(|l| {
                assert_eq!(l.category, FinanceCategory::CreditorCommission);
                (l.article, l.amount, l.vat_amount)
            })
            .collect();
        assert_eq!(
            owed,
            vec![
                ("enforcement".to_string(), -kr(250), Money::ZERO),
                (
                    "enforcement_own_work".to_string(),
                    -kr(380),
                    -Money::from_ore(9_500)
                ),
            ]
        );
    }
}
