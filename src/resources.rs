//! The resources Indriva serves through the Eve layer: their tables, schemas and typed
//! columns. Each schema is derived from the typed model, so the query compiler and the
//! documents the code writes cannot disagree.

use std::sync::LazyLock;

use crate::domain::action::{CaseRespite, CreditorAction};
use crate::domain::bank::{BankFile, UnmatchedPayment};
use crate::domain::case::Case;
use crate::domain::finance::{Payout, PayoutSpecification};
use crate::domain::letter::CaseLetter;
use crate::domain::party::{AccessGroup, Account, Creditor, Customer, User};
use crate::domain::registration::{CaseRegistration, OcrNumber};
use crate::domain::webhook::{Webhook, WebhookDelivery};
use crate::eve::resource::{Column, ColumnKind, CreditorScope, Resource, CREATED, ID, UPDATED};
use crate::eve::Node;

/// The `cases` column holding when an open case next needs the flow worker.
pub const DUE_AT: &str = "due_at";

const ACCOUNT: Column = Column::new("account", "account", ColumnKind::ObjectId);
const CREDITOR: Column = Column::new("creditor", "creditor", ColumnKind::ObjectId);

pub static CASES: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "cases",
    table: "cases",
    schema: Node::of::<Case>(),
    columns: vec![
        ID,
        ACCOUNT,
        CREDITOR,
        Column::new("state", "state", ColumnKind::Text),
        Column::new("status", "status", ColumnKind::Text),
        CREATED,
        UPDATED,
        Column {
            path: "closed.close_date",
            name: "closed_at",
            kind: ColumnKind::Date,
            // `closed` is present exactly when it has a close_date (domain::case::Closed).
            presence_of: Some("closed"),
            computed: false,
        },
        Column::new("debt.invoice_number", "invoice_number", ColumnKind::Text),
        Column::new("customer_id_number", "customer_id_number", ColumnKind::Text),
        Column {
            path: "next_flow_item.schedule_to_execute",
            name: "next_flow_at",
            kind: ColumnKind::Date,
            // A flow item always carries its schedule (domain::case::FlowItem).
            presence_of: Some("next_flow_item"),
            computed: false,
        },
        Column::computed(DUE_AT, ColumnKind::Date),
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static ACCOUNTS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "accounts",
    table: "accounts",
    schema: Node::of::<Account>(),
    columns: vec![
        ID,
        Column::new("_id", "account", ColumnKind::ObjectId),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::None,
});

pub static CREDITORS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "creditors",
    table: "creditors",
    schema: Node::of::<Creditor>(),
    columns: vec![ID, ACCOUNT, CREATED, UPDATED],
    scoped_by_account: true,
    // A creditor-bound caller sees its own creditor only.
    creditor_scope: CreditorScope::Column("id"),
});

pub static ACCESS_GROUPS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "access--groups",
    table: "access_groups",
    schema: Node::of::<AccessGroup>(),
    columns: vec![
        ID,
        ACCOUNT,
        CREDITOR,
        Column::new("type", "type", ColumnKind::Text),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static USERS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "users",
    table: "users",
    schema: Node::of::<User>(),
    columns: vec![ID, ACCOUNT, CREDITOR, CREATED, UPDATED],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static CUSTOMERS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "customers",
    table: "customers",
    schema: Node::of::<Customer>(),
    columns: vec![
        ID,
        ACCOUNT,
        Column::new("id_number", "id_number", ColumnKind::Text),
        Column::new("name", "name_lower", ColumnKind::Folded),
        Column::new("email", "email_lower", ColumnKind::Folded),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::CustomersWithCases,
});

