//! Number literals as the client wrote them. A JSON body is read into doubles, and a double
//! keeps about 17 significant digits: `1.000000000000000000001` reads as `1.0`, so a rule
//! checked on the parsed value ("at most two decimals") would pass a number the client did
//! not send. This module finds, in the raw body, every number whose written value is not the
//! value read, so the request can be refused with the field's path instead.

/// A number in the body that cannot be kept exactly: its dotted path (`debts.0.amount`) and
/// the literal as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inexact {
    pub path: String,
    pub literal: String,
}

/// The numbers of a JSON text whose value changes when read as a double (integers that fit
/// 64 bits are kept exactly and are never reported). `json` must be valid JSON: call this
/// after it parsed.
pub fn inexact_numbers(json: &[u8]) -> Vec<Inexact> {
    let mut scan = Scan {
        s: json,
        i: 0,
        path: Vec::new(),
        found: Vec::new(),
    };
    // A decimal of at most 15 significant digits reads back exactly, so only a body with a
    // longer run of digits (a decimal point does not end one) needs the walk; most have none.
    let mut run = 0;
    let long = json.iter().any(|&b| {
        run = match b {
            b'0'..=b'9' => run + 1,
            b'.' => run,
            _ => 0,
        };
        run > 15
    });
    if !long {
        return Vec::new();
    }
    scan.value();
    scan.found
}

/// The message for an inexact number in `_issues`.
pub fn message(literal: &str) -> String {
    format!(
        "the number {literal} has more significant digits than can be kept exactly: send at most 15"
    )
}

struct Scan<'a> {
    s: &'a [u8],
    i: usize,
    path: Vec<String>,
    found: Vec<Inexact>,
}

impl Scan<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.i).copied().unwrap_or(0)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self) {
        self.skip_ws();
        match self.peek() {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => {
                self.string();
            }
            b'-' | b'0'..=b'9' => self.number(),
            0 => {}
            // true, false, null
            _ => {
                while self.peek().is_ascii_alphabetic() {
                    self.i += 1;
                }
            }
        }
    }

    fn object(&mut self) {
        self.i += 1; // {
        loop {
            self.skip_ws();
            match self.peek() {
                b'}' => {
                    self.i += 1;
                    return;
                }
                b',' => self.i += 1,
                b'"' => {
                    let key = self.string();
                    self.skip_ws();
                    self.i += 1; // :
                    self.path.push(key);
                    self.value();
                    self.path.pop();
                }
                _ => return, // not valid JSON; the parser already refused it
            }
        }
    }

    fn array(&mut self) {
        self.i += 1; // [
        let mut n = 0usize;
        loop {
            self.skip_ws();
            match self.peek() {
                b']' => {
                    self.i += 1;
                    return;
                }
                b',' => self.i += 1,
                0 => return,
                _ => {
                    self.path.push(n.to_string());
                    self.value();
                    self.path.pop();
                    n += 1;
                }
            }
        }
    }

    /// A string's contents, escapes decoded (keys need them to name the field).
    fn string(&mut self) -> String {
        let start = self.i;
        self.i += 1; // opening quote
        while self.i < self.s.len() {
            match self.s[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        let raw = &self.s[start..self.i.min(self.s.len())];
        serde_json::from_slice::<String>(raw).unwrap_or_default()
    }

    fn number(&mut self) {
        let start = self.i;
        while matches!(self.peek(), b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            self.i += 1;
        }
        let literal = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        if !is_exact(&literal) {
            self.found.push(Inexact {
                path: self.path.join("."),
                literal,
            });
        }
    }
}

/// Whether a decimal literal's value is exactly what reading it as a double gives.
pub fn is_exact(literal: &str) -> bool {
    let integral = !literal.contains(['.', 'e', 'E']);
    if integral && (literal.parse::<i64>().is_ok() || literal.parse::<u64>().is_ok()) {
        return true;
    }
    let Ok(x) = literal.parse::<f64>() else {
        return false;
    };
    // `{:e}` prints the shortest digits that read back as `x`: the value the server holds.
    decimal(literal) == decimal(&format!("{x:e}"))
}

/// A decimal literal as (negative, significant digits, exponent of the last digit), with
/// leading and trailing zeros removed; zero is (false, "", 0) whatever its sign.
fn decimal(literal: &str) -> (bool, String, i64) {
    let (negative, rest) = match literal.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, literal),
    };
    let (mantissa, exp) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let mut scale = exp - frac.len() as i64;
    let trimmed_end = digits.trim_end_matches('0');
    scale += (digits.len() - trimmed_end.len()) as i64;
    let significant = trimmed_end.trim_start_matches('0');
    if significant.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, significant.to_string(), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(json: &str) -> Vec<(String, String)> {
        serde_json::from_str::<serde_json::Value>(json).expect("valid JSON");
        inexact_numbers(json.as_bytes())
            .into_iter()
            .map(|i| (i.path, i.literal))
            .collect()
    }

    #[test]
    fn numbers_a_double_keeps_are_exact_in_any_notation() {
        for n in [
            "0",
            "-0",
            "0.0",
            "1",
            "1.5",
            "1e-300",
            "1.0000000001",
            "0.001",
            "-5",
            "2050.00",
            "12345.67",
            "1E2",
            "1.50e+3",
            "9007199254740993",
            "18446744073709551615",
            "0.1",
            "100000000000000000000000",
            "1e22",
        ] {
            assert!(is_exact(n), "{n}");
        }
    }

    #[test]
    fn digits_beyond_a_double_are_found_with_their_path() {
        assert_eq!(
            paths(
                r#"{"debts": [{"capital_to_claim": 1.000000000000000000001, "n": "1.000000000000000000001"},
                              {"a\"b": {"x": [1, 2.00000000000000000001e2]}}],
                    "debts.1.amount": 0.30000000000000000001, "ok": 0.3}"#
            ),
            vec![
                (
                    "debts.0.capital_to_claim".to_string(),
                    "1.000000000000000000001".to_string()
                ),
                ("debts.1.a\"b.x.1".into(), "2.00000000000000000001e2".into()),
                ("debts.1.amount".into(), "0.30000000000000000001".into()),
            ]
        );
        // An integer too large for 64 bits is read as a double and loses its last digits.
        assert_eq!(
            paths(r#"[18446744073709551617]"#),
            vec![("0".to_string(), "18446744073709551617".to_string())]
        );
    }
}
