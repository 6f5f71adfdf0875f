//! Dates as they travel on the wire: RFC 1123 with the literal `GMT`
//! (`Mon, 07 Jul 2025 00:00:00 GMT`), whole seconds, UTC.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A UTC instant with whole-second precision, rendered as an RFC 1123 date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpDate(i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an RFC 1123 date such as 'Mon, 07 Jul 2025 00:00:00 GMT'")]
pub struct InvalidDate;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Smallest and largest instants Python's datetime can hold (years 1 to 9999).
const MIN_UNIX: i64 = -62_135_596_800;
const MAX_UNIX: i64 = 253_402_300_799;

impl HttpDate {
    pub const EPOCH: HttpDate = HttpDate(0);

    /// From seconds since the Unix epoch; `None` outside years 1–9999.
    pub fn from_unix(secs: i64) -> Option<Self> {
        (MIN_UNIX..=MAX_UNIX)
            .contains(&secs)
            .then_some(HttpDate(secs))
    }

    pub fn from_ymd_hms(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        let dt = NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(h, mi, s)?;
        Self::from_unix(dt.and_utc().timestamp())
    }

    pub fn unix(&self) -> i64 {
        self.0
    }

    fn chrono(&self) -> DateTime<Utc> {
        // In range by construction.
        DateTime::from_timestamp(self.0, 0).unwrap_or_default()
    }

    pub fn plus_seconds(&self, secs: i64) -> Self {
        HttpDate((self.0 + secs).clamp(MIN_UNIX, MAX_UNIX))
    }

    pub fn plus_days(&self, days: i64) -> Self {
        self.plus_seconds(days * 86_400)
    }

    /// Same instant `years` calendar years later (29 Feb becomes 28 Feb).
    pub fn plus_years(&self, years: i32) -> Self {
        let dt = self.chrono();
        let target = dt
            .with_year(dt.year() + years)
            .or_else(|| dt.with_day(28).and_then(|d| d.with_year(d.year() + years)));
        target.map(|t| HttpDate(t.timestamp())).unwrap_or(*self)
    }

    /// Same time of day `months` calendar months later (31 Jan + 1 month is 28/29 Feb).
    pub fn plus_months(&self, months: u32) -> Self {
        let dt = self.chrono();
        dt.checked_add_months(chrono::Months::new(months))
            .and_then(|t| HttpDate::from_unix(t.timestamp()))
            .unwrap_or(*self)
    }

