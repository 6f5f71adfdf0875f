//! The one error type at the HTTP boundary and the one function that renders Eve's envelope:
//! `{"_status": "ERR", "_error": {"code": N, "message": "…"}}`. What the client sees is
//! separate from what the log records.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::eve::validate::Issues;
use crate::eve::QueryError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Validation problems: rendered as a 422 with `_issues` (eve-wire.md §3.3).
    pub issues: Option<Box<Rejected>>,
}

/// A write refused by validation.
#[derive(Debug)]
pub struct Rejected {
    pub issues: Issues,
    /// POST answers carry `_error` ("Insertion failure: …"); PATCH answers do not (§4.2).
    pub insert: bool,
}

pub const MSG_403: &str = "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.";
pub const MSG_412: &str = "Client and server etags don't match";
pub const MSG_428: &str = "To edit a document its etag must be provided using the If-Match header";

/// Werkzeug's default descriptions, which Eve sends when it has nothing more specific.
pub const MSG_400: &str =
    "The browser (or proxy) sent a request that this server could not understand.";
pub const MSG_404: &str =
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";
pub const MSG_405: &str = "The method is not allowed for the requested URL.";
pub const MSG_500: &str = "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            issues: None,
        }
    }
    /// 422 for an insert (POST), with `_issues` and Eve's `_error`.
    pub fn insertion_failure(issues: Issues) -> Self {
        Self::rejected(issues, true)
    }
    /// 422 for an update (PATCH): `_issues` only, as Eve answers.
    pub fn update_failure(issues: Issues) -> Self {
        Self::rejected(issues, false)
    }
    fn rejected(issues: Issues, insert: bool) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: String::new(),
            issues: Some(Box::new(Rejected { issues, insert })),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, MSG_404)
    }
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, MSG_405)
    }
    /// Logs the detail; the client gets the generic text.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, MSG_500)
    }
}

/// The error envelope as a response.
pub fn envelope(status: StatusCode, message: &str) -> Response {
    let body = json!({"_status": "ERR", "_error": {"code": status.as_u16(), "message": message}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Some(r) = self.issues else {
            return envelope(self.status, &self.message);
        };
        let body = if r.insert {
            json!({"_status": "ERR", "_issues": r.issues, "_error": {"code": 422,
                   "message": "Insertion failure: 1 document(s) contain(s) error(s)"}})
        } else {
            json!({"_status": "ERR", "_issues": r.issues})
        };
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Query(q) => q.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::actions::ActionError> for ApiError {
    /// A use case's refusal in the API's envelope: nothing in scope is 404, not allowed 403,
    /// wrong input 422 with `_issues`, a case that kept changing 409.
    fn from(e: crate::actions::ActionError) -> Self {
        use crate::actions::ActionError as E;
        match e {
            E::NotFound(_) => ApiError::not_found(),
            E::Forbidden(message) => ApiError::forbidden(message),
            E::Invalid(issues) => ApiError::insertion_failure(issues),
            E::Busy(message) => ApiError::new(StatusCode::CONFLICT, message),
            E::Store(e) => e.into(),
        }
    }
}
