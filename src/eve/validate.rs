//! Request validation as Eve does it with Cerberus (eve-wire.md §3.1, §3.4): a declarative
//! schema per resource, Eve's type coercions before validation, and `_issues` in Cerberus's
//! shape — one message as a string, several as a list, nested documents as nested objects,
//! list items keyed by index.
//!
//! Rules that need the database or the domain (a creditor exists and is active, an identity
//! number's checksum, …) add their messages to the same [`Issues`] afterwards, so a client
//! gets every problem of a request in one answer.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use crate::domain::{HttpDate, ObjectId};

/// A resource's (or a sub-document's) fields.
pub type Schema = &'static [(&'static str, Rule)];

/// A value's type, as Cerberus names it in `must be of … type`.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    /// An RFC 1123 date (`Mon, 07 Jul 2025 00:00:00 GMT`); ISO 8601 is accepted too.
    Datetime,
    ObjectId,
    Dict(Schema),
    List(&'static Rule),
}

impl Ty {
    fn name(&self) -> &'static str {
        match self {
            Ty::String => "string",
            Ty::Integer => "integer",
            Ty::Number => "number",
            Ty::Boolean => "boolean",
            Ty::Datetime => "datetime",
            Ty::ObjectId => "objectid",
            Ty::Dict(_) => "dict",
            Ty::List(_) => "list",
        }
    }
}

/// A custom rule: `Err(message)` when the (type-checked) value is not acceptable.
pub type Check = fn(&Value) -> Result<(), String>;

/// One field's rules.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub ty: Ty,
    pub required: bool,
    pub nullable: bool,
    pub readonly: bool,
    /// Whether an empty string, list or dict is accepted (Cerberus `empty`, default true).
    pub empty: bool,
    pub allowed: &'static [&'static str],
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub maxlength: Option<usize>,
    pub check: Option<Check>,
}

impl Rule {
    pub const fn of(ty: Ty) -> Rule {
        Rule {
            ty,
            required: false,
            nullable: false,
            readonly: false,
            empty: true,
            allowed: &[],
            min: None,
            max: None,
            maxlength: None,
            check: None,
        }
    }
    pub const fn string() -> Rule {
        Rule::of(Ty::String)
    }
    pub const fn integer() -> Rule {
        Rule::of(Ty::Integer)
    }
    pub const fn number() -> Rule {
        Rule::of(Ty::Number)
    }
    pub const fn boolean() -> Rule {
        Rule::of(Ty::Boolean)
    }
    pub const fn datetime() -> Rule {
        Rule::of(Ty::Datetime)
    }
    pub const fn objectid() -> Rule {
        Rule::of(Ty::ObjectId)
    }
    pub const fn dict(schema: Schema) -> Rule {
        Rule::of(Ty::Dict(schema))
    }
    pub const fn list(item: &'static Rule) -> Rule {
        Rule::of(Ty::List(item))
    }
    pub const fn required(mut self) -> Rule {
        self.required = true;
        self
    }
    pub const fn nullable(mut self) -> Rule {
        self.nullable = true;
        self
    }
    pub const fn readonly(mut self) -> Rule {
        self.readonly = true;
        self
    }
    pub const fn nonempty(mut self) -> Rule {
        self.empty = false;
        self
    }
    pub const fn allowed(mut self, values: &'static [&'static str]) -> Rule {
        self.allowed = values;
        self
    }
    pub const fn min(mut self, v: f64) -> Rule {
        self.min = Some(v);
        self
    }
    pub const fn max(mut self, v: f64) -> Rule {
        self.max = Some(v);
        self
    }
    pub const fn maxlength(mut self, n: usize) -> Rule {
        self.maxlength = Some(n);
        self
    }
    pub const fn check(mut self, f: Check) -> Rule {
        self.check = Some(f);
        self
    }
}