    /// Midnight (00:00:00 UTC) of a calendar date.
    pub fn midnight(date: NaiveDate) -> Self {
        HttpDate::from_unix(date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
            .unwrap_or(HttpDate::EPOCH)
    }

    /// The date in Swedish: `3 september 2025`.
    pub fn to_swedish_date(&self) -> String {
        const MONTHS_SV: [&str; 12] = [
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ];
        let d = self.date();
        format!(
            "{} {} {}",
            d.day(),
            MONTHS_SV[d.month0() as usize],
            d.year()
        )
    }

    /// The calendar date (UTC).
    pub fn date(&self) -> NaiveDate {
        self.chrono().date_naive()
    }

    /// RFC 3339 (`2025-07-07T00:00:00Z`).
    pub fn rfc3339(&self) -> String {
        self.chrono().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// Midnight (00:00:00) of this date.
    pub fn start_of_day(&self) -> Self {
        HttpDate(self.0 - self.0.rem_euclid(86_400))
    }

    /// `YYYYMMDDHH:MM:SS`-like key that sorts like the instant. The month is encoded as the
    /// position of its abbreviation in `JanFebMar…` (1, 4, 7, …), because that is what the SQL
    /// dialects can compute from a stored RFC 1123 string without a lookup table.
    pub fn sort_key(&self) -> String {
        let dt = self.chrono();
        format!(
            "{:04}{:02}{:02}{:02}:{:02}:{:02}",
            dt.year(),
            (dt.month0() * 3) + 1,
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )
    }

    /// Parses a date the way Eve does for payloads and `where` values: Python's
    /// `strptime(value, "%a, %d %b %Y %H:%M:%S GMT")`. That means names are
    /// case-insensitive, the weekday is not checked against the date, day/hour/minute/second
    /// may have one digit, runs of whitespace stand for one space, and the suffix must be
    /// `GMT` (any case). Anything else (ISO 8601, `UTC`, `+0000`) is not a date.
    pub fn parse_lenient(s: &str) -> Result<Self, InvalidDate> {
        let mut p = Lenient {
            s: s.as_bytes(),
            i: 0,
        };
        p.name(&WEEKDAYS)?;
        p.literal(b",")?;
        p.spaces()?;
        let day = p.day()?;
        p.spaces()?;
        let month = p.name(&MONTHS)? as u32 + 1;
        p.spaces()?;
        let year = p.fixed_digits(4)?;
        p.spaces()?;
        let hour = p.number(23)?;
        p.literal(b":")?;
        let minute = p.number(59)?;
        p.literal(b":")?;
        let second = p.number(61)?;
        p.spaces()?;
        p.literal_ci(b"GMT")?;
        if p.i != p.s.len() || year == 0 {
            return Err(InvalidDate);
        }
        Self::from_ymd_hms(year as i32, month, day, hour, minute, second).ok_or(InvalidDate)
    }
}

/// A tiny cursor that reproduces the regular expression Python builds for the format.
struct Lenient<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lenient<'_> {
    fn literal(&mut self, lit: &[u8]) -> Result<(), InvalidDate> {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(InvalidDate)
        }
    }
    fn literal_ci(&mut self, lit: &[u8]) -> Result<(), InvalidDate> {
        let end = self.i + lit.len();
        if end <= self.s.len() && self.s[self.i..end].eq_ignore_ascii_case(lit) {
            self.i = end;
            Ok(())
        } else {
            Err(InvalidDate)
        }
    }
    fn spaces(&mut self) -> Result<(), InvalidDate> {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        if self.i == start {
            Err(InvalidDate)
        } else {
            Ok(())
        }
    }
    fn name(&mut self, names: &[&str]) -> Result<usize, InvalidDate> {
        for (n, name) in names.iter().enumerate() {
            if self.literal_ci(name.as_bytes()).is_ok() {
                return Ok(n);
            }
        }
        Err(InvalidDate)
    }
    fn digit(&self, at: usize) -> Option<u32> {
        self.s
            .get(at)
            .filter(|c| c.is_ascii_digit())
            .map(|c| (c - b'0') as u32)
    }
    fn fixed_digits(&mut self, n: usize) -> Result<u32, InvalidDate> {
        let mut v = 0;
        for k in 0..n {
            v = v * 10 + self.digit(self.i + k).ok_or(InvalidDate)?;
        }
        self.i += n;
        Ok(v)
    }
    /// One or two digits, at most `max`; two digits are preferred when both fit, as in the
    /// regex alternation. (The fields are always followed by a non-digit, so no backtracking
    /// into a one-digit reading can ever help.)
    fn number(&mut self, max: u32) -> Result<u32, InvalidDate> {
        let first = self.digit(self.i).ok_or(InvalidDate)?;
        if let Some(second) = self.digit(self.i + 1) {
            let v = first * 10 + second;
            if v <= max {
                self.i += 2;
                return Ok(v);
            }
            return Err(InvalidDate);
        }
        self.i += 1;
        Ok(first)
    }
    fn day(&mut self) -> Result<u32, InvalidDate> {
        let d = self.number(31)?;
        if d == 0 {
            return Err(InvalidDate);
        }
        Ok(d)
    }
}

/// The civil date of a day count since 1970-01-01 (proleptic Gregorian), as (year, month
/// 1–12, day 1–31): Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl HttpDate {
    /// The RFC 1123 text written into `buf` (29 bytes), for years 0–9999; `None` outside
    /// them. Every stored document holds many dates: this is on every write's path.
    fn rfc1123<'b>(&self, buf: &'b mut [u8; 29]) -> Option<&'b str> {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return None;
        }
        // 1970-01-01 was a Thursday.
        let weekday = (days + 3).rem_euclid(7) as usize;
        let two = |b: &mut [u8], v: u32| {
            b[0] = b'0' + (v / 10) as u8;
            b[1] = b'0' + (v % 10) as u8;
        };
        buf.copy_from_slice(b"Mon, 00 Jan 0000 00:00:00 GMT");
        buf[..3].copy_from_slice(WEEKDAYS[weekday].as_bytes());
        two(&mut buf[5..7], day);
        buf[8..11].copy_from_slice(MONTHS[month as usize - 1].as_bytes());
        let y = year as u32;
        two(&mut buf[12..14], y / 100);
        two(&mut buf[14..16], y % 100);
        two(&mut buf[17..19], (secs / 3600) as u32);
        two(&mut buf[20..22], (secs / 60 % 60) as u32);
        two(&mut buf[23..25], (secs % 60) as u32);
        std::str::from_utf8(buf).ok()
    }
}

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 29];
        if let Some(s) = self.rfc1123(&mut buf) {
            return f.write_str(s);
        }
        let dt = self.chrono();
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[dt.weekday().num_days_from_monday() as usize],
            dt.day(),
            MONTHS[dt.month0() as usize],
            dt.year(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )
    }
}

