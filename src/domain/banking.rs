//! Swedish banking days. A due date or a pay-by date that falls on a Saturday, a Sunday or a
//! public holiday moves to the next day that is none of them (lag (1930:173) om beräkning
//! av lagstadgad tid, 2 §; the public holidays of lag (1989:253) om allmänna helgdagar), and
//! midsummer eve, Christmas eve and New Year's eve count as holidays too, since banks and
//! Bankgirot are closed on them.

use chrono::{Datelike, NaiveDate, Weekday};

/// Easter Sunday of `year` (the Gregorian computus, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or(NaiveDate::MIN)
}

/// Whether `day` is a weekday on which no bank is open.
fn is_holiday(day: NaiveDate) -> bool {
    let y = day.year();
    let fixed = |m, d| NaiveDate::from_ymd_opt(y, m, d) == Some(day);
    if fixed(1, 1) // nyårsdagen
        || fixed(1, 6) // trettondedag jul
        || fixed(5, 1) // första maj
        || fixed(6, 6) // nationaldagen
        || fixed(12, 24) // julafton
        || fixed(12, 25) // juldagen
        || fixed(12, 26) // annandag jul
        || fixed(12, 31)
    // nyårsafton
    {
        return true;
    }
    let easter = easter_sunday(y);
    let good_friday = easter - chrono::Duration::days(2);
    let easter_monday = easter + chrono::Duration::days(1);
    let ascension = easter + chrono::Duration::days(39);
    // Midsommarafton: the Friday from 19 to 25 June.
    let midsummer_eve =
        day.month() == 6 && (19..=25).contains(&day.day()) && day.weekday() == Weekday::Fri;
    day == good_friday || day == easter_monday || day == ascension || midsummer_eve
}

pub fn is_banking_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(day)
}

/// `day` if it is a banking day, else the next one.
pub fn on_or_after(day: NaiveDate) -> NaiveDate {
    let mut d = day;
    while !is_banking_day(d) {
        d = d.succ_opt().unwrap_or(d);
        if d == NaiveDate::MAX {
            break;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_falls_where_the_almanac_says() {
        for (year, easter) in [
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
        ] {
            assert_eq!(easter_sunday(year), day(easter), "{year}");
        }
    }

    #[test]
    fn weekends_and_holidays_move_to_the_next_banking_day() {
        // Christmas 2024: Wednesday 25 and Thursday 26 are holidays → Friday 27.
        assert_eq!(on_or_after(day("2024-12-25")), day("2024-12-27"));
        // Saturday 13 September 2025 → Monday 15.
        assert_eq!(on_or_after(day("2025-09-13")), day("2025-09-15"));
        // Good Friday 18 April 2025, then the weekend, then Easter Monday → Tuesday 22.
        assert_eq!(on_or_after(day("2025-04-18")), day("2025-04-22"));
        // Ascension Day 2025 (29 May) → Friday 30.
        assert_eq!(on_or_after(day("2025-05-29")), day("2025-05-30"));
        // Midsummer eve 2025 (Friday 20 June) → Monday 23.
        assert_eq!(on_or_after(day("2025-06-20")), day("2025-06-23"));
        // New Year's eve 2025 (Wednesday), New Year's day → Friday 2 January 2026.
        assert_eq!(on_or_after(day("2025-12-31")), day("2026-01-02"));
        // Epiphany, national day, first of May.
        assert!(!is_banking_day(day("2026-01-06")));
        assert!(!is_banking_day(day("2025-06-06")));
        assert!(!is_banking_day(day("2025-05-01")));
        // An ordinary Wednesday stays.
        assert_eq!(on_or_after(day("2025-09-03")), day("2025-09-03"));
    }
}
