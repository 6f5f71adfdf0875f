//! Late-payment interest (dröjsmålsränta, domain-se.md §1, 6 § räntelagen).
//!
//! * The yearly rate on each day is the Riksbank reference rate in force that day plus 8
//!   percentage points; the reference rate is data ([`RateTable`]), changing on 1 January
//!   and 1 July.
//! * Simple interest on the remaining capital only (never on interest or fees), from the day
//!   after the due date up to and including the day of payment.
//! * Actual days; each day counts 1/365 of the yearly rate, or 1/366 in a leap year
//!   (Kronofogden's convention: actual/actual split per calendar year).
//! * Computed exactly (a rational number of öre), posted as whole kronor rounded down.
//!
//! Worked examples are in docs/interest.md and in the tests below.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use super::Money;

/// Late interest is the reference rate plus this many basis points (8 percentage points).
pub const MARGIN_BP: i32 = 800;

/// Exact interest is kept as a number of `1 / DENOM` öre: one day at `r` basis points on `c`
/// öre is `c·r / (10 000·Y)` öre with Y = 365 or 366, and 10 000·365·366 is divisible by both.
const DENOM: i128 = 10_000 * 365 * 366;

/// The reference rate by the date it took effect, in basis points (2.00 % = 200).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateTable {
    rows: Vec<(NaiveDate, i32)>,
}

static SWEDISH: LazyLock<RateTable> = LazyLock::new(|| {
    RateTable::parse(include_str!("data/reference-rates.csv"))
        .unwrap_or_else(|e| unreachable!("the embedded reference-rate table is valid: {e}"))
});

impl RateTable {
    /// The table shipped with Indriva (`src/domain/data/reference-rates.csv`).
    pub fn swedish() -> &'static RateTable {
        &SWEDISH
    }

    /// Reads `effective_from,percent` lines (`2025-07-01,2.00`); `#` starts a comment.
    /// Dates must be 1 January or 1 July, strictly increasing.
    pub fn parse(text: &str) -> Result<RateTable, String> {
        let mut rows: Vec<(NaiveDate, i32)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = |msg: &str| format!("line {}: {msg}: {raw:?}", n + 1);
            let (date, pct) = line
                .split_once(',')
                .ok_or_else(|| at("expected effective_from,percent"))?;
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| at("not a YYYY-MM-DD date"))?;
            if date.day() != 1 || !(date.month() == 1 || date.month() == 7) {
                return Err(at(
                    "the reference rate changes only on 1 January and 1 July",
                ));
            }
            let bp = percent_to_bp(pct.trim()).ok_or_else(|| at("not a percentage"))?;
            if rows.last().is_some_and(|(last, _)| *last >= date) {
                return Err(at("dates must increase"));
            }
            rows.push((date, bp));
        }
        if rows.is_empty() {
            return Err("the reference-rate table is empty".into());
        }
        Ok(RateTable { rows })
    }

    /// The reference rate on `day` (the first row's rate before the table starts).
    pub fn reference_bp(&self, day: NaiveDate) -> i32 {
        let i = self.rows.partition_point(|(from, _)| *from <= day);
        self.rows[i.saturating_sub(1)].1
    }

    /// The late-payment interest rate on `day`: reference rate + 8 percentage points.
    pub fn late_interest_bp(&self, day: NaiveDate) -> i32 {
        (self.reference_bp(day) + MARGIN_BP).max(0)
    }

    /// The dates in `(after, through]` on which the rate may change.
    fn changes(
        &self,
        after: NaiveDate,
        through: NaiveDate,
    ) -> impl Iterator<Item = NaiveDate> + '_ {
        self.rows
            .iter()
            .map(|(d, _)| *d)
            .filter(move |d| *d > after && *d <= through)
    }

    /// The last date in the table.
    pub fn last_entry(&self) -> NaiveDate {
        self.rows[self.rows.len() - 1].0
    }

    /// The first day of the half-year `day` is in, when the table has no row for it: the
    /// Riksbank has set a rate the table does not know yet, and interest from that day is
    /// computed at the last known rate until an operator adds the row.
    pub fn missing_half_year(&self, day: NaiveDate) -> Option<NaiveDate> {
        let month = if day.month() >= 7 { 7 } else { 1 };
        let start = NaiveDate::from_ymd_opt(day.year(), month, 1)?;
        (self.last_entry() < start).then_some(start)
    }
}

