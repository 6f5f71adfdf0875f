//! The sandbox account and creditor from the seeds, created on an empty database so a
//! newcomer can run Amili's examples unchanged.

use std::path::{Path, PathBuf};

use crate::auth::ApiCredential;
use crate::domain::case::{CaseSettings, InterestRateSettings};
use crate::domain::party::{Account, Address, Creditor};
use crate::domain::{Clock, ObjectId};
use crate::resources::ACCOUNTS;
use crate::scope::Scope;
use crate::store::{Store, StoreError};
use crate::tenancy;

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
    Creditor::as_in_the_seeds(id, account, name, organization_no, number, clock.now())
}

/// Where `serve` writes the sandbox API user's credentials.
pub fn credentials_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox-credentials.json")
}

/// Creates the sandbox account, its creditor and an API user for them if the account does not
/// exist yet. With a data dir, the API user's credentials (including the generated private
/// key) are written to `sandbox-credentials.json` there, readable by the owner only.
pub async fn ensure(
    store: &Store,
    clock: &dyn Clock,
    data_dir: Option<&Path>,
) -> Result<bool, StoreError> {
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
    let mut cred = creditor(
        sandbox_creditor_id(),
        account_id,
        "Amili Integration Team",
        "1122334455",
        2_000_037,
        clock,
    );
    let mut tx = store.begin().await?;
    tenancy::create_account(&mut tx, &account).await?;
    tx.insert_account_clock(&account_id).await?;
    tenancy::create_creditor(&mut tx, &mut cred).await?;
    let policy = serde_json::to_string(&crate::domain::policy::CreditorPolicy::sandbox())
        .map_err(|e| StoreError::Document(e.to_string()))?;
    tx.set_creditor_policy(&cred.id, &account_id, &policy, now.unix())
        .await?;
    let new = tenancy::create_api_user(
        &mut tx,
        account_id,
        None,
        "Sandbox API user",
        tenancy::ApiKey::Generate,
        now,
    )
    .await?;
    if let (Some(dir), Some(private_pem)) = (data_dir, &new.private_key_pem) {
        // Written before the commit: a failure leaves neither the file nor the rows.
        write_credentials(
            &credentials_path(dir),
            &new.credential,
            private_pem,
            Some(sandbox_creditor_id()),
        )
        .map_err(|e| StoreError::Document(format!("cannot write sandbox credentials: {e}")))?;
    }
    tx.commit().await?;
    tracing::info!(
        account = SANDBOX_ACCOUNT,
        creditor = SANDBOX_CREDITOR,
        "created the sandbox account, creditor and API user"
    );
    Ok(true)
}

/// Writes an API user's credentials file (mode 0600). `creditor` is the creditor the
/// integrator will register cases for (the API user's own one when it is creditor-bound).
pub fn write_credentials(
    path: &Path,
    api: &ApiCredential,
    private_pem: &str,
    creditor: Option<ObjectId>,
) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let body = serde_json::json!({
        "api_code": api.api_code,
        "private_key_pem": private_pem,
        "algorithm": api.algorithm.as_str(),
        "account": api.account.to_hex(),
        "creditor": api.creditor.or(creditor).map(|c| c.to_hex()),
    });
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path)?;
    f.write_all(
        serde_json::to_string_pretty(&body)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    f.write_all(b"\n")
}
