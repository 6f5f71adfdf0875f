//! The console's way into the API: a request built in-process, carrying the operator's grant
//! as an extension instead of a token, sent through the API's own router. Reads get the same
//! scope and Eve semantics as any client; actions the same validation, command path, audit
//! trail and error answers.

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::view::Flash;
use super::Console;
use crate::auth::ConsoleGrant;
use crate::auth::Grant;

pub struct Api {
    router: Router,
    grant: ConsoleGrant,
    host: Option<HeaderValue>,
}

/// An answer the API refused, from its Eve envelope.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    pub message: String,
    /// (field, message) from `_issues`.
    pub issues: Vec<(String, String)>,
}

impl Problem {
    pub fn flash(&self) -> Flash {
        Flash::Problem(self.message.clone(), self.issues.clone())
    }
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        Value::Array(a) => {
            for v in a {
                flatten(prefix, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

impl Api {
    pub fn new(console: &Console, grant: Grant, email: &str, host: Option<HeaderValue>) -> Api {
        Api {
            router: console.api.clone(),
            grant: ConsoleGrant {
                grant,
                email: email.to_string(),
            },
            host,
        }
    }

    /// `GET path` (with its query) → the JSON answer.
    pub async fn get(&self, path: &str) -> Result<Value, Problem> {
        self.send(Method::GET, path, None).await
    }

    /// `GET path` of one document: a "no such {what}" page when it is not in the operator's
    /// scope (the API's 404), the error page for anything else.
    pub async fn item(&self, path: &str, what: &str) -> Result<Value, axum::response::Response> {
        match self.get(path).await {
            Ok(v) => Ok(v),
            Err(p) if p.status == 404 => Err(super::refused(
                axum::http::StatusCode::NOT_FOUND,
                &format!("There is no such {what} in what you may see."),
            )),
            Err(p) => Err(super::internal(p.message)),
        }
    }

    /// A list's `_items` and `_meta.total`.
    pub async fn list(&self, path: &str) -> Result<(Vec<Value>, i64), Problem> {
        let v = self.get(path).await?;
        let total = v
            .pointer("/_meta/total")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let items = match v.get("_items") {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![],
        };
        Ok((items, total))
    }

    /// A list's `_items`; none when the API refuses (the page then shows an empty state).
    pub async fn items(&self, path: &str) -> Vec<Value> {
        self.list(path)
            .await
            .map(|(items, _)| items)
            .unwrap_or_default()
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value, Problem> {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Problem> {
        let mut req = Request::builder().method(method).uri(path);
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        self.run(req, body).await
    }

    /// A multipart upload of one file in the field `file`.
    pub async fn upload(
        &self,
        path: &str,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Value, Problem> {
        let boundary = format!("indriva-console-{:016x}", rand::random::<u64>());
        let safe_name: String = filename
            .chars()
            .filter(|c| !matches!(c, '"' | '\r' | '\n' | '\\'))
            .collect();
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::CONTENT_LENGTH, body.len());
        self.run(req, Body::from(body)).await
    }

    async fn run(
        &self,
        mut req: axum::http::request::Builder,
        body: Body,
    ) -> Result<Value, Problem> {
        if let Some(host) = &self.host {
            req = req.header(header::HOST, host.clone());
        }
        let req = req
            .extension(self.grant.clone())
            .body(body)
            .map_err(|e| problem(500, e.to_string()))?;
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| problem(500, e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| problem(500, e.to_string()))?
            .to_bytes();
        let value: Value = if bytes.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({}))
        };
        if status < 400 {
            return Ok(value);
        }
        let message = value
            .pointer("/_error/message")
            .and_then(Value::as_str)
            .unwrap_or("The request was refused.")
            .to_string();
        let mut issues = Vec::new();
        if let Some(i) = value.get("_issues") {
            flatten("", i, &mut issues);
        }
        Err(Problem {
            status,
            message,
            issues,
        })
    }
}

fn problem(status: u16, message: String) -> Problem {
    Problem {
        status,
        message,
        issues: vec![],
    }
}

/// A query string parameter, encoded.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
