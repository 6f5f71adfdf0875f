//! Bankgirot's BgMax incoming-payment file (Bankgiro Inbetalningar): parsing with every
//! check the format allows, and a generator for test files. Pure: bytes in, payments out.
//!
//! A file is `01` start, sections of `05` opening … `20`/`21` payments and deductions with
//! their `22`/`23` extra references and `25`–`29` payer details … `15` deposit, and `70` end.
//! Every record is 80 characters, ISO-8859-1. The whole file is refused on the first problem
//! (with its line number): a bank file is imported whole or not at all.

use chrono::NaiveDate;

use super::Money;

/// A payment (`20`) from the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// 1-based line of its `20` record.
    pub line: usize,
    pub payer_bankgiro: String,
    /// Trimmed; an OCR reference when `reference_code` is 2.
    pub reference: String,
    /// 0/1 none, 2 OCR checked by Bankgirot, 3 several free-text references, 4 one
    /// reference, 5 a reference that failed the OCR check.
    pub reference_code: u8,
    pub amount: Money,
    pub channel: u8,
    /// Bankgirot's serial number for the payment (BGC löpnummer).
    pub serial: String,
    /// Extra references (`22`, and `23` whose amount is negative): more invoices paid by the
    /// same payment, each with the part of it that is for that invoice when the payer said.
    pub parts: Vec<Part>,
    /// Information (`25`) and name (`26`) lines, for a person matching it by hand.
    pub information: Vec<String>,
    pub payer_name: Option<String>,
    pub payer_id_number: Option<String>,
}

impl Payment {
    /// The OCR reference to match a case by: only one that passed Bankgirot's check.
    pub fn ocr(&self) -> Option<&str> {
        ocr(&self.reference, self.reference_code)
    }

    /// Every reference of the payment: its own (when it has one), then its parts'.
    pub fn references(&self) -> Vec<String> {
        std::iter::once(self.reference.clone())
            .filter(|r| !r.is_empty())
            .chain(self.parts.iter().map(Part::label))
            .collect()
    }

    /// Whether the payer split the payment: its parts carry amounts that, with what is left
    /// for the payment's own reference, add up to the payment.
    pub fn is_split(&self) -> bool {
        !self.parts.is_empty()
            && self.parts.iter().all(|p| p.amount != Money::ZERO)
            && self.parts.iter().map(|p| p.amount).sum::<Money>() <= self.amount
    }
}

fn ocr(reference: &str, code: u8) -> Option<&str> {
    (code == 2 && !reference.is_empty()).then_some(reference)
}

/// An extra reference (`22`, or `23` for a negative part) of a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub line: usize,
    pub reference: String,
    pub reference_code: u8,
    /// The part of the payment for this reference: negative for a `23`, zero when the payer
    /// did not say.
    pub amount: Money,
}

impl Part {
    pub fn ocr(&self) -> Option<&str> {
        ocr(&self.reference, self.reference_code)
    }

    /// The reference as a person reads it: a negative part with its minus sign.
    pub fn label(&self) -> String {
        if self.amount < Money::ZERO {
            format!("{} ({})", self.reference, self.amount)
        } else {
            self.reference.clone()
        }
    }
}

/// A deduction (`21`): money taken back from the payee, never a payment. The deposit is the
/// section's payments less its deductions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deduction {
    pub line: usize,
    pub payer_bankgiro: String,
    pub reference: String,
    pub reference_code: u8,
    pub amount: Money,
    pub serial: String,
    /// Position 71: 1 the whole payment deducted (no rest), 2 a partial deduction with a
    /// rest, 3 a partial deduction, final; 0 when blank (Bankgirot's 2004 examples).
    pub code: u8,
}

impl Deduction {
    pub fn ocr(&self) -> Option<&str> {
        ocr(&self.reference, self.reference_code)
    }
}