impl Rule {
    /// The JSON Schema (2020-12) of the values this rule accepts, for the OpenAPI document.
    /// Custom checks cannot be expressed; their fields say so in `description` where needed.
    pub fn json_schema(&self) -> Value {
        let s = match self.ty {
            Ty::String => json!({"type": "string"}),
            Ty::Integer => json!({"type": "integer"}),
            Ty::Number => json!({"type": "number"}),
            Ty::Boolean => json!({"type": "boolean"}),
            Ty::Datetime => json!({
                "type": "string",
                "description": "RFC 1123 (`Mon, 07 Jul 2025 00:00:00 GMT`); ISO 8601 is accepted too",
            }),
            Ty::ObjectId => json!({"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}),
            Ty::Dict(schema) => schema_json(schema, Mode::Insert),
            Ty::List(item) => json!({"type": "array", "items": item.json_schema()}),
        };
        let Value::Object(mut o) = s else {
            return s;
        };
        if !self.allowed.is_empty() {
            o.insert("enum".into(), json!(self.allowed));
        }
        if let Some(min) = self.min {
            o.insert("minimum".into(), json!(min));
        }
        if let Some(max) = self.max {
            o.insert("maximum".into(), json!(max));
        }
        let (len, items) = match self.ty {
            Ty::List(_) => ("maxItems", "minItems"),
            Ty::Dict(_) => ("maxProperties", "minProperties"),
            _ => ("maxLength", "minLength"),
        };
        if let Some(n) = self.maxlength {
            o.insert(len.into(), json!(n));
        }
        if !self.empty {
            o.insert(items.into(), json!(1));
        }
        if self.readonly {
            o.insert("readOnly".into(), json!(true));
        }
        if self.nullable {
            let ty = o.get("type").cloned().unwrap_or(Value::Null);
            o.insert("type".into(), json!([ty, "null"]));
        }
        Value::Object(o)
    }
}

/// The JSON Schema of a document validated by `schema`: in [`Mode::Insert`] its required
/// fields are listed as required; in [`Mode::Update`] (PATCH) none is.
pub fn schema_json(schema: Schema, mode: Mode) -> Value {
    let properties: Map<String, Value> = schema
        .iter()
        .map(|(name, rule)| (name.to_string(), rule.json_schema()))
        .collect();
    let required: Vec<&str> = schema
        .iter()
        .filter(|(_, rule)| rule.required && mode == Mode::Insert)
        .map(|(name, _)| *name)
        .collect();
    let mut s = json!({"type": "object", "properties": properties, "additionalProperties": false});
    if !required.is_empty() {
        s["required"] = json!(required);
    }
    s
}

/// Insert (POST: required fields enforced) or update (PATCH: only what is sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Insert,
    Update,
}

/// Validation problems, keyed by field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Issues(BTreeMap<String, Issue>);

#[derive(Clone, Debug, PartialEq)]
enum Issue {
    Messages(Vec<String>),
    Nested(Issues),
}

impl Issues {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds a message at a dotted path (`customer.address.country`, `debts.0.amount`).
    pub fn add(&mut self, path: &str, message: impl Into<String>) {
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let slot = self
            .0
            .entry(head.to_string())
            .or_insert_with(|| match rest {
                Some(_) => Issue::Nested(Issues::default()),
                None => Issue::Messages(vec![]),
            });
        match (slot, rest) {
            (Issue::Nested(inner), Some(rest)) => inner.add(rest, message),
            (Issue::Messages(msgs), None) => msgs.push(message.into()),
            // A field with its own message and nested ones: keep the field's own message.
            (Issue::Messages(msgs), Some(_)) if !msgs.is_empty() => {}
            (slot, Some(rest)) => {
                let mut inner = Issues::default();
                inner.add(rest, message);
                *slot = Issue::Nested(inner);
            }
            (Issue::Nested(_), None) => {}
        }
    }

    /// Whether there is any problem at or under this top-level field.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Every message with its dotted path (`customer.id_number: …`), in field order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            match v {
                Issue::Messages(msgs) => out.extend(msgs.iter().map(|m| (k.clone(), m.clone()))),
                Issue::Nested(inner) => out.extend(
                    inner
                        .messages()
                        .into_iter()
                        .map(|(p, m)| (format!("{k}.{p}"), m)),
                ),
            }
        }
        out
    }

    fn nest(&mut self, field: &str, inner: Issues) {
        if !inner.is_empty() {
            self.0.insert(field.to_string(), Issue::Nested(inner));
        }
    }
}

impl std::fmt::Display for Issues {
    /// `field: message; other.field: message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .messages()
            .into_iter()
            .map(|(p, m)| format!("{p}: {m}"))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl Serialize for Issues {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            match v {
                Issue::Messages(msgs) if msgs.len() == 1 => m.serialize_entry(k, &msgs[0])?,
                Issue::Messages(msgs) => m.serialize_entry(k, msgs)?,
                Issue::Nested(inner) => m.serialize_entry(k, inner)?,
            }
        }
        m.end()
    }
}

/// Eve's `data_relation` message for an id that does not exist (or is not the caller's:
/// the two are indistinguishable on purpose).
pub fn must_exist(id: &str, resource: &str) -> String {
    format!("value '{id}' must exist in resource '{resource}', field '_id'.")
}

/// Expands dotted keys (`{"a.b": 1}` → `{"a": {"b": 1}}`), as Eve does before validating.
pub fn expand_dotted(doc: &mut Map<String, Value>) {
    let dotted: Vec<String> = doc.keys().filter(|k| k.contains('.')).cloned().collect();
    for key in dotted {
        let Some(v) = doc.remove(&key) else { continue };
        let mut parts = key.split('.').peekable();
        let mut at = &mut *doc;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                at.insert(part.to_string(), v);
                break;
            }
            let next = at
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !next.is_object() {
                *next = Value::Object(Map::new());
            }
            let Value::Object(m) = next else { break };
            at = m;
        }
    }
}

