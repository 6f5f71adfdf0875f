//! What a creditor does to one of its cases (amili-api.md §4.6–§4.8, alpha shape): reports a
//! payment the debtor made to it, credits part of the claim, or withdraws the case. The case
//! is named by id or by invoice number; the command goes through the case's one change path;
//! the action is stored with what came of it (`status`), and its answer recorded under the
//! request's `Idempotency-Key`: one transaction.

use serde_json::json;

use super::{
    find_case, record_answer, recorded_answer, transact, ActionError, Actor, Answer, Attempt,
    CaseRef, Failure, Idempotency,
};
use crate::app::App;
use crate::cases::{self, MutateError, RuleBook};
use crate::domain::action::{reasons, ActionStatus, CreditorAction};
use crate::domain::apply::{Command, Refusal};
use crate::domain::{HttpDate, Money, ObjectId};
use crate::eve::Resource;
use crate::resources::{CREDITOR_CANCELLATIONS, CREDITOR_CREDITINGS, CREDITOR_PAYMENTS};
use crate::store::{prepare_document, Tx};

/// Which action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The debtor paid the creditor (`/creditor--payments`): settles capital.
    Payment,
    /// The creditor credits part of the claim (`/creditor--creditings`).
    Crediting,
    /// The creditor withdraws the case (`/creditor--cancellations`).
    Cancellation,
}

impl Kind {
    /// Where the actions of this kind are stored.
    pub fn resource(self) -> &'static Resource {
        match self {
            Kind::Payment => &CREDITOR_PAYMENTS,
            Kind::Crediting => &CREDITOR_CREDITINGS,
            Kind::Cancellation => &CREDITOR_CANCELLATIONS,
        }
    }

    /// The answer's status field (creditings report theirs as `_payment_status` too).
    fn status_field(self) -> &'static str {
        match self {
            Kind::Payment | Kind::Crediting => "_payment_status",
            Kind::Cancellation => "_cancellation_status",
        }
    }

    /// The request field that carries the action's date.
    pub fn date_field(self) -> &'static str {
        match self {
            Kind::Payment => "bank_transaction_date",
            _ => "client_registration_date",
        }
    }
}

/// A creditor action, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub kind: Kind,
    pub creditor: ObjectId,
    pub case: CaseRef,
    /// Payments and creditings.
    pub amount: Option<Money>,
    /// A payment's value date (`bank_transaction_date`), a crediting's date
    /// (`client_registration_date`); at most the account's now. Default: now.
    pub date: Option<HttpDate>,
    /// A payment's `client_registration_date` (when the creditor registered it).
    pub registered: Option<HttpDate>,
    pub currency: Option<String>,
    pub creditor_payment_reference: Option<String>,
    pub credit_invoice: Option<String>,
    pub creditor_reference: Option<String>,
    pub idempotency: Option<Idempotency>,
}

/// What came of it.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Stored (201): the action as stored, and the answer recorded for its key.
    Done {
        action: Box<CreditorAction>,
        answer: Answer,
    },
    /// An earlier request with the same key and body: its answer, again.
    Replayed(Answer),
}

impl Outcome {
    pub fn answer(&self) -> &Answer {
        match self {
            Outcome::Done { answer, .. } | Outcome::Replayed(answer) => answer,
        }
    }
}

/// Applies a creditor action to its case and stores it.
pub async fn run(app: &App, actor: &Actor, input: Input) -> Result<Outcome, ActionError> {
    let account = actor.own_account()?;
    if input.kind != Kind::Cancellation && input.amount.is_none_or(|a| a <= Money::ZERO) {
        return Err(ActionError::invalid("amount", "must be greater than 0"));
    }
    let now = app.clocks.now(&app.store, &account).await?;
    if let Some(d) = input.date {
        if d > now {
            return Err(ActionError::invalid(
                input.kind.date_field(),
                format!("cannot be later than now ({now})"),
            ));
        }
    }
    transact(
        &app.store,
        actor,
        &Apply {
            app,
            actor,
            account,
            input: &input,
            now,
        },
    )
    .await
}

