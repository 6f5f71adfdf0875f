//! `POST /media--upload/{reference_id}` (multipart: `file`, `domain`, `dotted_path`).
//!
//! The file's type is read from its bytes: PDF, JPEG, PNG, GIF or BMP. The use case
//! ([`crate::actions::attach_invoice`]) stores it and attaches it: a failed request leaves
//! neither a row nor a file; the file it replaces is deleted by a job after the commit.

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::actions::attach_invoice::{self, Target};
use crate::actions::ActionError;
use crate::domain::ObjectId;
use crate::http::error::ApiError;
use crate::http::scope::RequestActor;
use crate::http::AppState;
use crate::media::{sniff, ALLOWED, URL_TTL_SECS};

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
    RequestActor(actor): RequestActor,
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
                    if bytes.len() + chunk.len() > state.app.media.max_bytes {
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
    let target = if attach {
        Target::OriginalInvoice(id)
    } else {
        Target::File(id)
    };
    let upload = attach_invoice::Upload {
        filename: file.filename,
        content_type,
        bytes: file.bytes,
    };
    let stored = match attach_invoice::run(&state.app, &actor, &domain, target, upload).await {
        Ok(s) => s,
        Err(ActionError::NotFound(_)) => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, NOT_FOUND))
        }
        Err(e) => return Err(e.into()),
    };
    let key = stored.key;
    let now = state.app.clocks.real().unix();
    let url = format!(
        "{base}/media/{key}?{}",
        state
            .app
            .media
            .signer
            .query(&key, now + URL_TTL_SECS, content_type)
    );
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"url": url}).to_string(),
    )
        .into_response())
}
