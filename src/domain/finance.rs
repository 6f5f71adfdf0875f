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

/// The fee article a cost line is for (`reminder`, `debt_collection`, …).
fn article(line: &Transaction) -> String {
    let tag = line.description_locale_tag.as_str();
    if let Some(kind) = tag.strip_prefix(tags::FEE_ALREADY_CLAIMED) {
        return kind.to_string();
    }
    tag.trim_start_matches("api.transaction.")
        .trim_end_matches("_fee")
        .to_string()
}

fn is_outlay(t: &Transaction) -> bool {
    t.kind == TransactionType::Costs
        && t.amount > Money::ZERO
        && t.description_locale_tag
            .starts_with(tags::FEE_ALREADY_CLAIMED)
}

fn is_agency_fee(t: &Transaction) -> bool {
    t.kind == TransactionType::Costs && t.amount > Money::ZERO && !is_outlay(t)
}

fn costs_paid(lines: &[Transaction]) -> Money {
    -lines
        .iter()
        .filter(|t| t.kind == TransactionType::Costs && t.is(tags::DEBTOR_PAYMENT))
        .map(|t| t.amount)
        .sum::<Money>()
}

/// The lines made by the ledger lines `case.transactions[before..]` (what one change
/// appended). Costs a debtor pays settle the creditor's outlays first (in ledger order), then
/// the agency's own fees (which the agency keeps: no line).
pub fn settlement_lines(case: &Case, before: usize) -> Vec<FinanceLine> {
    let all = &case.transactions;
    let before = before.min(all.len());
    let (old, new) = all.split_at(before);
    let mut out = Vec::new();
    let outlays: Vec<&Transaction> = all.iter().filter(|t| is_outlay(t)).collect();
    let mut outlay_paid = costs_paid(old);
    for t in new {
        let day = t.bank_transaction_date.start_of_day();
        let line = |category, article: &str, amount: Money, vat_amount| FinanceLine {
            category,
            article: article.to_string(),
            amount,
            vat_amount,
            booking_date: day,
        };
        if t.is(tags::DEBTOR_PAYMENT) && t.amount < Money::ZERO {
            let paid = -t.amount;
            match t.kind {
                TransactionType::Capital => {
                    out.push(line(FinanceCategory::Capital, "capital", paid, Money::ZERO))
                }
                TransactionType::Interest => out.push(line(
                    FinanceCategory::Interest,
                    "interest",
                    paid,
                    Money::ZERO,
                )),
                TransactionType::Costs => {
                    // Walk the outlays in order, skipping what earlier payments covered.
                    let mut skip = outlay_paid;
                    let mut left = paid;
                    for o in &outlays {
                        let covered = skip.min(o.amount);
                        skip -= covered;
                        let part = (o.amount - covered).min(left);
                        if part > Money::ZERO {
                            out.push(line(
                                FinanceCategory::CreditorOutlay,
                                &article(o),
                                part,
                                Money::ZERO,
                            ));
                            left -= part;
                        }
                    }
                    outlay_paid += paid;
                }
            }
        }
    }
    // The debtor paid the creditor: the agency's fees written off on the case are owed by
    // the creditor as commission.
    let paid_to_creditor = new.iter().any(|t| t.is(tags::CREDITOR_PAYMENT));
    if paid_to_creditor {
        let written_off: Money = -new
            .iter()
            .filter(|t| t.kind == TransactionType::Costs && t.is(tags::DEPRECIATED))
            .map(|t| t.amount)
            .sum::<Money>();
        let outlay_left =
            (outlays.iter().map(|o| o.amount).sum::<Money>() - outlay_paid).max(Money::ZERO);
        let commission = (written_off - outlay_left).max(Money::ZERO);
        if commission > Money::ZERO {
            let fee_article = all
                .iter()
                .rev()
                .find(|t| is_agency_fee(t))
                .map(article)
                .unwrap_or_else(|| "debt_collection".into());
            let day = new
                .iter()
                .find(|t| t.is(tags::DEPRECIATED))
                .map(|t| t.bank_transaction_date.start_of_day())
                .unwrap_or(case.updated);
            out.push(FinanceLine {
                category: FinanceCategory::CreditorCommission,
                article: fee_article,
                amount: -commission,
                vat_amount: vat(-commission),
                booking_date: day,
            });
        }
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
}
