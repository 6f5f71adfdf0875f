//! What the query compiler knows about a resource's documents: for every path, whether it is
//! a string, number, boolean, date, object id, object or array. Derived from the typed Rust
//! model with `schemars`, so it cannot drift from the documents the code writes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde_json::Value;

/// The type of a value at some path.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    String,
    Number,
    Bool,
    /// An RFC 1123 date string on the wire and in storage.
    Date,
    /// A 24-hex object id string.
    ObjectId,
    Object(BTreeMap<String, Node>),
    Array(Box<Node>),
    /// Free-form: any JSON value (compared with run-time type checks).
    Any,
}

impl Node {
    /// Builds the schema of `T` from its `schemars` JSON schema.
    pub fn of<T: JsonSchema>() -> Node {
        let schema = schemars::generate::SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<T>();
        let root = schema.as_value();
        let defs = root.get("$defs").cloned().unwrap_or(Value::Null);
        convert(root, &defs, 0)
    }

    /// The child of an object node.
    pub fn field(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Object(fields) => fields.get(name),
            _ => None,
        }
    }

    /// Adds or replaces a field of an object node (used for meta fields).
    pub fn with_field(mut self, name: &str, node: Node) -> Node {
        if let Node::Object(fields) = &mut self {
            fields.insert(name.to_string(), node);
        }
        self
    }

    /// True for the scalar kinds.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Node::Object(_) | Node::Array(_) | Node::Any)
    }
}

fn convert(s: &Value, defs: &Value, depth: usize) -> Node {
    if depth > 32 {
        return Node::Any;
    }
    let Some(obj) = s.as_object() else {
        return Node::Any;
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return match defs.get(name) {
            Some(def) => convert(def, defs, depth + 1),
            None => Node::Any,
        };
    }
    // Option<T> appears as anyOf [T, null] or oneOf; take the non-null branch.
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = obj.get(key).and_then(Value::as_array) {
            let non_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [only] = non_null.as_slice() {
                return convert(only, defs, depth + 1);
            }
            // Enums with documented variants come as oneOf of constants: all strings.
            if non_null.iter().all(|b| is_string_const(b)) {
                return Node::String;
            }
            return Node::Any;
        }
    }
    if obj.contains_key("enum") || obj.contains_key("const") {
        return Node::String;
    }
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => {
            let non_null: Vec<&str> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            match non_null.as_slice() {
                [one] => *one,
                _ => return Node::Any,
            }
        }
        _ => return Node::Any,
    };
    match ty {
        "string" => match obj.get("format").and_then(Value::as_str) {
            Some("rfc1123") => Node::Date,
            Some("objectid") => Node::ObjectId,
            _ => Node::String,
        },
        "number" | "integer" => Node::Number,
        "boolean" => Node::Bool,
        "array" => Node::Array(Box::new(
            obj.get("items")
                .map(|i| convert(i, defs, depth + 1))
                .unwrap_or(Node::Any),
        )),
        "object" => {
            let props = obj.get("properties").and_then(Value::as_object);
            match props {
                Some(p) => Node::Object(
                    p.iter()
                        .map(|(k, v)| (k.clone(), convert(v, defs, depth + 1)))
                        .collect(),
                ),
                None => Node::Object(BTreeMap::new()),
            }
        }
        _ => Node::Any,
    }
}

fn is_string_const(v: &Value) -> bool {
    v.get("const").map(Value::is_string).unwrap_or(false)
        || v.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.iter().all(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::Case;

    #[test]
    fn the_case_schema_knows_dates_ids_numbers_and_arrays() {
        let s = Node::of::<Case>();
        assert_eq!(s.field("_id"), Some(&Node::ObjectId));
        assert_eq!(s.field("_created"), Some(&Node::Date));
        assert_eq!(s.field("creditor"), Some(&Node::ObjectId));
        assert_eq!(s.field("state"), Some(&Node::String));
        assert_eq!(
            s.field("total_remaining_capital_amount"),
            Some(&Node::Number)
        );
        assert_eq!(
            s.field("debt").and_then(|d| d.field("invoice_number")),
            Some(&Node::String)
        );
        assert_eq!(
            s.field("closed").and_then(|d| d.field("close_date")),
            Some(&Node::Date)
        );
        let Some(Node::Array(item)) = s.field("state_history") else {
            panic!("not an array")
        };
        assert_eq!(item.field("state_date"), Some(&Node::Date));
        let Some(Node::Array(tx)) = s.field("transactions") else {
            panic!("not an array")
        };
        assert_eq!(tx.field("amount"), Some(&Node::Number));
        assert_eq!(tx.field("type"), Some(&Node::String));
        assert_eq!(
            s.field("event_listeners"),
            Some(&Node::Object(BTreeMap::new()))
        );
        assert_eq!(
            s.field("case_settings")
                .and_then(|c| c.field("interest_rate"))
                .and_then(|c| c.field("reference_rate")),
            Some(&Node::Bool)
        );
    }
}
