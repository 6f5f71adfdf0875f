//! CSV downloads of the console's lists: the same Eve query the page shows, every page of it
//! up to [`MAX_ROWS`], one row per document. RFC 4180 (comma, `"` quoting, CRLF), UTF-8 with
//! a byte-order mark so spreadsheet programs read å, ä and ö; amounts in kronor with a
//! decimal point (`2014.00`); times as `YYYY-MM-DD HH:MM:SS` in UTC.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::call::Api;
use crate::domain::HttpDate;

/// The most rows one download holds (the page says so when a list is longer).
pub const MAX_ROWS: i64 = 10_000;
const PAGE: i64 = 100;

/// One column: its header and how a document gives its value.
pub struct Col {
    header: &'static str,
    read: Read,
}

enum Read {
    Text(&'static str),
    Kronor(&'static str),
    Time(&'static str),
    With(fn(&Value) -> String),
}

impl Col {
    /// The text at a JSON pointer (`/debt/invoice_number`).
    pub const fn text(header: &'static str, pointer: &'static str) -> Col {
        Col {
            header,
            read: Read::Text(pointer),
        }
    }
    /// An amount in kronor at a JSON pointer.
    pub const fn kronor(header: &'static str, pointer: &'static str) -> Col {
        Col {
            header,
            read: Read::Kronor(pointer),
        }
    }
    /// A wire date at a JSON pointer.
    pub const fn time(header: &'static str, pointer: &'static str) -> Col {
        Col {
            header,
            read: Read::Time(pointer),
        }
    }
    /// A value computed from the document.
    pub const fn with(header: &'static str, read: fn(&Value) -> String) -> Col {
        Col {
            header,
            read: Read::With(read),
        }
    }

    fn value(&self, doc: &Value) -> String {
        match self.read {
            Read::Text(p) => text(doc, p),
            Read::Kronor(p) => kronor(doc, p),
            Read::Time(p) => time(doc, p),
            Read::With(f) => f(doc),
        }
    }
}

/// The text at a JSON pointer (`/debt/invoice_number`); numbers and booleans as written.
fn text(doc: &Value, pointer: &str) -> String {
    match doc.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// An amount in kronor (a JSON number on the wire) with two decimals.
fn kronor(doc: &Value, pointer: &str) -> String {
    match doc.pointer(pointer).filter(|v| v.is_number()) {
        // Whole öre first, as every amount is read, then two decimals.
        Some(v) => format!("{:.2}", super::view::ore(Some(v)) as f64 / 100.0),
        None => String::new(),
    }
}

/// A wire date (RFC 1123) as `YYYY-MM-DD HH:MM:SS`.
fn time(doc: &Value, pointer: &str) -> String {
    doc.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|s| HttpDate::parse_lenient(s).ok())
        .and_then(|d| chrono::DateTime::from_timestamp(d.unix(), 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The list at `path` (an Eve list query with `?`, without paging) as a CSV download.
pub async fn csv(api: &Api, path: &str, name: &str, cols: &[Col]) -> Response {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let write = |out: &mut csv::Writer<Vec<u8>>, row: Vec<String>| out.write_record(row);
    if let Err(e) = write(
        &mut out,
        cols.iter().map(|c| c.header.to_string()).collect(),
    ) {
        return super::internal(e);
    }
    let mut rows = 0;
    for page in 1.. {
        let (items, total) = match api
            .list(&format!("{path}&max_results={PAGE}&page={page}"))
            .await
        {
            Ok(l) => l,
            Err(p) => {
                return super::refused(
                    StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST),
                    &p.message,
                )
            }
        };
        for doc in &items {
            if let Err(e) = write(&mut out, cols.iter().map(|c| c.value(doc)).collect()) {
                return super::internal(e);
            }
            rows += 1;
        }
        if items.len() < PAGE as usize || rows >= total.min(MAX_ROWS) {
            break;
        }
    }
    let body = match out.into_inner() {
        Ok(b) => b,
        Err(e) => return super::internal(e.to_string()),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_a_spreadsheet_expects() {
        let doc = json!({"amount": 2014.5, "n": 3, "when": "Wed, 03 Sep 2025 09:10:17 GMT",
                         "debt": {"invoice_number": "INV-1"}});
        assert_eq!(kronor(&doc, "/amount"), "2014.50");
        assert_eq!(kronor(&doc, "/missing"), "");
        assert_eq!(text(&doc, "/debt/invoice_number"), "INV-1");
        assert_eq!(text(&doc, "/n"), "3");
        assert_eq!(time(&doc, "/when"), "2025-09-03 09:10:17");
    }
}