/// One deposit: an opening (`05`), its payments and deductions, and its deposit (`15`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub payee_bankgiro: String,
    pub currency: String,
    pub payments: Vec<Payment>,
    pub deductions: Vec<Deduction>,
    pub payment_date: NaiveDate,
    pub deposit_serial: String,
    /// Payments less deductions.
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BgMaxFile {
    /// `YYYYMMDDHHMMSSffffff` from the start record.
    pub written: String,
    /// `T`: a test file.
    pub test: bool,
    pub sections: Vec<Section>,
}

impl BgMaxFile {
    pub fn payments(&self) -> impl Iterator<Item = (&Section, &Payment)> {
        self.sections
            .iter()
            .flat_map(|s| s.payments.iter().map(move |p| (s, p)))
    }
}

/// Why a file was refused, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct BgMaxError {
    /// 1-based; 0 for the file as a whole.
    pub line: usize,
    pub reason: String,
}

fn err<T>(line: usize, reason: impl Into<String>) -> Result<T, BgMaxError> {
    Err(BgMaxError {
        line,
        reason: reason.into(),
    })
}

/// How far before the file's write date a deposit may be dated: Bankgirot sends each day's
/// deposits the next morning, so a year is already generous.
const MAX_DEPOSIT_AGE_DAYS: i64 = 366;

/// Why a deposit's date cannot be right for a file written at `written`
/// (`YYYYMMDDhhmmss…`): after the file was written (a day's leeway), or more than
/// [`MAX_DEPOSIT_AGE_DAYS`] before it.
fn implausible(payment_date: NaiveDate, written: &str) -> Option<String> {
    let written_on = NaiveDate::parse_from_str(written.get(..8)?, "%Y%m%d").ok()?;
    if payment_date > written_on + chrono::Duration::days(1) {
        return Some(format!("after the file was written ({written_on})"));
    }
    if payment_date < written_on - chrono::Duration::days(MAX_DEPOSIT_AGE_DAYS) {
        return Some(format!(
            "more than {MAX_DEPOSIT_AGE_DAYS} days before the file was written ({written_on})"
        ));
    }
    None
}

/// A record's fields by their 1-based inclusive positions (80 bytes of ISO-8859-1).
struct Record {
    line: usize,
    bytes: Vec<u8>,
}

impl Record {
    fn raw(&self, from: usize, to: usize) -> &[u8] {
        &self.bytes[from - 1..to]
    }

    /// A field as text (each ISO-8859-1 byte is the code point of the same number).
    fn field(&self, from: usize, to: usize) -> String {
        self.raw(from, to).iter().map(|&b| b as char).collect()
    }

    fn text_field(&self, from: usize, to: usize) -> String {
        self.field(from, to).trim().to_string()
    }

    fn digits(&self, from: usize, to: usize, what: &str) -> Result<String, BgMaxError> {
        let f = self.field(from, to);
        if self.raw(from, to).iter().all(u8::is_ascii_digit) {
            Ok(f)
        } else {
            err(
                self.line,
                format!("{what} (positions {from}–{to}) is not a number: '{f}'"),
            )
        }
    }

    fn number(&self, from: usize, to: usize, what: &str) -> Result<i64, BgMaxError> {
        self.digits(from, to, what)?
            .parse()
            .or_else(|_| err(self.line, format!("{what} is out of range")))
    }

    fn ore(&self, from: usize, to: usize, what: &str) -> Result<Money, BgMaxError> {
        Ok(Money::from_ore(self.number(from, to, what)?))
    }
}

/// The largest amount a record may carry (10 billion kronor): sums of a file's amounts stay
/// far from overflowing.
const MAX_AMOUNT_ORE: i64 = 1_000_000_000_000;

/// A section being read: the line of its opening, payee, currency, payments, deductions.
type OpenSection = (usize, String, String, Vec<Payment>, Vec<Deduction>);

