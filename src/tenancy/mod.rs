//! Creating accounts, creditors and API users, with the access groups Amili generates for
//! them (amili-api.md §3): `account_admin` and `api_user` per account, `admin` and `user` per
//! creditor. Used by the HTTP API, the admin CLI and the sandbox alike, always inside the
//! caller's transaction.

pub mod creditors;

pub use crate::scope::Scope;

use crate::auth::jwt::Algorithm;
use crate::auth::{keys, ApiCredential};
use crate::domain::party::{AccessGroup, AccessGroupType, Account, Creditor, DataAccess, User};
use crate::domain::{HttpDate, ObjectId};
use crate::eve::{Filter, Val};
use crate::resources::{ACCESS_GROUPS, ACCOUNTS, CREDITORS, USERS};
use crate::store::{prepare_document, StoreError, Tx};

/// The first creditor number handed out (the seeds' creditor has 2000037).
const FIRST_CREDITOR_NUMBER: i64 = 2_001_000;

fn group(
    account: ObjectId,
    creditor: Option<(ObjectId, &str)>,
    kind: AccessGroupType,
    now: HttpDate,
) -> AccessGroup {
    let what = match kind {
        AccessGroupType::AccountAdmin => "Account admin",
        AccessGroupType::Admin => "Admin",
        AccessGroupType::User => "User",
        AccessGroupType::ApiUser => "API user",
    };
    AccessGroup {
        id: ObjectId::at(now.unix()),
        account,
        creditor: creditor.map(|(id, _)| id),
        kind,
        name: match creditor {
            Some((_, name)) => format!("{what} – {name}"),
            None => what.to_string(),
        },
        created: now,
        updated: now,
        etag: String::new(),
    }
}

/// Inserts an account and its account-level access groups.
pub async fn create_account(tx: &mut Tx<'_>, account: &Account) -> Result<(), StoreError> {
    tx.insert(&ACCOUNTS, vec![prepare_document(&ACCOUNTS, account)?])
        .await?;
    let groups = [AccessGroupType::AccountAdmin, AccessGroupType::ApiUser]
        .map(|k| group(account.id, None, k, account.created));
    insert_groups(tx, &groups).await
}

/// Inserts a creditor (numbering it if it has no number yet) and its access groups.
pub async fn create_creditor(tx: &mut Tx<'_>, creditor: &mut Creditor) -> Result<(), StoreError> {
    if creditor.creditor_number == 0 {
        creditor.creditor_number = tx
            .next_number("creditor_number", FIRST_CREDITOR_NUMBER)
            .await?;
    }
    let doc = prepare_document(&CREDITORS, &*creditor)?;
    creditor.etag = doc.etag.clone();
    tx.insert(&CREDITORS, vec![doc]).await?;
    let groups = [AccessGroupType::Admin, AccessGroupType::User].map(|k| {
        group(
            creditor.account,
            Some((creditor.id, &creditor.name)),
            k,
            creditor.created,
        )
    });
    insert_groups(tx, &groups).await
}

async fn insert_groups(tx: &mut Tx<'_>, groups: &[AccessGroup]) -> Result<(), StoreError> {
    let docs = groups
        .iter()
        .map(|g| prepare_document(&ACCESS_GROUPS, g))
        .collect::<Result<Vec<_>, _>>()?;
    tx.insert(&ACCESS_GROUPS, docs).await
}

/// The access group of a kind for an account (or one of its creditors), created if a
/// database from before access groups lacks it.
pub async fn access_group(
    tx: &mut Tx<'_>,
    account: ObjectId,
    creditor: Option<&Creditor>,
    kind: AccessGroupType,
    now: HttpDate,
) -> Result<AccessGroup, StoreError> {
    let scope = Scope {
        account: Some(account),
        creditors: None,
    };
    let filter = Filter::And(vec![
        Filter::eq("type", Val::Str(kind.as_str().into())),
        match creditor {
            Some(c) => Filter::eq("creditor", Val::Oid(c.id)),
            None => Filter::missing("creditor"),
        },
    ]);
    if let Some(row) = tx
        .find(&ACCESS_GROUPS, &scope, &filter, 1)
        .await?
        .into_iter()
        .next()
    {
        return serde_json::from_str(&row.doc).map_err(|e| StoreError::Document(e.to_string()));
    }
    let g = group(
        account,
        creditor.map(|c| (c.id, c.name.as_str())),
        kind,
        now,
    );
    insert_groups(tx, std::slice::from_ref(&g)).await?;
    Ok(g)
}

/// A new API user's public key: generated here (the private key is returned once) or given.
pub enum ApiKey {
    Generate,
    Public { pem: String, algorithm: Algorithm },
}

/// A created API user: its `users` document, credentials and, when generated, the private
/// key (PKCS#8 PEM) to hand to the integrator once.
pub struct NewApiUser {
    pub user: User,
    pub credential: ApiCredential,
    pub private_key_pem: Option<String>,
}

/// Creates an API user for an account, or for one of its creditors. It belongs to the
/// account's `api_user` group and to `account_admin` (whole account) or the creditor's
/// `admin` group.
pub async fn create_api_user(
    tx: &mut Tx<'_>,
    account: ObjectId,
    creditor: Option<&Creditor>,
    name: &str,
    key: ApiKey,
    now: HttpDate,
) -> Result<NewApiUser, StoreError> {
    let (public_key_pem, algorithm, private_key_pem) = match key {
        ApiKey::Generate => {
            let (private, public) = keys::generate_es256().map_err(StoreError::Document)?;
            (public, Algorithm::ES256, Some(private))
        }
        ApiKey::Public { pem, algorithm } => (pem, algorithm, None),
    };
    let api = access_group(tx, account, None, AccessGroupType::ApiUser, now).await?;
    let rights = match creditor {
        Some(c) => access_group(tx, account, Some(c), AccessGroupType::Admin, now).await?,
        None => access_group(tx, account, None, AccessGroupType::AccountAdmin, now).await?,
    };
    let user = User {
        id: ObjectId::at(now.unix()),
        account,
        creditor: creditor.map(|c| c.id),
        name: name.to_string(),
        email_data: None,
        oauth_type: None,
        email_oauth: None,
        oauth_subscriber: None,
        data_access: vec![
            DataAccess {
                access_group: api.id,
            },
            DataAccess {
                access_group: rights.id,
            },
        ],
        is_enabled: true,
        applications: vec![],
        log_invoice_registrations: false,
        log_case_registrations: false,
        log_creditor_payments: false,
        created: now,
        updated: now,
        etag: String::new(),
    };
    tx.insert(&USERS, vec![prepare_document(&USERS, &user)?])
        .await?;
    let credential = ApiCredential {
        api_code: keys::random_api_code(),
        user: user.id,
        account,
        creditor: creditor.map(|c| c.id),
        algorithm,
        public_key_pem,
    };
    tx.insert_api_credential(&credential.api_code, &credential.stored(), now.unix())
        .await?;
    Ok(NewApiUser {
        user,
        credential,
        private_key_pem,
    })
}
