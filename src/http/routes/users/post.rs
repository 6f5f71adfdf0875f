//! `POST /users`.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use super::SCHEMA;
use crate::domain::party::{AccessGroup, AccessGroupType, User};
use crate::domain::ObjectId;
use crate::eve::validate::must_exist;
use crate::eve::validate::Mode;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::{check_own_account, created, typed, validated_body, Meta};
use crate::http::AppState;
use crate::resources::{ACCESS_GROUPS, USERS};
use crate::store::prepare_document;

pub const API_USERS_NEED_KEYS: &str =
    "API users are created with `indriva admin api-user create` (they need a key pair)";

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let account = scope.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let (mut doc, mut issues) =
        validated_body(&headers, body, state.limits.json_body, SCHEMA, Mode::Insert).await?;
    check_own_account(&doc, &account, &mut issues);
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    let now = state.app.clocks.now(&state.app.store, &account).await?;
    let id = ObjectId::at(now.unix());
    doc.entry("is_enabled").or_insert(json!(true));
    doc.insert("_id".into(), json!(id.to_hex()));
    doc.insert("_created".into(), json!(now.to_string()));
    doc.insert("_updated".into(), json!(now.to_string()));
    let mut user: User = typed(doc)?;

    let mut tx = state.app.store.begin().await?;
    let mut creditors = vec![];
    for (i, access) in user.data_access.iter().enumerate() {
        let path = format!("data_access.{i}.access_group");
        let Some(row) = tx.get(&ACCESS_GROUPS, &scope, &access.access_group).await? else {
            issues.add(
                &path,
                must_exist(&access.access_group.to_hex(), "access--groups"),
            );
            continue;
        };
        let group: AccessGroup = serde_json::from_str(&row.doc).map_err(ApiError::internal)?;
        if group.kind == AccessGroupType::ApiUser {
            issues.add(&path, API_USERS_NEED_KEYS);
        }
        creditors.push(group.creditor);
    }
    if !issues.is_empty() {
        return Err(ApiError::insertion_failure(issues));
    }
    user.creditor = match scope.creditors.as_deref() {
        Some([only]) => Some(*only),
        Some(_) => return Err(ApiError::forbidden(MSG_403)),
        None => match creditors.split_first() {
            Some((Some(first), rest)) if rest.iter().all(|c| *c == Some(*first)) => Some(*first),
            _ => None,
        },
    };
    let stored = prepare_document(&USERS, &user)?;
    let etag = stored.etag.clone();
    tx.insert(&USERS, vec![stored]).await?;
    tx.commit().await?;
    Ok(created(&Meta {
        id,
        created: now,
        updated: now,
        etag,
    }))
}