/// Parses a BgMax file (ISO-8859-1 bytes, CR LF or LF line ends).
pub fn parse(bytes: &[u8]) -> Result<BgMaxFile, BgMaxError> {
    let mut records = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        // Tabs in the blank reference field occur in Bankgirot's own examples.
        let mut record: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'\t' { b' ' } else { b })
            .collect();
        if record.iter().any(|&b| b < 0x20 || b == 0x7f) {
            return err(line, "contains control characters");
        }
        if record.len() > 80 {
            return err(
                line,
                format!("is {} characters long; a record is 80", record.len()),
            );
        }
        // Trailing blanks lost in transfer are put back.
        record.resize(80, b' ');
        records.push(Record {
            line,
            bytes: record,
        });
    }
    let mut records = records.into_iter();
    let Some(start) = records.next() else {
        return err(0, "the file is empty");
    };
    if start.field(1, 2) != "01" {
        return err(
            start.line,
            "the file does not begin with a start record (01)",
        );
    }
    if start.field(3, 22).trim_end() != "BGMAX" {
        return err(start.line, "the layout name is not BGMAX");
    }
    let written = start.digits(25, 44, "the write time")?;
    let test = start.field(45, 45) == "T";

    let mut file = BgMaxFile {
        written,
        test,
        sections: vec![],
    };
    let mut open: Option<OpenSection> = None;
    let mut counts = [0i64; 4]; // 20, 21, 22+23, 15
    let mut ended = false;
    // Whether the last payment-or-deduction record was a deduction (21): the detail records
    // after it describe the deduction, not the payment before it.
    let mut last_was_deduction = false;
    for r in records {
        if ended {
            return err(r.line, "records after the end record (70)");
        }
        let kind = r.field(1, 2);
        match kind.as_str() {
            "05" => {
                if open.is_some() {
                    return err(r.line, "an opening record (05) inside an open section");
                }
                let payee = r.digits(3, 12, "the payee bankgiro number")?;
                let currency = r.text_field(23, 25);
                if currency != "SEK" {
                    return err(r.line, format!("currency '{currency}' is not SEK"));
                }
                open = Some((r.line, payee, currency, vec![], vec![]));
                last_was_deduction = false;
            }
            "20" | "21" => {
                let Some((_, _, _, payments, deductions)) = open.as_mut() else {
                    return err(r.line, "a payment outside a section (no 05 before it)");
                };
                let amount = r.ore(38, 55, "the amount")?;
                if amount.ore() > MAX_AMOUNT_ORE {
                    return err(r.line, format!("the amount {amount} is beyond any payment"));
                }
                if amount == Money::ZERO {
                    return err(r.line, "a payment or deduction of 0,00 kr is no payment");
                }
                let serial = r.text_field(58, 69);
                last_was_deduction = kind == "21";
                if kind == "20" {
                    counts[0] += 1;
                    let code = r.digits(56, 56, "the reference code")?;
                    let channel = r.digits(57, 57, "the payment channel")?;
                    payments.push(Payment {
                        line: r.line,
                        payer_bankgiro: r.text_field(3, 12),
                        reference: r.text_field(13, 37),
                        reference_code: code.parse().unwrap_or(0),
                        amount,
                        channel: channel.parse().unwrap_or(0),
                        serial,
                        parts: vec![],
                        information: vec![],
                        payer_name: None,
                        payer_id_number: None,
                    });
                } else {
                    counts[1] += 1;
                    let code = r.field(71, 71);
                    deductions.push(Deduction {
                        line: r.line,
                        payer_bankgiro: r.text_field(3, 12),
                        reference: r.text_field(13, 37),
                        reference_code: r
                            .digits(56, 56, "the reference code")?
                            .parse()
                            .unwrap_or(0),
                        amount,
                        serial,
                        code: match code.as_str() {
                            " " | "0" => 0,
                            "1" | "2" | "3" => code.parse().unwrap_or(0),
                            other => {
                                return err(
                                    r.line,
                                    format!(
                                        "deduction code '{other}' (position 71) is not 1, 2 or 3"
                                    ),
                                )
                            }
                        },
                    });
                }
            }
            "22" | "23" | "25" | "26" | "27" | "28" | "29" => {
                if matches!(kind.as_str(), "22" | "23") {
                    counts[2] += 1;
                }
                let Some((_, _, _, payments, _)) = open.as_mut() else {
                    return err(r.line, format!("a {kind} record outside a section"));
                };
                // Details of a deduction are not kept; those of a payment are.
                if last_was_deduction {
                    continue;
                }
                let Some(p) = payments.last_mut() else {
                    continue;
                };
                match kind.as_str() {
                    "22" | "23" => {
                        let amount = r.ore(38, 55, "the amount")?;
                        if amount.ore() > MAX_AMOUNT_ORE {
                            return err(
                                r.line,
                                format!("the amount {amount} is beyond any payment"),
                            );
                        }
                        p.parts.push(Part {
                            line: r.line,
                            reference: r.text_field(13, 37),
                            reference_code: r
                                .digits(56, 56, "the reference code")?
                                .parse()
                                .unwrap_or(0),
                            amount: if kind == "23" { -amount } else { amount },
                        })
                    }
                    "25" => p.information.push(r.text_field(3, 52)),
                    "26" => p.payer_name = Some(r.text_field(3, 37)),
                    "29" => p.payer_id_number = Some(r.text_field(3, 14)),
                    _ => {}
                }
            }
            "15" => {
                let Some((opened, payee, currency, payments, deductions)) = open.take() else {
                    return err(r.line, "a deposit record (15) without an opening (05)");
                };
                counts[3] += 1;
                let date = r.digits(38, 45, "the payment date")?;
                let Some(payment_date) = NaiveDate::parse_from_str(&date, "%Y%m%d").ok() else {
                    return err(r.line, format!("payment date '{date}' is not a date"));
                };
                if let Some(problem) = implausible(payment_date, &file.written) {
                    return err(r.line, format!("payment date {payment_date}: {problem}"));
                }
                let amount = r.ore(51, 68, "the deposit amount")?;
                if payments.len() + deductions.len() > 10_000_000 {
                    return err(r.line, "too many payments in one deposit");
                }
                let dep_currency = r.text_field(69, 71);
                if dep_currency != currency {
                    return err(
                        r.line,
                        format!(
                            "deposit currency '{dep_currency}' is not the section's {currency}"
                        ),
                    );
                }
                let count = r.number(72, 79, "the number of payments")?;
                let sum: Money = payments.iter().map(|p| p.amount).sum::<Money>()
                    - deductions.iter().map(|d| d.amount).sum::<Money>();
                if sum != amount {
                    return err(
                        r.line,
                        format!(
                            "the deposit of {amount} does not equal the section's payments less deductions ({sum}; section from line {opened})"
                        ),
                    );
                }
                let n = (payments.len() + deductions.len()) as i64;
                if n != count {
                    return err(
                        r.line,
                        format!("the deposit counts {count} payments and deductions; the section has {n}"),
                    );
                }
                file.sections.push(Section {
                    payee_bankgiro: payee,
                    currency,
                    payments,
                    deductions,
                    payment_date,
                    deposit_serial: r.text_field(46, 50),
                    amount,
                });
            }
            "70" => {
                if let Some((opened, ..)) = &open {
                    return err(
                        r.line,
                        format!("the section opened on line {opened} has no deposit record (15)"),
                    );
                }
                let stated = [
                    r.number(3, 10, "the number of payments")?,
                    r.number(11, 18, "the number of deductions")?,
                    r.number(19, 26, "the number of extra references")?,
                    r.number(27, 34, "the number of deposits")?,
                ];
                let names = [
                    "payments (20)",
                    "deductions (21)",
                    "extra references (22/23)",
                    "deposits (15)",
                ];
                for ((s, c), name) in stated.iter().zip(counts).zip(names) {
                    if *s != c {
                        return err(
                            r.line,
                            format!("the end record counts {s} {name}; the file has {c}"),
                        );
                    }
                }
                ended = true;
            }
            "01" => return err(r.line, "a second start record (01)"),
            // Unknown record types are ignored, as the manual says.
            _ => {}
        }
    }
    if !ended {
        return err(0, "the file has no end record (70): it is truncated");
    }
    Ok(file)
}