pub static CASE_REGISTRATIONS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "case--registrations",
    table: "case_registrations",
    schema: Node::of::<CaseRegistration>(),
    columns: vec![ID, ACCOUNT, CREDITOR, CREATED, UPDATED],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static OCR_NUMBERS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "ocr--numbers",
    table: "ocr_numbers",
    schema: Node::of::<OcrNumber>(),
    columns: vec![
        ID,
        ACCOUNT,
        CREDITOR,
        Column::new("ocr", "ocr", ColumnKind::Text),
        Column::new("case", "case_id", ColumnKind::ObjectId),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static CASE_LETTERS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "case--letters",
    table: "case_letters",
    schema: Node::of::<CaseLetter>(),
    columns: vec![
        ID,
        ACCOUNT,
        CREDITOR,
        Column::new("case", "case_id", ColumnKind::ObjectId),
        Column::new("type", "type", ColumnKind::Text),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

/// A creditor action on one case (`/creditor--payments` and its siblings, `/case--respites`):
/// typed by account, creditor, case and status.
fn case_action(name: &'static str, table: &'static str, schema: Node) -> Resource {
    Resource {
        name,
        table,
        schema,
        columns: vec![
            ID,
            ACCOUNT,
            CREDITOR,
            Column::new("case", "case_id", ColumnKind::ObjectId),
            Column::new("status", "status", ColumnKind::Text),
            CREATED,
            UPDATED,
        ],
        scoped_by_account: true,
        creditor_scope: CreditorScope::Column("creditor"),
    }
}

pub static CREDITOR_PAYMENTS: LazyLock<Resource> = LazyLock::new(|| {
    case_action(
        "creditor--payments",
        "creditor_payments",
        Node::of::<CreditorAction>(),
    )
});

pub static CREDITOR_CREDITINGS: LazyLock<Resource> = LazyLock::new(|| {
    case_action(
        "creditor--creditings",
        "creditor_creditings",
        Node::of::<CreditorAction>(),
    )
});

pub static CREDITOR_CANCELLATIONS: LazyLock<Resource> = LazyLock::new(|| {
    case_action(
        "creditor--cancellations",
        "creditor_cancellations",
        Node::of::<CreditorAction>(),
    )
});

pub static CASE_RESPITES: LazyLock<Resource> =
    LazyLock::new(|| case_action("case--respites", "case_respites", Node::of::<CaseRespite>()));

pub static BANK_FILES: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "bank--files",
    table: "bank_files",
    schema: Node::of::<BankFile>(),
    columns: vec![
        ID,
        ACCOUNT,
        Column::new("sha256", "sha256", ColumnKind::Text),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::None,
});

pub static UNMATCHED_PAYMENTS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "payments--unmatched",
    table: "unmatched_payments",
    schema: Node::of::<UnmatchedPayment>(),
    columns: vec![
        ID,
        ACCOUNT,
        Column::new("status", "status", ColumnKind::Text),
        Column::new("case", "case_id", ColumnKind::ObjectId),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::None,
});

pub static PAYOUT_SPECIFICATIONS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "finance--payout-specifications",
    table: "payout_specifications",
    schema: Node::of::<PayoutSpecification>(),
    columns: vec![
        ID,
        ACCOUNT,
        CREDITOR,
        Column::new("case", "case_id", ColumnKind::ObjectId),
        Column::new("payout", "payout", ColumnKind::ObjectId),
        Column::new("finance_category", "finance_category", ColumnKind::Text),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static PAYOUTS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "finance--payouts",
    table: "payouts",
    schema: Node::of::<Payout>(),
    columns: vec![ID, ACCOUNT, CREDITOR, CREATED, UPDATED],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static WEBHOOKS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "webhooks",
    table: "webhooks",
    schema: Node::of::<Webhook>(),
    columns: vec![ID, ACCOUNT, CREDITOR, CREATED, UPDATED],
    scoped_by_account: true,
    // A creditor-bound caller sees the webhooks it made, not the account's.
    creditor_scope: CreditorScope::Column("creditor"),
});

pub static AUDIT_EVENTS: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "audit--events",
    table: "audit_events",
    schema: Node::of::<crate::audit::AuditEvent>(),
    columns: vec![ID, ACCOUNT, CREATED, UPDATED],
    scoped_by_account: true,
    creditor_scope: CreditorScope::None,
});

pub static WEBHOOK_DELIVERIES: LazyLock<Resource> = LazyLock::new(|| Resource {
    name: "webhook--deliveries",
    table: "webhook_deliveries",
    schema: Node::of::<WebhookDelivery>(),
    columns: vec![
        ID,
        ACCOUNT,
        CREDITOR,
        Column::new("webhook", "webhook", ColumnKind::ObjectId),
        Column::new("event", "event", ColumnKind::Text),
        Column::new("status", "status", ColumnKind::Text),
        Column::new("next_attempt", "next_attempt", ColumnKind::Date),
        CREATED,
        UPDATED,
    ],
    scoped_by_account: true,
    creditor_scope: CreditorScope::Column("creditor"),
});
