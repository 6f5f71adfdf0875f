//! Swedish identity numbers (domain-se.md §7): personnummer, samordningsnummer and
//! organisationsnummer, with their Luhn check digit. Written in-house: the `personnummer`
//! crate has the century and coordination-number bugs domain-se.md §7.5 describes.

use chrono::{Datelike, NaiveDate};

/// What an identity number identifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Personnummer.
    Person,
    /// Samordningsnummer (day + 60).
    Coordination,
    /// Organisationsnummer (a legal entity).
    Organization,
}

impl IdKind {
    pub fn is_person(self) -> bool {
        !matches!(self, IdKind::Organization)
    }
}

/// A valid identity number in its canonical form: 12 digits for people
/// (`YYYYMMDDNNNC`, as in seed 000), 10 for organisations (`NNNNNNNNNC`, as in seed 001).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber {
    pub canonical: String,
    pub kind: IdKind,
}

/// The Luhn (mod 10, weights 2,1,2,…) check digit of a digit string.
pub fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = u32::from(*d) * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

pub const INVALID_ID_NUMBER: &str =
    "must be a valid Swedish personnummer, samordningsnummer or organisationsnummer";
pub const INVALID_ORG_NUMBER: &str = "must be a valid Swedish organisationsnummer (10 digits)";

/// Parses a personnummer, samordningsnummer or organisationsnummer, written with or without
/// separator, in the 10- or 12-digit form. `today` decides the century of a 10-digit
/// personnummer (`-`: under 100 years old, `+`: 100 or older).
pub fn parse_id_number(s: &str, today: NaiveDate) -> Result<IdNumber, &'static str> {
    let s = s.trim();
    let plus = s.contains('+');
    // A separator (`-`, or `+` at 100) may only stand before the last four digits.
    let separator = s.find(['-', '+']);
    if separator.is_some_and(|i| s.len() < 5 || i != s.len() - 5) {
        return Err(INVALID_ID_NUMBER);
    }
    let digits: Vec<u8> = s
        .bytes()
        .enumerate()
        .filter(|(i, _)| Some(*i) != separator)
        .map(|(_, b)| if b.is_ascii_digit() { b - b'0' } else { 255 })
        .collect();
    if digits.contains(&255) {
        return Err(INVALID_ID_NUMBER);
    }
    let (century, ten): (Option<u32>, &[u8]) = match digits.len() {
        10 => (None, &digits[..]),
        12 => {
            let c = u32::from(digits[0]) * 10 + u32::from(digits[1]);
            (Some(c), &digits[2..])
        }
        _ => return Err(INVALID_ID_NUMBER),
    };
    if luhn_check_digit(&ten[..9]) != ten[9] {
        return Err(INVALID_ID_NUMBER);
    }
    let text = |d: &[u8]| d.iter().map(|x| char::from(b'0' + x)).collect::<String>();
    // Organisation: the "month" pair is 20 or more; 12-digit form prefixed 16.
    if ten[2] >= 2 {
        return match century {
            None | Some(16) if !plus => Ok(IdNumber {
                canonical: text(ten),
                kind: IdKind::Organization,
            }),
            _ => Err(INVALID_ID_NUMBER),
        };
    }
    let yy = u32::from(ten[0]) * 10 + u32::from(ten[1]);
    let month = u32::from(ten[2]) * 10 + u32::from(ten[3]);
    let mut day = u32::from(ten[4]) * 10 + u32::from(ten[5]);
    let kind = if day > 60 {
        day -= 60;
        IdKind::Coordination
    } else {
        IdKind::Person
    };
    let year = match century {
        Some(c @ 18..=20) => (c * 100 + yy) as i32,
        Some(_) => return Err(INVALID_ID_NUMBER),
        None => {
            let this = today.year();
            let mut y = this - this.rem_euclid(100) + yy as i32;
            if y > this {
                y -= 100;
            }
            if plus {
                y -= 100;
            }
            y
        }
    };
    let birth = NaiveDate::from_ymd_opt(year, month, day).ok_or(INVALID_ID_NUMBER)?;
    if birth > today {
        return Err(INVALID_ID_NUMBER);
    }
    Ok(IdNumber {
        canonical: format!("{year:04}{}", text(&ten[2..])),
        kind,
    })
}

/// A Swedish organisationsnummer (creditors): 10 digits, an optional `-` after the sixth,
/// third digit 2 or more, valid check digit. Returns the 10 digits.
pub fn parse_org_number(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let compact: String = match s.len() {
        11 if s.as_bytes()[6] == b'-' => format!("{}{}", &s[..6], &s[7..]),
        _ => s.to_string(),
    };
    let digits: Vec<u8> = compact.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    if digits.len() != 10 || digits.iter().any(|d| *d > 9) || digits[2] < 2 {
        return Err(INVALID_ORG_NUMBER);
    }
    if luhn_check_digit(&digits[..9]) != digits[9] {
        return Err(INVALID_ORG_NUMBER);
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn the_seeds_numbers_are_valid() {
        // Seed 000: a person in the 12-digit form.
        let p = parse_id_number("202501012385", today()).unwrap();
        assert_eq!(p.kind, IdKind::Person);
        assert_eq!(p.canonical, "202501012385");
        // Seed 001: an aktiebolag.
        let o = parse_id_number("5560269986", today()).unwrap();
        assert_eq!(o.kind, IdKind::Organization);
        assert_eq!(o.canonical, "5560269986");
        assert_eq!(parse_org_number("556026-9986").unwrap(), "5560269986");
    }

    #[test]
    fn check_digits_and_dates_are_enforced() {
        assert!(parse_id_number("202501012384", today()).is_err());
        assert!(parse_id_number("5560269987", today()).is_err());
        // 30 February does not exist.
        let bad_date = format!("200002300{}", 0);
        assert!(parse_id_number(&bad_date, today()).is_err());
        assert!(parse_id_number("abc", today()).is_err());
        // A separator anywhere but before the last four digits, or a space inside.
        for bad in [
            "-5560269986",
            "5560269986-",
            "556026-99-86",
            "55602-69986",
            "556026 9986",
            "+5560269986",
        ] {
            assert_eq!(
                parse_id_number(bad, today()),
                Err(INVALID_ID_NUMBER),
                "{bad}"
            );
        }
        assert!(parse_id_number("556026-9986", today()).is_ok());
        assert!(parse_id_number("20250101-2385", today()).is_ok());
        assert!(parse_id_number("", today()).is_err());
        // Born in the future.
        assert!(parse_id_number("20991231-0000", today()).is_err());
        assert!(parse_org_number("1122334455").is_err());
        assert!(parse_org_number("8112289874").is_err()); // a personnummer
    }

    #[test]
    fn ten_digit_forms_get_their_century() {
        // 811228-9874 is Skatteverket's example personnummer.
        assert_eq!(
            parse_id_number("811228-9874", today()).unwrap().canonical,
            "198112289874"
        );
        assert_eq!(
            parse_id_number("8112289874", today()).unwrap().canonical,
            "198112289874"
        );
        // With `+` the person is 100 or older.
        assert_eq!(
            parse_id_number("811228+9874", today()).unwrap().canonical,
            "188112289874"
        );
    }

    #[test]
    fn coordination_numbers_add_sixty_to_the_day() {
        // domain-se.md §7.1: born 3 Oct 1970, number 239 → 701063-2391.
        let c = parse_id_number("701063-2391", today()).unwrap();
        assert_eq!(c.kind, IdKind::Coordination);
        assert_eq!(c.canonical, "197010632391");
    }
}