/// Builds BgMax files for tests and demos (`indriva bgmax generate`).
#[derive(Clone, Debug)]
pub struct Generator {
    pub payee_bankgiro: String,
    pub payment_date: NaiveDate,
    /// `YYYYMMDDHHMMSSffffff`.
    pub written: String,
    pub payments: Vec<GeneratedPayment>,
    /// A reference of digits only is written as an OCR reference (code 2), anything else
    /// as free text; deduction code 1.
    pub deductions: Vec<(String, Money)>,
}

#[derive(Clone, Debug)]
pub struct GeneratedPayment {
    /// An OCR reference (reference code 2), or free text (code 4) when `ocr` is false.
    pub reference: String,
    pub ocr: bool,
    pub amount: Money,
    pub payer_name: Option<String>,
    /// Extra references as OCR numbers with their parts: `22` records, `23` when negative.
    pub parts: Vec<(String, Money)>,
}

fn left(s: &str, n: usize) -> String {
    format!("{:<n$}", s.chars().take(n).collect::<String>())
}

fn right(s: &str, n: usize) -> String {
    format!("{:>n$}", s.chars().take(n).collect::<String>())
}

fn zeros(v: i64, n: usize) -> String {
    format!("{v:0n$}")
}

impl Generator {
    /// The file as Bankgirot sends it: ISO-8859-1 bytes. Text outside ISO-8859-1 is refused.
    pub fn render_bytes(&self) -> Result<Vec<u8>, String> {
        self.render()
            .chars()
            .map(|c| {
                u8::try_from(u32::from(c))
                    .map_err(|_| format!("'{c}' cannot be written in a BgMax file (ISO-8859-1)"))
            })
            .collect()
    }