/// Validates (and coerces, in place) a request document against a schema.
pub fn validate(schema: Schema, doc: &mut Map<String, Value>, mode: Mode) -> Issues {
    let mut issues = Issues::default();
    for key in doc.keys() {
        if !schema.iter().any(|(name, _)| name == key) {
            issues.add(key, "unknown field");
        }
    }
    for (name, rule) in schema {
        match doc.get_mut(*name) {
            None => {
                if rule.required && mode == Mode::Insert {
                    issues.add(name, "required field");
                }
            }
            Some(v) => field(rule, v, mode, name, &mut issues),
        }
    }
    issues
}

/// Characters that print nothing or turn the text around them: zero-width spaces and joiners,
/// directional marks, embeddings, overrides and isolates, the word joiner and invisible
/// operators, the byte-order mark. In a name or an invoice number they make look-alikes
/// ("INV-1" and "INV\u{200B}-1") and can reverse a statutory line on a letter (U+202E).
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The years a date in a request may fall in: a debt from 1600 or a payment in 2999 is a typing
/// error, not a case.
pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2099;

fn field(rule: &Rule, v: &mut Value, mode: Mode, name: &str, issues: &mut Issues) {
    if rule.readonly {
        issues.add(name, "field is read-only");
        return;
    }
    if v.is_null() {
        if !rule.nullable {
            issues.add(name, "null value not allowed");
        }
        return;
    }
    coerce(rule.ty, v);
    if !type_ok(rule.ty, v) {
        issues.add(name, format!("must be of {} type", rule.ty.name()));
        return;
    }
    if let (Ty::Datetime, Some(d)) = (
        rule.ty,
        v.as_str().and_then(|s| HttpDate::parse_lenient(s).ok()),
    ) {
        use chrono::Datelike;
        if !(MIN_YEAR..=MAX_YEAR).contains(&d.date().year()) {
            issues.add(
                name,
                format!("must be a date between {MIN_YEAR} and {MAX_YEAR}"),
            );
            return;
        }
    }
    if let Value::String(s) = &*v {
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            issues.add(name, "must not contain control characters");
            return;
        }
        if let Some(c) = s.chars().find(|c| is_invisible_format(*c)) {
            issues.add(
                name,
                format!(
                    "must not contain invisible or text-direction characters (U+{:04X})",
                    c as u32
                ),
            );
            return;
        }
    }
    let empty = match v {
        // Whitespace alone is as empty as nothing (a name of "   " names no one).
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if empty && !rule.empty {
        issues.add(name, "empty values not allowed");
        return;
    }
    if let (false, Value::String(s)) = (rule.allowed.is_empty(), &*v) {
        if !rule.allowed.contains(&s.as_str()) {
            issues.add(name, format!("unallowed value {s}"));
        }
    }
    let len = match &*v {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        _ => None,
    };
    if let (Some(len), Some(max)) = (len, rule.maxlength) {
        if len > max {
            issues.add(name, format!("max length is {max}"));
        }
    }
    if let Some(x) = v.as_f64() {
        if let Some(min) = rule.min.filter(|m| x < *m) {
            issues.add(name, format!("min value is {}", number(min)));
        }
        if let Some(max) = rule.max.filter(|m| x > *m) {
            issues.add(name, format!("max value is {}", number(max)));
        }
    }
    match (rule.ty, &mut *v) {
        (Ty::Dict(schema), Value::Object(m)) => issues.nest(name, validate(schema, m, mode)),
        (Ty::List(item), Value::Array(items)) => {
            let mut inner = Issues::default();
            for (i, x) in items.iter_mut().enumerate() {
                // List items are always validated whole, as in an insert.
                field(item, x, Mode::Insert, &i.to_string(), &mut inner);
            }
            issues.nest(name, inner);
        }
        _ => {}
    }
    if let (Some(check), false) = (rule.check, issues.has(name)) {
        if let Err(msg) = check(v) {
            issues.add(name, msg);
        }
    }
}

/// `150`, not `150.0`, as Python prints the integer bounds of a schema.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Eve's serializers, applied before validation; on failure the raw value stays and the type
/// check reports it.
fn coerce(ty: Ty, v: &mut Value) {
    match ty {
        Ty::Integer => match v {
            Value::String(s) => {
                if let Ok(i) = s.trim().parse::<i64>() {
                    *v = Value::from(i);
                }
            }
            Value::Number(n) if n.is_f64() => {
                if let Some(f) = n.as_f64().filter(|f| f.is_finite() && f.abs() < 9e15) {
                    *v = Value::from(f.trunc() as i64);
                }
            }
            _ => {}
        },
        Ty::Number => {
            if let Value::String(s) = v {
                if let Some(n) = s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                {
                    *v = Value::Number(n);
                }
            }
        }
        Ty::Boolean => {
            let b = match &*v {
                Value::String(s) => match s.to_ascii_lowercase().as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => None,
                },
                Value::Number(n) if n.as_i64() == Some(1) => Some(true),
                Value::Number(n) if n.as_i64() == Some(0) => Some(false),
                _ => None,
            };
            if let Some(b) = b {
                *v = Value::Bool(b);
            }
        }
        _ => {}
    }
}