struct Apply<'a> {
    app: &'a App,
    actor: &'a Actor,
    account: ObjectId,
    input: &'a Input,
    now: HttpDate,
}

impl Attempt for Apply<'_> {
    type Output = Outcome;

    async fn run(&self, tx: &mut Tx<'_>) -> Result<Outcome, Failure> {
        let (r, now) = (self.input, self.now);
        if let Some(answer) = recorded_answer(tx, &self.account, &r.idempotency).await? {
            return Ok(Outcome::Replayed(answer));
        }
        let (row, case) = find_case(tx, &self.actor.scope, &r.creditor, &r.case).await?;
        let id = ObjectId::at(now.unix());
        let amount = r.amount.unwrap_or(Money::ZERO);
        let command = match r.kind {
            Kind::Payment => Command::CreditorPayment {
                id,
                amount,
                paid: r.date.unwrap_or(now),
            },
            Kind::Crediting => Command::Crediting {
                amount,
                date: r.date.unwrap_or(now),
            },
            Kind::Cancellation => Command::Cancel,
        };
        let (case_id, invoice_number, reference_number) = (
            case.id,
            case.debt.invoice_number.clone(),
            case.reference_number.clone(),
        );
        let prepared = cases::prepare(
            tx,
            &mut RuleBook::new(),
            &self.app.engine,
            case,
            row.etag,
            now,
            command,
        )
        .await;
        let (status, reason, settled) = match prepared {
            Ok(p) => {
                let (settled, excess) = (p.applied.settled, p.applied.excess);
                cases::write(tx, p, now).await?;
                if excess > Money::ZERO {
                    (ActionStatus::Warning, reasons::EXCEEDS_CAPITAL, settled)
                } else {
                    (ActionStatus::Completed, reasons::COMPLETED, settled)
                }
            }
            // A closed case takes nothing: the action is stored with a warning.
            Err(MutateError::Refused(Refusal::Closed)) => {
                (ActionStatus::Warning, reasons::CASE_CLOSED, Money::ZERO)
            }
            Err(e) => return Err(e.into()),
        };
        let invoice_given = match &r.case {
            CaseRef::InvoiceNumber(n) => Some(n.clone()),
            CaseRef::Id(_) => None,
        };
        let action = CreditorAction {
            id,
            account: self.account,
            creditor: r.creditor,
            case: case_id,
            invoice_number: invoice_given,
            currency: r.currency.clone(),
            amount: r.amount,
            bank_transaction_date: (r.kind == Kind::Payment).then_some(r.date).flatten(),
            client_registration_date: match r.kind {
                Kind::Cancellation => None,
                Kind::Payment => Some(r.registered.unwrap_or(now)),
                Kind::Crediting => Some(r.date.unwrap_or(now)),
            },
            creditor_payment_reference: r.creditor_payment_reference.clone(),
            credit_invoice: r.credit_invoice.clone(),
            creditor_reference: r.creditor_reference.clone(),
            file_import_report: None,
            origin: "creditor_system".into(),
            settled_amount: (r.kind != Kind::Cancellation).then_some(settled),
            status,
            status_reason_locale: reason.into(),
            case_invoice_number: invoice_number,
            case_reference_number: reference_number,
            created: now,
            updated: now,
            etag: String::new(),
        };
        let stored = prepare_document(r.kind.resource(), &action)?;
        let answer = Answer {
            status: 201,
            body: json!({
                "_updated": now.to_string(),
                "_created": now.to_string(),
                "_etag": stored.etag,
                "_id": id.to_hex(),
                "_status": "OK",
                r.kind.status_field(): status,
            })
            .to_string(),
        };
        let action = CreditorAction {
            etag: stored.etag.clone(),
            ..action
        };
        tx.insert(r.kind.resource(), vec![stored]).await?;
        record_answer(tx, &self.account, &r.idempotency, &answer, now.unix()).await?;
        Ok(Outcome::Done {
            action: Box::new(action),
            answer,
        })
    }
}
