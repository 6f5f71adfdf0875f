//! `POST /media--upload/{reference_id}` (multipart: `file`, `domain`, `dotted_path`).
//!
//! The file's type is read from its bytes: PDF, JPEG, PNG, GIF or BMP. It is stored before
//! the document is updated and removed again if the update fails, so a failed request leaves
//! neither a row nor a file; the file it replaces is deleted after the commit.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use object_store::ObjectStore;
use serde_json::json;

use crate::cases::{self, MutateError};
use crate::domain::apply::Command;
use crate::domain::case::MediaRef;
use crate::domain::ObjectId;
use crate::http::error::{ApiError, MSG_403};
use crate::http::scope::RequestScope;
use crate::http::write::precondition_failed;
use crate::http::AppState;
use crate::media::{sniff, ALLOWED, URL_TTL_SECS};
use crate::resources::CASES;

pub const NOT_FOUND: &str = "Resource Document Not Found";
pub const NO_FILE: &str = "File is a required attribute.";
pub const NO_DOTTED_PATH: &str = "Dotted Path Not Found in request form";
pub const BAD_DOTTED_PATH: &str = "Dotted Path is not valid";
pub const TOO_LARGE: &str = "The data value transmitted exceeds the capacity limit.";

struct Upload {
    filename: String,
    bytes: Vec<u8>,
    declared: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    Path(reference_id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let base = super::base_url(&state, req.headers());
    let mut form = Multipart::from_request(req, &state)
        .await
        .map_err(|_| ApiError::bad_request("No multipart/form-data supplied"))?;
    let (mut domain, mut dotted_path, mut file) = (None, None, None);
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        crate::http::body::unreadable(&e, ApiError::bad_request("No multipart/form-data supplied"))
    };
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        match field.name().unwrap_or_default() {
            "domain" => domain = Some(field.text().await.map_err(bad_form)?),
            "dotted_path" => dotted_path = Some(field.text().await.map_err(bad_form)?),
            "file" => {
                let filename = field.file_name().unwrap_or("file").to_string();
                let declared = field.content_type().map(str::to_string);
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                    if bytes.len() + chunk.len() > state.media.max_bytes {
                        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(Upload {
                    filename,
                    bytes,
                    declared,
                });
            }
            _ => {}
        }
    }

    let domain = domain.unwrap_or_else(|| "media--files".into());
    if !["cases", "invoices", "media--files"].contains(&domain.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Domain '{domain}' is not valid."
        )));
    }
    let attach = match (domain.as_str(), dotted_path.as_deref()) {
        ("media--files", None) => false,
        (_, None) => return Err(ApiError::bad_request(NO_DOTTED_PATH)),
        (_, Some("original_invoice")) => domain != "media--files",
        (_, Some(_)) => return Err(ApiError::bad_request(BAD_DOTTED_PATH)),
    };
    let file = file
        .filter(|f| !f.bytes.is_empty())
        .ok_or_else(|| ApiError::bad_request(NO_FILE))?;
    let content_type = sniff(&file.bytes).ok_or_else(|| {
        ApiError::bad_request(format!(
            "The provided file's content type is not allowed. Expected one of {}; got {}.",
            ALLOWED.join(", "),
            file.declared.as_deref().unwrap_or("an unrecognised type")
        ))
    })?;
    // Invoices are not registered yet in Indriva: every invoice reference is unknown.
    let id = ObjectId::parse(&reference_id)
        .ok()
        .filter(|_| domain != "invoices")
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND))?;
    if state.store.get(&CASES, &scope, &id).await?.is_none() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND));
    }

    let key = format!("{domain}/{id}-{}", hex::encode(rand::random::<[u8; 16]>()));
    let path = state.media.path(&key);
    let size = file.bytes.len() as i64;
    state
        .media
        .store
        .put(&path, file.bytes.into())
        .await
        .map_err(ApiError::internal)?;
    let old = if attach {
        let media = MediaRef {
            id: key.clone(),
            filename: file.filename,
            content_type: content_type.into(),
            size,
        };
        match attach_to_case(&state, &scope, &id, media).await {
            Ok(old) => old,
            Err(e) => {
                if let Err(d) = state.media.store.delete(&path).await {
                    tracing::error!(error = %d, "could not remove an upload after a failed update");
                }
                return Err(e);
            }
        }
    } else {
        None
    };
    if let Some(old) = old {
        if let Err(e) = state.media.store.delete(&state.media.path(&old.id)).await {
            tracing::warn!(error = %e, "could not delete a replaced file");
        }
    }
    let now = state.clocks.real().unix();
    let url = format!(
        "{base}/media/{key}?{}",
        state
            .media
            .signer
            .query(&key, now + URL_TTL_SECS, content_type)
    );
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"_status": "OK", "url": url}).to_string(),
    )
        .into_response())
}

/// Sets the case's `original_invoice`; returns the file it replaces.
async fn attach_to_case(
    state: &AppState,
    scope: &crate::tenancy::Scope,
    id: &ObjectId,
    media: MediaRef,
) -> Result<Option<MediaRef>, ApiError> {
    let account = scope.account.ok_or_else(|| ApiError::forbidden(MSG_403))?;
    let now = state.clocks.now(&state.store, &account).await?;
    let cmd = Command::AttachOriginalInvoice(media);
    match cases::mutate_one(&state.store, &state.engine, scope, id, now, cmd).await {
        Ok(outcome) => Ok(outcome.replaced_files.into_iter().next()),
        Err(MutateError::NotFound) => Err(ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND)),
        Err(MutateError::Conflict) => Err(precondition_failed()),
        Err(e) => Err(ApiError::internal(e)),
    }
}