fn percent_to_bp(s: &str) -> Option<i32> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !(whole.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let bp = whole.parse::<i32>().ok()? * 100 + format!("{frac:0<2}").parse::<i32>().ok()?;
    Some(if neg { -bp } else { bp })
}

/// An exact amount of interest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Accrued(i128);

impl Accrued {
    /// Whole kronor, rounded down (how interest is posted).
    pub fn floor_kronor(self) -> Money {
        Money::from_ore(((self.0 / DENOM) / 100 * 100) as i64)
    }

    /// Rounded to the nearest öre, halves away from zero.
    pub fn to_ore(self) -> Money {
        Money::from_ore(((self.0 + DENOM / 2) / DENOM) as i64)
    }
}

/// A change of the capital interest runs on: from `from` (inclusive) on, the capital is
/// `delta` higher (lower when negative).
pub type CapitalChange = (NaiveDate, Money);

/// One stretch of days with the same capital and rate, as a letter shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// Inclusive.
    pub through: NaiveDate,
    pub capital: Money,
    /// Yearly rate in basis points.
    pub rate_bp: i32,
    pub interest: Accrued,
}

fn days_in_year(year: i32) -> i128 {
    if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    }
}

/// Interest day by day from `first` through `last` (both inclusive) on the capital that
/// `changes` describe, split wherever the capital, the rate or the year changes.
pub fn periods(
    changes: &[CapitalChange],
    first: NaiveDate,
    last: NaiveDate,
    rates: &RateTable,
) -> Vec<Period> {
    if last < first {
        return vec![];
    }
    let mut cuts: Vec<NaiveDate> = changes
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| *d > first && *d <= last)
        .chain(rates.changes(first, last))
        .chain((first.year() + 1..=last.year()).filter_map(|y| NaiveDate::from_ymd_opt(y, 1, 1)))
        .collect();
    cuts.push(first);
    cuts.sort_unstable();
    cuts.dedup();
    let end = last.succ_opt().unwrap_or(last);
    let mut out: Vec<Period> = Vec::with_capacity(cuts.len());
    for (i, from) in cuts.iter().enumerate() {
        let next = cuts.get(i + 1).copied().unwrap_or(end);
        let capital: Money = changes
            .iter()
            .filter(|(d, _)| d <= from)
            .map(|(_, m)| *m)
            .sum();
        let rate_bp = rates.late_interest_bp(*from);
        let days = i128::from((next - *from).num_days());
        let factor = 365 * 366 / days_in_year(from.year());
        let interest = if capital.is_positive() {
            Accrued(i128::from(capital.ore()) * i128::from(rate_bp) * days * factor)
        } else {
            Accrued(0)
        };
        let through = next.pred_opt().unwrap_or(next);
        // Merge with the previous stretch when nothing a letter shows changed (a new year).
        match out.last_mut() {
            Some(p) if p.capital == capital && p.rate_bp == rate_bp => {
                p.through = through;
                p.interest = Accrued(p.interest.0 + interest.0);
            }
            _ => out.push(Period {
                from: *from,
                through,
                capital,
                rate_bp,
                interest,
            }),
        }
    }
    out
}

/// The interest for every day from `first` through `last`, inclusive.
pub fn accrue(
    changes: &[CapitalChange],
    first: NaiveDate,
    last: NaiveDate,
    rates: &RateTable,
) -> Accrued {
    Accrued(
        periods(changes, first, last, rates)
            .iter()
            .map(|p| p.interest.0)
            .sum(),
    )
}

