//! `/bank--files`: Bankgirot BgMax files of payments into the agency's bankgiro. `POST`
//! (multipart, the file in `file`) imports one and answers with its report; the same file
//! again answers 200 with the first import's report and adds nothing. Operators only.

use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::actions::bank;
use crate::eve::validate::Issues;
use crate::http::error::ApiError;
use crate::http::scope::{OperatorScope, RequestActor, RequestScope};
use crate::http::{eve, AppState};
use crate::resources::BANK_FILES;

/// The largest bank file taken (a BgMax record is 80 bytes: about 600,000 records).
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

pub async fn list(
    State(state): State<AppState>,
    _: OperatorScope,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    eve::list(&state, &BANK_FILES, &scope, query.as_deref()).await
}

pub async fn get(
    State(state): State<AppState>,
    _: OperatorScope,
    RequestScope(scope): RequestScope,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    eve::item(&state, &BANK_FILES, &scope, &id, query.as_deref(), &headers).await
}

pub async fn post(
    State(state): State<AppState>,
    _: OperatorScope,
    RequestActor(actor): RequestActor,
    req: Request,
) -> Result<Response, ApiError> {
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        crate::http::body::unreadable(&e, ApiError::bad_request("No multipart/form-data supplied"))
    };
    let mut form = Multipart::from_request(req, &state)
        .await
        .map_err(|_| ApiError::bad_request("No multipart/form-data supplied"))?;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("bgmax.txt").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
            if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("a bank file may be at most {MAX_FILE_BYTES} bytes"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((name, bytes));
    }
    let Some((name, bytes)) = file else {
        let mut issues = Issues::default();
        issues.add("file", "required field");
        return Err(ApiError::insertion_failure(issues));
    };
    let imported = bank::import(&state.app, &actor, &name, &bytes).await?;
    let status = if imported.already_imported {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut body = serde_json::to_value(&imported.file).map_err(ApiError::internal)?;
    if let Value::Object(o) = &mut body {
        o.insert("_status".into(), json!("OK"));
        o.insert("_already_imported".into(), json!(imported.already_imported));
    }
    Ok((
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}
