//! Turning a typed document into what the store keeps: the JSON text served on the wire,
//! its `_etag`, and the values of the typed columns.

use serde::Serialize;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::{column_value, StoreError};
use crate::domain::HttpDate;
use crate::eve::resource::{ColumnKind, Resource};

/// A document ready to insert.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub id: String,
    pub account: String,
    pub etag: String,
    /// The wire JSON, `_etag` included.
    pub text: String,
    /// Typed column values in the order of `Resource::columns`.
    pub columns: Vec<ColumnValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValue {
    Text(String),
    Int(i64),
    Null,
}

/// Serialises a document, computes its `_etag` (SHA-1 of the document with an empty
/// `_etag`, 40 lowercase hex) and extracts its column values.
pub fn prepare_document<T: Serialize>(res: &Resource, doc: &T) -> Result<StoredDoc, StoreError> {
    let mut v = serde_json::to_value(doc).map_err(|e| StoreError::Document(e.to_string()))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| StoreError::Document("not an object".into()))?;
    obj.insert("_etag".into(), Value::String(String::new()));
    let unsigned = serde_json::to_string(&v).map_err(|e| StoreError::Document(e.to_string()))?;
    let etag = hex::encode(Sha1::digest(unsigned.as_bytes()));
    if let Some(obj) = v.as_object_mut() {
        obj.insert("_etag".into(), Value::String(etag.clone()));
    }
    let text = serde_json::to_string(&v).map_err(|e| StoreError::Document(e.to_string()))?;
    let mut columns = Vec::with_capacity(res.columns.len());
    for col in &res.columns {
        let val = column_value(&v, col.path);
        columns.push(match (col.kind, val) {
            (_, None) => ColumnValue::Null,
            (ColumnKind::Date, Some(Value::String(s))) => ColumnValue::Int(
                HttpDate::parse_lenient(&s)
                    .map_err(|_| StoreError::Document(format!("{} is not a date", col.path)))?
                    .unix(),
            ),
            (ColumnKind::Text | ColumnKind::ObjectId, Some(Value::String(s))) => {
                ColumnValue::Text(s)
            }
            (_, Some(other)) => {
                return Err(StoreError::Document(format!(
                    "{} has an unexpected value {other}",
                    col.path
                )))
            }
        });
    }
    let id = match column_value(&v, "_id") {
        Some(Value::String(s)) => s,
        _ => return Err(StoreError::Document("document has no _id".into())),
    };
    let account = match column_value(&v, "account") {
        Some(Value::String(s)) => s,
        _ if res.table == "accounts" => id.clone(),
        _ => return Err(StoreError::Document("document has no account".into())),
    };
    Ok(StoredDoc {
        id,
        account,
        etag,
        text,
        columns,
    })
}
