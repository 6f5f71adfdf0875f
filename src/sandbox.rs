//! The sandbox account and creditor from the seeds, created on an empty database so a
//! newcomer can run Amili's examples unchanged.

use crate::domain::case::{CaseSettings, InterestRateSettings};
use crate::domain::party::{Account, Address, CaseConfig, Creditor, PayoutAccount, PayoutDetails};
use crate::domain::{Clock, ObjectId};
use crate::eve::sql::Scope;
use crate::resources::{ACCOUNTS, CREDITORS};
use crate::store::{prepare_document, Store, StoreError};

pub const SANDBOX_ACCOUNT: &str = "674dbeaf08847b9501cc9132";
pub const SANDBOX_CREDITOR: &str = "674dbeb208847b9501cc9138";

pub fn sandbox_account_id() -> ObjectId {
    ObjectId::parse(SANDBOX_ACCOUNT).unwrap_or_else(|_| unreachable!("constant id"))
}

pub fn sandbox_creditor_id() -> ObjectId {
    ObjectId::parse(SANDBOX_CREDITOR).unwrap_or_else(|_| unreachable!("constant id"))
}

fn address(line: &str, zip: &str, city: &str) -> Address {
    Address {
        address_line_1: line.into(),
        zip_code: zip.into(),
        city: city.into(),
        country: "SE".into(),
    }
}

/// A creditor as the seeds show it (amili-api.md §4.12 example), active.
pub fn creditor(
    id: ObjectId,
    account: ObjectId,
    name: &str,
    organization_no: &str,
    number: i64,
    clock: &dyn Clock,
) -> Creditor {
    let now = clock.now();
    let addr = address("Redaregatan 50", "25236", "Helsingborg");
    Creditor {
        id,
        account,
        name: name.into(),
        organization_no: organization_no.into(),
        is_active: true,
        standard_debt_description: Some("Standard skuldbeskrivning på Konto".into()),
        agreement_address: Some(addr.clone()),
        case_config: Some(CaseConfig {
            vat_area: "sweden".into(),
            commission_excluded_vat: false,
            payout_capital_by_invoice: true,
            payout_interest_by_invoice: false,
        }),
        description: Some("Generella tester".into()),
        default_letter_locale: "sv".into(),
        payout_details: Some(PayoutDetails {
            sek: Some(PayoutAccount {
                bankgiro: Some("12312312".into()),
            }),
        }),
        sender_address: Some(addr.clone()),
        invoice_address: Some(addr),
        always_use_standard_debt_description: false,
        added_to_erp_system: false,
        creditor_number: number,
        created: now,
        updated: now,
        etag: String::new(),
    }
}

/// Creates the sandbox account and its creditor if the account does not exist yet.
pub async fn ensure(store: &Store, clock: &dyn Clock) -> Result<bool, StoreError> {
    let account_id = sandbox_account_id();
    if store
        .get(&ACCOUNTS, &Scope::unrestricted(), &account_id)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let now = clock.now();
    let account = Account {
        id: account_id,
        name: "Amili Integration Team".into(),
        description: Some("Sandbox account".into()),
        organization_no: "1122334455".into(),
        standard_debt_description: Some("Standard skuldbeskrivning på Konto".into()),
        agreement_address: Some(address("Redaregatan 50", "25236", "Helsingborg")),
        case_settings: CaseSettings {
            interest_rate: InterestRateSettings {
                reference_rate: true,
            },
        },
        created: now,
        updated: now,
        etag: String::new(),
    };
    let cred = creditor(
        sandbox_creditor_id(),
        account_id,
        "Amili Integration Team",
        "1122334455",
        2_000_037,
        clock,
    );
    let mut tx = store.begin().await?;
    tx.insert(&ACCOUNTS, &[prepare_document(&ACCOUNTS, &account)?])
        .await?;
    tx.insert(&CREDITORS, &[prepare_document(&CREDITORS, &cred)?])
        .await?;
    tx.commit().await?;
    tracing::info!(
        account = SANDBOX_ACCOUNT,
        creditor = SANDBOX_CREDITOR,
        "created the sandbox account and creditor"
    );
    Ok(true)
}