/// The first day after `after` (at most `horizon` days later) through which the interest,
/// in whole kronor, is more than `posted`; `None` if it stays at or below it that long.
pub fn next_whole_krona(
    changes: &[CapitalChange],
    first: NaiveDate,
    after: NaiveDate,
    posted: Money,
    horizon: i64,
    rates: &RateTable,
) -> Option<NaiveDate> {
    let exceeds = |days: i64| {
        let d = after + chrono::Duration::days(days);
        accrue(changes, first, d, rates).floor_kronor() > posted
    };
    if !exceeds(horizon) {
        return None;
    }
    // The interest never decreases day by day, so the first such day can be bisected.
    let (mut lo, mut hi) = (0i64, horizon);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if exceeds(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(after + chrono::Duration::days(hi))
}

/// A rate in basis points as Swedish text: `10,00 %`.
pub fn percent_sv(bp: i32) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    format!("{sign}{},{:02} %", bp.abs() / 100, bp.abs() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn capital(kr: i64, from: &str) -> Vec<CapitalChange> {
        vec![(day(from), Money::from_kronor(kr))]
    }

    #[test]
    fn the_table_has_the_published_rates() {
        let t = RateTable::swedish();
        assert_eq!(t.reference_bp(day("2025-06-30")), 300);
        assert_eq!(t.reference_bp(day("2025-07-01")), 200);
        assert_eq!(t.late_interest_bp(day("2025-09-03")), 1000);
        assert_eq!(t.late_interest_bp(day("2021-02-01")), 800);
        assert_eq!(t.late_interest_bp(day("2019-03-01")), 750);
        // before the table: its first rate; after it: its last
        assert_eq!(t.reference_bp(day("2001-01-01")), 200);
        assert_eq!(t.reference_bp(day("2031-01-01")), 200);
    }

    #[test]
    fn the_table_refuses_what_cannot_be_a_reference_rate() {
        assert!(RateTable::parse("2025-03-01,2.00").is_err());
        assert!(RateTable::parse("2025-07-01,2.00\n2025-01-01,3.00").is_err());
        assert!(RateTable::parse("2025-07-01,2.005").is_err());
        assert!(RateTable::parse("# nothing").is_err());
        let t = RateTable::parse("2025-01-01,-0.5 # comment\n2025-07-01,4").unwrap();
        assert_eq!(t.reference_bp(day("2025-02-01")), -50);
        assert_eq!(t.reference_bp(day("2025-08-01")), 400);
    }

    /// domain-se.md §1.5: 6 780 SEK at 8 % from 1 Jan to 20 Apr 2021, both inclusive
    /// (110 days): 6 780 × 0.08 × 110 / 365 = 163.46, posted as 163 SEK.
    #[test]
    fn kronofogdens_example_gives_163_kronor() {
        let i = accrue(
            &capital(6780, "2020-12-01"),
            day("2021-01-01"),
            day("2021-04-20"),
            RateTable::swedish(),
        );
        assert_eq!(i.to_ore(), Money::from_ore(163_46));
        assert_eq!(i.floor_kronor(), Money::from_kronor(163));
    }

    #[test]
    fn a_half_year_without_a_row_is_reported() {
        let t = RateTable::parse("2025-07-01,2.00\n2026-01-01,2.00").unwrap();
        assert_eq!(t.missing_half_year(day("2026-06-30")), None);
        assert_eq!(
            t.missing_half_year(day("2026-07-01")),
            Some(day("2026-07-01"))
        );
        assert_eq!(
            t.missing_half_year(day("2027-02-10")),
            Some(day("2027-01-01"))
        );
    }

    /// domain-se.md §1.6: 10 000 SEK due 15 Jun 2025, paid 20 Jul 2025: 15 days at 11 %
    /// (45.2055) and 20 days at 10 % (54.7945) make exactly 100.00 SEK.
    #[test]
    fn a_rate_change_inside_the_period_splits_it() {
        let p = periods(
            &capital(10_000, "2025-06-01"),
            day("2025-06-16"),
            day("2025-07-20"),
            RateTable::swedish(),
        );
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].from, p[0].through, p[0].rate_bp),
            (day("2025-06-16"), day("2025-06-30"), 1100)
        );
        assert_eq!(
            (p[1].from, p[1].through, p[1].rate_bp),
            (day("2025-07-01"), day("2025-07-20"), 1000)
        );
        let total = accrue(
            &capital(10_000, "2025-06-01"),
            day("2025-06-16"),
            day("2025-07-20"),
            RateTable::swedish(),
        );
        assert_eq!(total.to_ore(), Money::from_ore(100_00));
        assert_eq!(total.floor_kronor(), Money::from_kronor(100));
    }

    /// Seed 002: 2 000 SEK invoiced 7 Jul 2025, due 31 days later (7 Aug); interest from
    /// 8 Aug through 3 Sep (27 days) at 10 % is 14.79, posted as 14.0.
    #[test]
    fn the_seed_case_has_14_kronor_of_interest() {
        let i = accrue(
            &capital(2000, "2025-07-08"),
            day("2025-08-08"),
            day("2025-09-03"),
            RateTable::swedish(),
        );
        assert_eq!(i.to_ore(), Money::from_ore(14_79));
        assert_eq!(i.floor_kronor(), Money::from_kronor(14));
    }

    #[test]
    fn a_leap_year_day_counts_one_366th() {
        // 36 600 kr at 8 % (2020 H1 reference 0 %): one day in 2020 is exactly 8 kr; in
        // 2021 36 600 × 0.08 / 365 = 8.0219.
        let c = capital(36_600, "2019-01-01");
        let t = RateTable::swedish();
        assert_eq!(
            accrue(&c, day("2020-03-01"), day("2020-03-01"), t).to_ore(),
            Money::from_kronor(8)
        );
        assert_eq!(
            accrue(&c, day("2021-03-01"), day("2021-03-01"), t).to_ore(),
            Money::from_ore(8_02)
        );
        // Across New Year the year split happens inside one period.
        let p = periods(&c, day("2020-12-31"), day("2021-01-01"), t);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].interest.to_ore(), Money::from_ore(16_02));
    }

    #[test]
    fn interest_runs_on_remaining_capital_only() {
        // 1 000 kr, half paid on 10 Aug (counting from 11 Aug), the rest on 20 Aug.
        let c = vec![
            (day("2025-07-01"), Money::from_kronor(1000)),
            (day("2025-08-11"), Money::from_kronor(-500)),
            (day("2025-08-21"), Money::from_kronor(-500)),
        ];
        let t = RateTable::swedish();
        let full = accrue(&c, day("2025-08-01"), day("2025-08-10"), t);
        let half = accrue(&c, day("2025-08-11"), day("2025-08-20"), t);
        let none = accrue(&c, day("2025-08-21"), day("2025-12-31"), t);
        assert_eq!(full.to_ore(), Money::from_ore(2_74)); // 1000 × 0.1 × 10 / 365
        assert_eq!(half.to_ore(), Money::from_ore(1_37));
        assert_eq!(none, Accrued::default());
        // overpaid capital earns the debtor nothing
        let over = vec![(day("2025-07-01"), Money::from_kronor(-100))];
        assert_eq!(
            accrue(&over, day("2025-08-01"), day("2025-08-31"), t),
            Accrued::default()
        );
    }

    #[test]
    fn the_next_whole_krona_is_found_by_day() {
        let c = capital(2000, "2025-07-08");
        let t = RateTable::swedish();
        // 14.79 through 3 Sep; 15.34 through 4 Sep.
        let next = next_whole_krona(
            &c,
            day("2025-08-08"),
            day("2025-09-03"),
            Money::from_kronor(14),
            400,
            t,
        );
        assert_eq!(next, Some(day("2025-09-04")));
        // 100 kr at 10 % earns 1 kr in 37 days.
        let small = capital(100, "2025-07-08");
        let next = next_whole_krona(
            &small,
            day("2025-08-08"),
            day("2025-08-08"),
            Money::ZERO,
            400,
            t,
        );
        assert_eq!(next, Some(day("2025-09-13")));
        assert_eq!(
            next_whole_krona(
                &small,
                day("2025-08-08"),
                day("2025-08-08"),
                Money::ZERO,
                20,
                t
            ),
            None
        );
    }

    #[test]
    fn rates_read_as_swedish_text() {
        assert_eq!(percent_sv(1000), "10,00 %");
        assert_eq!(percent_sv(750), "7,50 %");
    }
}
