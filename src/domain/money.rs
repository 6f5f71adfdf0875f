//! Money is an integer number of öre. On the wire it is a JSON number in kronor with at most
//! two decimals (`2000`, `14.0`, `1500.5`).

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidMoney {
    #[error("must have at most two decimals")]
    TooManyDecimals,
    #[error("is out of range")]
    OutOfRange,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_ore(ore: i64) -> Self {
        Money(ore)
    }

    pub const fn from_kronor(kr: i64) -> Self {
        Money(kr * 100)
    }

    pub const fn is_zero(&self) -> bool {
        self.0 == 0
    }

    pub const fn ore(&self) -> i64 {
        self.0
    }

    /// From a JSON number in kronor; refuses more than two decimals.
    pub fn from_kronor_f64(kr: f64) -> Result<Self, InvalidMoney> {
        if !kr.is_finite() || kr.abs() > 1e13 {
            return Err(InvalidMoney::OutOfRange);
        }
        // The shortest decimal that reads back as this double is the number as written (for
        // up to 17 significant digits), whatever the notation: `1e-300` has 300 decimals and
        // `1.0000000001` ten, so neither is silently rounded to öre.
        let written = format!("{kr}");
        if written.split_once('.').is_some_and(|(_, d)| d.len() > 2) {
            return Err(InvalidMoney::TooManyDecimals);
        }
        Ok(Money((kr * 100.0).round() as i64))
    }

    /// The amount in kronor as the nearest double; printing it gives the exact decimal.
    pub fn as_kronor_f64(&self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn is_positive(&self) -> bool {
        self.0 > 0
    }
}

impl Money {
    /// Swedish notation: `2 014,00 kr` (no-break spaces between thousands and before `kr`).
    pub fn to_swedish(&self) -> String {
        let sign = if self.0 < 0 { "−" } else { "" };
        let kr = (self.0.abs() / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in kr.chars().enumerate() {
            if i > 0 && (kr.len() - i).is_multiple_of(3) {
                grouped.push('\u{a0}');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped},{:02}\u{a0}kr", self.0.abs() % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.0.abs() / 100, self.0.abs() % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_kronor_f64())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Money::from_kronor_f64(v).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "number" })
    }
    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kronor_round_trip_exactly() {
        for (kr, ore) in [
            (2000.0, 200_000),
            (14.0, 1_400),
            (1500.5, 150_050),
            (0.01, 1),
            (12345.67, 1_234_567),
        ] {
            let m = Money::from_kronor_f64(kr).unwrap();
            assert_eq!(m.ore(), ore);
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                serde_json::to_string(&kr).unwrap()
            );
        }
        assert_eq!(
            serde_json::to_string(&Money::from_ore(1_234_567)).unwrap(),
            "12345.67"
        );
    }

    #[test]
    fn refuses_fractions_of_ore() {
        assert_eq!(
            Money::from_kronor_f64(0.001),
            Err(InvalidMoney::TooManyDecimals)
        );
        assert_eq!(
            Money::from_kronor_f64(10.555),
            Err(InvalidMoney::TooManyDecimals)
        );
        // Whatever the notation: nothing below an öre is rounded away.
        for written in ["1e-300", "1.0000000001", "0.001e0", "5e-3", "100.001"] {
            let kr: f64 = written.parse().unwrap();
            assert_eq!(
                Money::from_kronor_f64(kr),
                Err(InvalidMoney::TooManyDecimals),
                "{written}"
            );
        }
        for (written, ore) in [
            ("1e2", 10_000),
            ("1.5e1", 1_500),
            ("12.30", 1_230),
            ("99999999999.99", 9_999_999_999_999),
        ] {
            let kr: f64 = written.parse().unwrap();
            assert_eq!(
                Money::from_kronor_f64(kr),
                Ok(Money::from_ore(ore)),
                "{written}"
            );
        }
        assert_eq!(
            Money::from_kronor_f64(f64::NAN),
            Err(InvalidMoney::OutOfRange)
        );
    }

    #[test]
    fn swedish_notation_groups_thousands() {
        assert_eq!(
            Money::from_ore(201_400).to_swedish(),
            "2\u{a0}014,00\u{a0}kr"
        );
        assert_eq!(
            Money::from_ore(1_234_567_89).to_swedish(),
            "1\u{a0}234\u{a0}567,89\u{a0}kr"
        );
        assert_eq!(Money::from_ore(-50).to_swedish(), "−0,50\u{a0}kr");
        assert_eq!(Money::ZERO.to_swedish(), "0,00\u{a0}kr");
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_ore(-150_050).to_string(), "-1500.50");
    }
}
