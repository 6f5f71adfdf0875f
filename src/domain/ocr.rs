//! OCR payment references for Bankgirot (domain-se.md §6): digits only, a length digit and a
//! Luhn (mod 10) check digit, so every control level a payee's bankgiro agreement can choose
//! (check digit; check digit and variable length) accepts them.

use chrono::Datelike;

use super::HttpDate;

/// The Luhn check digit of `digits` (ASCII), weights 2, 1, 2, … from the rightmost digit.
pub fn luhn_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether `s` is a well-formed reference: 2–25 digits with a valid check digit.
pub fn is_valid(s: &str) -> bool {
    (2..=25).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && luhn_digit(&s[..s.len() - 1]) == s.as_bytes()[s.len() - 1] - b'0'
}

/// A 20-digit reference as Amili's look (amili-api.md §7.3): year and day of year of the
/// registration, an 11-digit sequence number unique in the database, the length digit
/// (20 mod 10 = 0) and the check digit.
pub fn reference(registered: HttpDate, sequence: u64) -> String {
    let d = registered.date();
    let mut s = format!(
        "{:04}{:03}{:011}0",
        d.year(),
        d.ordinal(),
        sequence % 100_000_000_000
    );
    let check = luhn_digit(&s);
    s.push(char::from(b'0' + check));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amilis_example_references_are_valid() {
        // Seeds 000 and 001.
        assert!(is_valid("20251852687013699044"));
        assert!(is_valid("20252463478311301072"));
        assert!(!is_valid("20252463478311301073"));
        // domain-se.md §6: 100017 + length digit 8 + check digit 2.
        assert!(is_valid("10001782"));
        assert_eq!(luhn_digit("12345"), 5);
    }

    #[test]
    fn references_carry_date_length_and_check_digits() {
        let at = HttpDate::parse_lenient("Fri, 04 Jul 2025 13:43:19 GMT").unwrap();
        let r = reference(at, 42);
        assert_eq!(r.len(), 20);
        assert!(r.starts_with("2025185"));
        assert_eq!(&r[7..18], "00000000042");
        assert_eq!(&r[18..19], "0", "length digit: 20 mod 10");
        assert!(is_valid(&r));
        assert_ne!(reference(at, 43), r);
    }
}
