//! Limitation (preskription, domain-se.md §4, preskriptionslag 1981:130): a claim is
//! time-barred 10 years after it arose, 3 years for a consumer's debt to a business (2 §).
//! Limitation is interrupted when the debtor receives a written demand or reminder, pays or
//! acknowledges the debt, or the claim is invoked at Kronofogden (5 §); a new period of the
//! same length starts on the day of the interruption (6 §).
//!
//! Indriva records every interruption on the case as `limitation`: when it happened
//! (`break_date`), when the claim would be time-barred (`limitation_date`), and why
//! (`locale_annotation`). Only events Indriva itself causes or books count: letters it sends,
//! payments it books, its application to Kronofogden.

use super::case::Limitation;
use super::HttpDate;

/// Why limitation was interrupted (`locale_annotation`).
pub mod annotations {
    pub const REMINDER_LETTER: &str = "api.log_messages.letter_sent_reminder";
    /// Seed 002's annotation.
    pub const DEBT_COLLECTION_LETTER: &str = "api.log_messages.letter_sent_debt_collection";
    pub const DEBT_STATEMENT_LETTER: &str = "api.log_messages.letter_sent_debt_statement";
    pub const SURVEILLANCE_LETTER: &str = "api.log_messages.letter_sent_debt_surveillance";
    pub const PAYMENT: &str = "api.log_messages.payment_received";
    pub const ENFORCEMENT_APPLICATION: &str = "api.log_messages.enforcement_application";
    pub const ENFORCEMENT_VERDICT: &str = "api.log_messages.enforcement_verdict";
    /// The debtor agreed to a payment plan: an acknowledgement of the debt (5 § 1).
    pub const PAYMENT_PLAN: &str = "api.log_messages.payment_plan_agreed";
    /// At registration: the period runs from the due date (2 §).
    pub const CLAIM_FELL_DUE: &str = "api.log_messages.claim_fell_due";
    /// At registration: from the last interruption the creditor made (its own reminder, a
    /// payment it received), as the registration says.
    pub const CREDITOR_INTERRUPTION: &str = "api.log_messages.creditor_interruption";
}

/// The limitation period in years: 3 for a consumer (a person) owing a business, 10
/// otherwise. Creditors are businesses, so the debtor decides.
pub fn years(debtor_is_company: bool) -> i32 {
    if debtor_is_company {
        10
    } else {
        3
    }
}

/// The limitation after an interruption at `at`.
pub fn interrupted(at: HttpDate, debtor_is_company: bool, annotation: &str) -> Limitation {
    Limitation {
        break_date: at,
        limitation_date: at.plus_years(years(debtor_is_company)),
        locale_annotation: annotation.to_string(),
    }
}

/// The limitation a claim has when it is registered: from its due date, or from the last
/// interruption the creditor made if that was later (preskriptionslag 2 § and 5 §).
pub fn at_registration(
    due: chrono::NaiveDate,
    creditor_interruption: Option<HttpDate>,
    debtor_is_company: bool,
) -> Limitation {
    let fell_due = HttpDate::midnight(due);
    match creditor_interruption {
        Some(at) if at > fell_due => {
            interrupted(at, debtor_is_company, annotations::CREDITOR_INTERRUPTION)
        }
        _ => interrupted(fell_due, debtor_is_company, annotations::CLAIM_FELL_DUE),
    }
}

/// Whether the claim is time-barred at `at`: its period ran out with no interruption. A
/// barred claim cannot be revived by a demand (8 §: it may not be collected).
pub fn is_barred(limitation: &Limitation, at: HttpDate) -> bool {
    limitation.limitation_date <= at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_claim_runs_from_its_due_date_or_the_creditors_last_interruption() {
        let due = chrono::NaiveDate::from_ymd_opt(2021, 7, 1).unwrap();
        let l = at_registration(due, None, false);
        assert_eq!(
            l.limitation_date.to_string(),
            "Mon, 01 Jul 2024 00:00:00 GMT"
        );
        assert_eq!(l.locale_annotation, annotations::CLAIM_FELL_DUE);
        let reminded = HttpDate::parse_lenient("Mon, 02 May 2022 00:00:00 GMT").unwrap();
        let l = at_registration(due, Some(reminded), false);
        assert_eq!(
            l.limitation_date.to_string(),
            "Fri, 02 May 2025 00:00:00 GMT"
        );
        assert_eq!(l.locale_annotation, annotations::CREDITOR_INTERRUPTION);
        // An interruption before the due date changes nothing.
        let early = HttpDate::parse_lenient("Tue, 01 Jun 2021 00:00:00 GMT").unwrap();
        assert_eq!(
            at_registration(due, Some(early), true).break_date,
            HttpDate::midnight(due)
        );
        let company = at_registration(due, None, true);
        assert_eq!(
            company.limitation_date.to_string(),
            "Tue, 01 Jul 2031 00:00:00 GMT"
        );
        assert!(is_barred(
            &l,
            HttpDate::parse_lenient("Fri, 02 May 2025 00:00:00 GMT").unwrap()
        ));
        assert!(!is_barred(
            &l,
            HttpDate::parse_lenient("Thu, 01 May 2025 23:59:59 GMT").unwrap()
        ));
    }

    #[test]
    fn a_company_has_ten_years_a_consumer_three() {
        // Seed 002: the collection letter of 3 Sep 2025 09:10:17 to ACME Inc.
        let at = HttpDate::parse_lenient("Wed, 03 Sep 2025 09:10:17 GMT").unwrap();
        let l = interrupted(at, true, annotations::DEBT_COLLECTION_LETTER);
        assert_eq!(l.break_date, at);
        assert_eq!(
            l.limitation_date.to_string(),
            "Mon, 03 Sep 2035 09:10:17 GMT"
        );
        assert_eq!(
            l.locale_annotation,
            "api.log_messages.letter_sent_debt_collection"
        );
        let person = interrupted(at, false, annotations::DEBT_COLLECTION_LETTER);
        assert_eq!(
            person.limitation_date.to_string(),
            "Sun, 03 Sep 2028 09:10:17 GMT"
        );
    }
}
