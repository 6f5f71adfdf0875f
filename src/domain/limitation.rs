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

#[cfg(test)]
mod tests {
    use super::*;

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