    /// The file, one section, CR LF line ends; every record 80 characters.
    pub fn render(&self) -> String {
        let bg = zeros(self.payee_bankgiro.parse::<i64>().unwrap_or(0), 10);
        let mut lines = vec![
            format!("01{}01{}T", left("BGMAX", 20), left(&self.written, 20)),
            format!("05{bg}{}SEK", left("", 10)),
        ];
        let mut serial = 0;
        for p in &self.payments {
            serial += 1;
            let reference = if p.ocr {
                right(&p.reference, 25)
            } else {
                left(&p.reference, 25)
            };
            lines.push(format!(
                "20{}{reference}{}{}1{}0",
                zeros(0, 10),
                zeros(p.amount.ore(), 18),
                if p.ocr { '2' } else { '4' },
                zeros(serial, 12),
            ));
            for (reference, amount) in &p.parts {
                lines.push(format!(
                    "{}{}{}{}21{}0",
                    if *amount < Money::ZERO { "23" } else { "22" },
                    zeros(0, 10),
                    right(reference, 25),
                    zeros(amount.ore().abs(), 18),
                    zeros(serial, 12),
                ));
            }
            if let Some(name) = &p.payer_name {
                lines.push(format!("26{}", left(name, 35)));
            }
        }
        for (reference, amount) in &self.deductions {
            serial += 1;
            let ocr = !reference.is_empty() && reference.chars().all(|c| c.is_ascii_digit());
            lines.push(format!(
                "21{}{}{}{}1{}01",
                zeros(0, 10),
                if ocr {
                    right(reference, 25)
                } else {
                    left(reference, 25)
                },
                zeros(amount.ore(), 18),
                if ocr { '2' } else { '4' },
                zeros(serial, 12),
            ));
        }
        let total: i64 = self.payments.iter().map(|p| p.amount.ore()).sum::<i64>()
            - self.deductions.iter().map(|(_, a)| a.ore()).sum::<i64>();
        let count = (self.payments.len() + self.deductions.len()) as i64;
        lines.push(format!(
            "15{}{}{}{}SEK{}",
            zeros(0, 35),
            self.payment_date.format("%Y%m%d"),
            zeros(1, 5),
            zeros(total, 18),
            zeros(count, 8),
        ));
        lines.push(format!(
            "70{}{}{}{}",
            zeros(self.payments.len() as i64, 8),
            zeros(self.deductions.len() as i64, 8),
            zeros(self.payments.iter().map(|p| p.parts.len() as i64).sum(), 8),
            zeros(1, 8),
        ));
        lines
            .iter()
            .map(|l| format!("{l:<80}\r\n"))
            .collect::<String>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// domain-se.md §8.4's synthetic file, verbatim.
    const SAMPLE: &str = "\
01BGMAX               0120260115063012123456T                                   
050009912346          SEK                                                       
200003783511                 10001782000000000000125000210000000000010          
26Anna Andersson                                                                
200000000000                 10002582000000000000050050210000000000020          
210003783511KREDIT 42                0000000000000100004100000000000301         
15000000000000000000000012340001234562026011400001000000000000165050SEK00000003 
7000000002000000010000000000000001                                              
";

    #[test]
    fn the_reference_sample_parses() {
        let f = parse(SAMPLE.as_bytes()).unwrap();
        assert!(f.test);
        assert_eq!(f.sections.len(), 1);
        let s = &f.sections[0];
        assert_eq!(s.payee_bankgiro, "0009912346");
        assert_eq!(
            s.payment_date,
            NaiveDate::from_ymd_opt(2026, 1, 14).unwrap()
        );
        assert_eq!(s.amount, Money::from_ore(165_050));
        assert_eq!(s.payments.len(), 2);
        assert_eq!(s.payments[0].ocr(), Some("10001782"));
        assert_eq!(s.payments[0].amount, Money::from_ore(125_000));
        assert_eq!(s.payments[0].payer_name.as_deref(), Some("Anna Andersson"));
        assert_eq!(s.payments[0].line, 3);
        assert_eq!(s.payments[1].amount, Money::from_ore(50_050));
        assert_eq!(s.deductions[0].amount, Money::from_ore(10_000));
    }

    /// Bankgirot's example file BgMaxfil4 (2004), its three SEK sections (the fourth is in
    /// EUR, which Indriva refuses), with the end record counted again and å, ä written as a.
    const BGMAXFIL4: &str = "\
01BGMAX               0120040525173035010331P\n\
050009912346          SEK\n\
200003783511                         000000000000180000020001200000180\n\
220003783511                   665760000000000000000000220001200000180\n\
220003783511                   665869000000000000000000220001200000180\n\
220003783511                   665661000000000000000000220001200000180\n\
220003783511                   657775000000000000000000220001200000180\n\
25Betalning med extra refnr 665869 657775 665661\n\
25665760\n\
26Kalles Plat AB\n\
200097012333                   524967000000000000190000210000000000190\n\
26Olles farg AB\n\
15000000000000000000058410000010098232004052500056000000000000370000SEK00000002\n\
050009912346          SEK\n\
200001234567                         000000000000200000030000000000201\n\
220001234567                   573964000000000000170000230000000000201\n\
220001234567                   573865000000000000030000230000000000201\n\
26Berits Garn\n\
15000000000000000000058410000010098232004052500057000000000000200000SEK00000001\n\
050009912346          SEK\n\
200097012333                   525865000000000000050000210000000000210\n\
200001234567                   525766000000000000050000210000000000220\n\
200000000000                   535765000000000000050000230000000000230\n\
200003783511                         000000000000140000030000000000301\n\
220003783511                  7495575000000000000100000230000000000301\n\
220003783511                   695668000000000000050000230000000000301\n\
2200037835118988777                  000000000000040000530000000000301\n\
230003783511                    74450000000000000050000230000000000301\n\
26Kalles Plat AB\n\
15000000000000000000058410000010098232004052500058000000000000290000SEK00000004\n\
7000000007000000000000001000000003\n";

    #[test]
    fn bankgirots_split_payments_keep_their_parts() {
        let f = parse(BGMAXFIL4.as_bytes()).unwrap();
        let amounts = |p: &Payment| p.parts.iter().map(|x| x.amount.ore()).collect::<Vec<_>>();
        // 1 800,00 over four references without amounts: not a split the file spells out.
        let first = &f.sections[0].payments[0];
        assert_eq!(amounts(first), vec![0, 0, 0, 0]);
        assert!(!first.is_split());
        assert_eq!(
            first.references(),
            vec!["665760", "665869", "665661", "657775"]
        );
        // 2 000,00 = 1 700,00 + 300,00.
        let second = &f.sections[1].payments[0];
        assert_eq!(amounts(second), vec![170_000, 30_000]);
        assert!(second.is_split());
        assert_eq!(second.parts[0].ocr(), Some("573964"));
        // 1 400,00 = 1 000 + 500 + 400 (a reference that failed the OCR check) − 500 (23).
        let last = &f.sections[2].payments[3];
        assert_eq!(amounts(last), vec![100_000, 50_000, 40_000, -50_000]);
        assert!(last.is_split());
        assert_eq!(last.parts[2].ocr(), None, "reference code 5");
        assert_eq!(last.parts[3].label(), "74450 (-500.00)");
    }

    #[test]
    fn deductions_keep_their_reference_and_code() {
        let s = &parse(SAMPLE.as_bytes()).unwrap().sections[0];
        let d = &s.deductions[0];
        assert_eq!(
            (d.reference.as_str(), d.code, d.reference_code),
            ("KREDIT 42", 1, 4)
        );
        assert_eq!(d.payer_bankgiro, "0003783511");
        let bad = SAMPLE.replace("00000000000301  ", "00000000000309  ");
        assert!(
            refused(&bad).reason.contains("deduction code '9'"),
            "{}",
            refused(&bad)
        );
    }

    #[test]
    fn crlf_and_lost_trailing_blanks_are_accepted() {
        let crlf: String = SAMPLE
            .lines()
            .map(|l| format!("{}\r\n", l.trim_end()))
            .collect();
        assert_eq!(
            parse(crlf.as_bytes()).unwrap(),
            parse(SAMPLE.as_bytes()).unwrap()
        );
    }

    fn refused(text: &str) -> BgMaxError {
        parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn broken_files_are_refused_with_the_line_and_the_reason() {
        let lines: Vec<&str> = SAMPLE.lines().collect();
        let truncated = lines[..6].join("\n");
        assert_eq!(refused(&truncated).line, 0);
        assert!(refused(&truncated).reason.contains("truncated"));

        let long = SAMPLE.replacen("Anna Andersson  ", "Anna Andersson   ", 1);
        let e = refused(&long);
        assert_eq!(
            (e.line, e.reason.contains("81 characters")),
            (4, true),
            "{e}"
        );

        let wrong_sum = SAMPLE.replace("000000000000165050SEK", "000000000000165051SEK");
        let e = refused(&wrong_sum);
        assert_eq!(e.line, 7);
        assert!(e.reason.contains("does not equal"), "{e}");

        let wrong_count = SAMPLE.replace("7000000002", "7000000003");
        let e = refused(&wrong_count);
        assert_eq!(e.line, 8);
        assert!(e.reason.contains("counts 3 payments"), "{e}");

        let eur = SAMPLE.replace("          SEK      ", "          EUR      ");
        assert!(refused(&eur).reason.contains("EUR"));

        let bad_amount = SAMPLE.replace("000000000000125000", "0000000000001250X0");
        let e = refused(&bad_amount);
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("not a number"));

        let bad_date = SAMPLE.replace("20260114", "20261399");
        assert!(refused(&bad_date).reason.contains("not a date"));

        assert!(refused("hello\n").reason.contains("start record"));
        assert_eq!(refused("").line, 0);
    }

    #[test]
    fn details_after_a_deduction_are_not_the_payments() {
        let with_detail = SAMPLE.replace(
            "210003783511KREDIT 42                0000000000000100004100000000000301         \n",
            "210003783511KREDIT 42                0000000000000100004100000000000301         \n26Other AB                                                                      \n",
        );
        assert_ne!(with_detail, SAMPLE);
        let f = parse(with_detail.as_bytes()).unwrap();
        assert_eq!(f.sections[0].payments[1].payer_name, None);
        assert_eq!(
            f.sections[0].payments[0].payer_name.as_deref(),
            Some("Anna Andersson")
        );
    }

    #[test]
    fn amounts_beyond_any_payment_are_refused() {
        let huge = SAMPLE.replace("000000000000125000", "999999999999999999");
        assert!(refused(&huge).reason.contains("beyond any payment"));
    }

    #[test]
    fn generated_files_are_iso_8859_1() {
        let g = Generator {
            payee_bankgiro: "9912346".into(),
            payment_date: NaiveDate::from_ymd_opt(2025, 9, 10).unwrap(),
            written: "20250910063012123456".into(),
            payments: vec![GeneratedPayment {
                reference: "räkning 7".into(),
                ocr: false,
                amount: Money::from_ore(100),
                payer_name: Some("Åsa Öberg".into()),
                parts: vec![],
            }],
            deductions: vec![],
        };
        let bytes = g.render_bytes().unwrap();
        assert!(bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .all(|l| l.len() == 81));
        let f = parse(&bytes).unwrap();
        assert_eq!(f.sections[0].payments[0].reference, "räkning 7");
        assert_eq!(
            f.sections[0].payments[0].payer_name.as_deref(),
            Some("Åsa Öberg")
        );
        let mut euro = g.clone();
        euro.payments[0].reference = "5 €".into();
        assert!(euro.render_bytes().unwrap_err().contains("ISO-8859-1"));
    }

    #[test]
    fn generated_files_parse_back() {
        let g = Generator {
            payee_bankgiro: "9912346".into(),
            payment_date: NaiveDate::from_ymd_opt(2025, 9, 10).unwrap(),
            written: "20250910063012123456".into(),
            payments: vec![
                GeneratedPayment {
                    reference: "20252460000000000105".into(),
                    ocr: true,
                    amount: Money::from_ore(201_400),
                    payer_name: Some("ACME Inc.".into()),
                    parts: vec![],
                },
                GeneratedPayment {
                    reference: "faktura 77".into(),
                    ocr: false,
                    amount: Money::from_ore(5_000),
                    payer_name: None,
                    parts: vec![],
                },
            ],
            deductions: vec![("RETUR".into(), Money::from_ore(1_000))],
        };
        let text = g.render();
        assert!(text.lines().all(|l| l.len() == 80), "{text}");
        let f = parse(text.as_bytes()).unwrap();
        let s = &f.sections[0];
        assert_eq!(s.payee_bankgiro, "0009912346");
        assert_eq!(s.payments[0].ocr(), Some("20252460000000000105"));
        assert_eq!(s.payments[0].payer_name.as_deref(), Some("ACME Inc."));
        assert_eq!(s.payments[1].ocr(), None);
        assert_eq!(s.payments[1].reference, "faktura 77");
        assert_eq!(s.amount, Money::from_ore(205_400));
    }
}
