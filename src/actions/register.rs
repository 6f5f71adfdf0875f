//! Registering cases (`POST /case--registrations`, amili-api.md §4.1): one case and OCR
//! reference per debt, the customer upserted per account and identity number, all or
//! nothing. The rules that span fields are checked here; the registration is then written by
//! the [`crate::registrar`] in a batch with others (group commit), which opens each case
//! through the case path.

use super::{ActionError, Actor, Answer, Idempotency};
use crate::app::App;
use crate::domain::identity::{parse_id_number, IdKind};
use crate::domain::limitation;
use crate::domain::registration::CaseRegistration;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::validate::Issues;
use crate::registrar::{Outcome as Written, Submission};

/// What came of a registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written (201): the answer, with the cases and OCR references made.
    Created(Answer),
    /// An earlier request with the same key and body: its answer, again.
    Replayed(Answer),
}

impl Outcome {
    pub fn answer(&self) -> &Answer {
        match self {
            Outcome::Created(a) | Outcome::Replayed(a) => a,
        }
    }

    /// The cases the registration opened (one per debt, in order).
    pub fn cases(&self) -> Vec<ObjectId> {
        serde_json::from_str::<serde_json::Value>(&self.answer().body)
            .ok()
            .and_then(|v| {
                v.get("_cases")?
                    .as_array()?
                    .iter()
                    .map(|c| c.as_str().and_then(|s| ObjectId::parse(s).ok()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Registers `reg` for the actor's account: stamped with the account's time and a new id,
/// its identity number made canonical. What is wrong with it is [`ActionError::Invalid`],
/// with every issue at once.
pub async fn run(
    app: &App,
    actor: &Actor,
    mut reg: CaseRegistration,
    idempotency: Option<Idempotency>,
) -> Result<Outcome, ActionError> {
    let account = actor.own_account()?;
    let now = app.clocks.now(&app.store, &account).await?;
    reg.id = ObjectId::at(now.unix());
    reg.created = now;
    reg.updated = now;
    let issues = check(&mut reg, now);
    if !issues.is_empty() {
        return Err(ActionError::Invalid(issues));
    }
    let submission = Submission {
        scope: actor.scope.clone(),
        account,
        idempotency,
        registration: reg,
        now,
        actor: actor.audit.clone(),
    };
    match app.registrar.register(submission).await? {
        Written::Created(body) => Ok(Outcome::Created(Answer { status: 201, body })),
        Written::Replayed { status, body } => Ok(Outcome::Replayed(Answer { status, body })),
        Written::Rejected(issues) => Err(ActionError::Invalid(issues)),
        Written::UnknownAccount => Err(ActionError::Forbidden(
            "the account of this API user no longer exists".into(),
        )),
    }
}

/// The rules that span fields: the identity number checked and made canonical (and a
/// company's not marked a person), fees within the capital, an invoice number once.
fn check(reg: &mut CaseRegistration, now: HttpDate) -> Issues {
    let mut issues = Issues::default();
    match parse_id_number(&reg.customer.id_number, now.date()) {
        Ok(n) => {
            if n.kind == IdKind::Organization && reg.customer.is_company == Some(false) {
                issues.add(
                    "customer.is_company",
                    "an organisationsnummer identifies a company; is_company cannot be false",
                );
            }
            reg.customer.id_number = n.canonical;
        }
        Err(msg) => issues.add("customer.id_number", msg),
    }
    let mut seen = std::collections::HashSet::new();
    for (i, d) in reg.debts.iter().enumerate() {
        if d.invoice_date.date() > now.date() {
            issues.add(
                &format!("debts.{i}.invoice_date"),
                format!(
                    "the invoice date cannot be later than today ({})",
                    now.date().format("%Y-%m-%d")
                ),
            );
        }
        if let Some(at) = d.limitation_interrupted_date {
            if at.date() > now.date() {
                issues.add(
                    &format!("debts.{i}.limitation_interrupted_date"),
                    format!(
                        "the limitation interruption cannot be later than today ({})",
                        now.date().format("%Y-%m-%d")
                    ),
                );
            }
        }
        // Preskriptionslag (1981:130) 2 §: the period runs from the due date, 3 years for a
        // consumer, 10 otherwise; 8 §: a barred claim may not be collected.
        let company = reg.debtor_is_company();
        let lim = limitation::at_registration(d.due_date(), d.limitation_interrupted_date, company);
        if limitation::is_barred(&lim, now) {
            issues.add(
                &format!("debts.{i}"),
                format!(
                    "the claim is time-barred: its limitation period of {} years ran from {} and \
                     ended on {} (preskriptionslag (1981:130) 2 and 8 §§); if the debtor or the \
                     creditor interrupted it later, give that date as limitation_interrupted_date",
                    if company { 10 } else { 3 },
                    lim.break_date.date().format("%Y-%m-%d"),
                    lim.limitation_date.date().format("%Y-%m-%d"),
                ),
            );
        }
        if d.included_fees() > d.capital_to_claim {
            issues.add(
                &format!("debts.{i}.fees_included_in_capital_to_claim"),
                "the fees included cannot exceed capital_to_claim",
            );
        }
        if !seen.insert(d.invoice_number.as_str()) {
            issues.add(
                &format!("debts.{i}.invoice_number"),
                format!(
                    "invoice number {} appears more than once in this registration",
                    d.invoice_number
                ),
            );
        }
    }
    issues
}