fn type_ok(ty: Ty, v: &Value) -> bool {
    match ty {
        Ty::String => v.is_string(),
        Ty::Integer => v.is_i64() || v.is_u64(),
        Ty::Number => v.is_number(),
        Ty::Boolean => v.is_boolean(),
        Ty::Datetime => v
            .as_str()
            .is_some_and(|s| HttpDate::parse_lenient(s).is_ok()),
        Ty::ObjectId => v.as_str().is_some_and(|s| ObjectId::parse(s).is_ok()),
        Ty::Dict(_) => v.is_object(),
        Ty::List(_) => v.is_array(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ADDRESS: Schema = &[
        ("city", Rule::string().required()),
        ("country", Rule::string().required().allowed(&["SE", "NO"])),
    ];
    const TAG: Rule = Rule::string();
    const SCHEMA: Schema = &[
        ("name", Rule::string().required().nonempty().maxlength(5)),
        ("age", Rule::integer().min(0.0).max(150.0)),
        ("flag", Rule::boolean()),
        ("when", Rule::datetime()),
        ("ref", Rule::objectid()),
        ("address", Rule::dict(ADDRESS)),
        ("tags", Rule::list(&TAG)),
        ("number", Rule::string().readonly()),
        ("note", Rule::string().nullable()),
    ];

    fn check(body: Value, mode: Mode) -> (Value, Value) {
        let Value::Object(mut m) = body else {
            panic!("object")
        };
        let issues = validate(SCHEMA, &mut m, mode);
        (serde_json::to_value(issues).unwrap(), Value::Object(m))
    }

    #[test]
    fn messages_are_cerberus_texts_in_cerberus_shape() {
        let (issues, _) = check(
            json!({"age": -1, "flag": "maybe", "zzz": 1, "address": {"country": "DK"},
                   "tags": ["a", 2], "number": "x", "note": null, "ref": "nope",
                   "when": "yesterday"}),
            Mode::Insert,
        );
        assert_eq!(
            issues,
            json!({
                "name": "required field",
                "age": "min value is 0",
                "flag": "must be of boolean type",
                "zzz": "unknown field",
                "address": {"city": "required field", "country": "unallowed value DK"},
                "tags": {"1": "must be of string type"},
                "number": "field is read-only",
                "ref": "must be of objectid type",
                "when": "must be of datetime type",
            })
        );
    }

    #[test]
    fn several_problems_on_one_field_are_a_list() {
        let mut issues = Issues::default();
        issues.add("a", "one");
        issues.add("a", "two");
        issues.add("b.c", "three");
        assert_eq!(
            serde_json::to_value(issues).unwrap(),
            json!({"a": ["one", "two"], "b": {"c": "three"}})
        );
    }

    #[test]
    fn eve_coercions_run_before_validation() {
        let (issues, doc) = check(
            json!({"name": "Al", "age": "63", "flag": "TRUE"}),
            Mode::Insert,
        );
        assert_eq!(issues, json!({}));
        assert_eq!(doc, json!({"name": "Al", "age": 63, "flag": true}));
        let (_, doc) = check(json!({"name": "Al", "age": 42.7, "flag": 0}), Mode::Insert);
        assert_eq!(doc["age"], 42);
        assert_eq!(doc["flag"], false);
    }

    #[test]
    fn update_mode_does_not_require_fields_but_checks_what_is_sent() {
        let (issues, _) = check(json!({"address": {"country": "SE"}}), Mode::Update);
        assert_eq!(issues, json!({}));
        let (issues, _) = check(json!({"name": "", "age": 151}), Mode::Update);
        assert_eq!(
            issues,
            json!({"name": "empty values not allowed", "age": "max value is 150"})
        );
        let (issues, _) = check(json!({"name": "toolong"}), Mode::Update);
        assert_eq!(issues, json!({"name": "max length is 5"}));
    }

    #[test]
    fn dotted_keys_expand_into_documents() {
        let mut m = json!({"address.city": "Lund", "address.country": "SE", "name": "x"})
            .as_object()
            .cloned()
            .unwrap();
        expand_dotted(&mut m);
        assert_eq!(
            Value::Object(m),
            json!({"address": {"city": "Lund", "country": "SE"}, "name": "x"})
        );
    }
}
