//! `indriva bgmax generate`: writes a Bankgirot BgMax file, for tests and demos.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct BgmaxArgs {
    #[command(subcommand)]
    pub command: BgmaxCommand,
}

#[derive(Subcommand, Debug)]
pub enum BgmaxCommand {
    /// Write a BgMax file (one deposit) to stdout or `--out`.
    Generate {
        /// The payee bankgiro number.
        #[arg(long, default_value = crate::letters::SANDBOX_BANKGIRO)]
        bankgiro: String,
        /// The payment date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// A payment with an OCR reference, `OCR:AMOUNT` (kronor, e.g. 20252460000000000105:2014.00).
        /// Repeat for more.
        #[arg(long = "ocr")]
        ocr: Vec<String>,
        /// A payment with a free-text reference (not matched by itself), `TEXT:AMOUNT`.
        #[arg(long = "text")]
        text: Vec<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `KEY:AMOUNT` with the amount in kronor.
fn reference_and_amount(s: &str) -> anyhow::Result<(String, crate::domain::Money)> {
    let (reference, amount) = s
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("'{s}': expected REFERENCE:AMOUNT"))?;
    let amount: f64 = amount
        .parse()
        .ok()
        .filter(|_| crate::eve::literal::is_exact(amount))
        .ok_or_else(|| anyhow::anyhow!("'{s}': the amount is not a number kept exactly"))?;
    let amount =
        crate::domain::Money::from_kronor_f64(amount).map_err(|e| anyhow::anyhow!("'{s}': {e}"))?;
    anyhow::ensure!(
        amount > crate::domain::Money::ZERO,
        "'{s}': the amount must be positive"
    );
    Ok((reference.to_string(), amount))
}

pub fn run(args: BgmaxArgs) -> anyhow::Result<()> {
    use crate::domain::bgmax::{GeneratedPayment, Generator};
    let BgmaxCommand::Generate {
        bankgiro,
        date,
        ocr,
        text,
        out,
    } = args.command;
    let payment_date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("--date must be YYYY-MM-DD"))?;
    let mut payments = Vec::new();
    for (list, is_ocr) in [(&ocr, true), (&text, false)] {
        for p in list {
            let (reference, amount) = reference_and_amount(p)?;
            payments.push(GeneratedPayment {
                reference,
                ocr: is_ocr,
                amount,
                payer_name: None,
                parts: vec![],
            });
        }
    }
    anyhow::ensure!(
        !payments.is_empty(),
        "give at least one --ocr or --text payment"
    );
    let generator = Generator {
        payee_bankgiro: crate::actions::bank::bankgiro_digits(&bankgiro),
        payment_date,
        // Written the morning after the deposits, as Bankgirot does (a file whose write
        // date is far from its payment dates is refused as implausible); the time of day
        // keeps two generated files apart.
        written: format!(
            "{}{}",
            (payment_date + chrono::Duration::days(1)).format("%Y%m%d"),
            chrono::Utc::now().format("%H%M%S%6f")
        ),
        payments,
        deductions: vec![],
    };
    let file = generator.render_bytes().map_err(|e| anyhow::anyhow!(e))?;
    match out {
        Some(path) => std::fs::write(&path, file)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&file)?;
        }
    }
    Ok(())
}