impl fmt::Debug for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpDate({self})")
    }
}

impl FromStr for HttpDate {
    type Err = InvalidDate;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_lenient(s)
    }
}

impl Serialize for HttpDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 29];
        match self.rfc1123(&mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for HttpDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        HttpDate::parse_lenient(&s).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for HttpDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HttpDate".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "rfc1123" })
    }
    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_rendering_is_chronos_for_every_day_of_four_centuries() {
        let mut t = HttpDate::from_ymd_hms(1900, 1, 1, 23, 59, 58).unwrap().0;
        let end = HttpDate::from_ymd_hms(2300, 3, 1, 0, 0, 0).unwrap().0;
        while t < end {
            let d = HttpDate(t);
            let dt = d.chrono();
            let slow = format!(
                "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
                WEEKDAYS[dt.weekday().num_days_from_monday() as usize],
                dt.day(),
                MONTHS[dt.month0() as usize],
                dt.year(),
                dt.hour(),
                dt.minute(),
                dt.second()
            );
            assert_eq!(d.to_string(), slow);
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{slow}\""));
            t += 86_400 + 3_601;
        }
    }

    fn d(s: &str) -> Option<String> {
        HttpDate::parse_lenient(s).ok().map(|d| d.to_string())
    }

    #[test]
    fn formats_like_eve() {
        let date = HttpDate::from_ymd_hms(2025, 7, 7, 0, 0, 0).unwrap();
        assert_eq!(date.to_string(), "Mon, 07 Jul 2025 00:00:00 GMT");
        assert_eq!(HttpDate::EPOCH.to_string(), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn parses_with_python_strptime_leniency() {
        let want = Some("Mon, 07 Jul 2025 00:00:00 GMT".to_string());
        assert_eq!(d("Mon, 07 Jul 2025 00:00:00 GMT"), want);
        // weekday is not checked, names are case-insensitive, one-digit fields are fine
        assert_eq!(d("Tue, 07 Jul 2025 00:00:00 GMT"), want);
        assert_eq!(d("mon, 07 JUL 2025 00:00:00 gmt"), want);
        assert_eq!(d("Mon, 7 Jul 2025 0:0:0 GMT"), want);
        assert_eq!(d("Mon,   07 Jul  2025 00:00:00   GMT"), want);
    }

    #[test]
    fn rejects_what_python_rejects() {
        for bad in [
            "2025-07-07T00:00:00Z",
            "Mon, 07 Jul 2025 00:00:00 UTC",
            "Mon, 07 Jul 2025 00:00:00 +0000",
            "Mon, 07 Jul 2025 00:00:00 GMT ",
            " Mon, 07 Jul 2025 00:00:00 GMT",
            "Mon, 30 Feb 2025 00:00:00 GMT",
            "Mon, 07 Jul 2025 24:00:00 GMT",
            "Mon, 07 Jul 2025 00:00:60 GMT",
            "Mon, 07 Jul 25 00:00:00 GMT",
            "Mon, 00 Jul 2025 00:00:00 GMT",
            "Mon 07 Jul 2025 00:00:00 GMT",
            "Monday, 07 Jul 2025 00:00:00 GMT",
            "",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn sort_key_orders_like_time() {
        let a = HttpDate::from_ymd_hms(2025, 9, 3, 9, 0, 0).unwrap();
        let b = HttpDate::from_ymd_hms(2025, 10, 1, 0, 0, 0).unwrap();
        let c = HttpDate::from_ymd_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(a.sort_key() < b.sort_key() && b.sort_key() < c.sort_key());
        // September is the 9th abbreviation, at position 25 in "JanFeb…".
        assert_eq!(a.sort_key(), "2025250309:00:00");
    }

    #[test]
    fn plus_years_handles_leap_day() {
        let leap = HttpDate::from_ymd_hms(2024, 2, 29, 12, 0, 0).unwrap();
        assert_eq!(
            leap.plus_years(1).to_string(),
            "Fri, 28 Feb 2025 12:00:00 GMT"
        );
        assert_eq!(
            leap.plus_years(4).to_string(),
            "Tue, 29 Feb 2028 12:00:00 GMT"
        );
    }
}
