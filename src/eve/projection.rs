//! The `projection` parameter (eve-wire.md §1.6): inclusive, exclusive or dotted; the meta
//! fields `_id`, `_created`, `_updated` and `_etag` are always kept.
//!
//! Documents are stored as the JSON they are served as, so projecting is a matter of copying
//! the kept top-level values through unparsed ([`Projection::write`]); only a dotted
//! projection parses the one sub-document it reaches into.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::QueryError;

pub const META_FIELDS: [&str; 4] = ["_id", "_created", "_updated", "_etag"];

#[derive(Clone, Debug, Default, PartialEq)]
struct Tree {
    /// The whole value at this node is selected (include) or removed (exclude).
    whole: bool,
    children: BTreeMap<String, Tree>,
}

impl Tree {
    fn insert(&mut self, path: &str) {
        let mut node = self;
        for seg in path.split('.') {
            if node.whole {
                return;
            }
            node = node.children.entry(seg.to_string()).or_default();
        }
        node.whole = true;
        node.children.clear();
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
enum Mode {
    #[default]
    All,
    Include,
    Exclude,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Projection {
    mode: Mode,
    tree: Tree,
}

impl Projection {
    /// Every field.
    pub fn all() -> Projection {
        Projection::default()
    }

    /// Any value other than `0`/`false` includes; if anything is included the projection is
    /// inclusive and the zeros are dropped (as Eve does). Not a JSON object → 400.
    pub fn parse(raw: Option<&str>) -> Result<Projection, QueryError> {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return Ok(Projection::all());
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
            return Err(QueryError::Projection);
        };
        if map.len() > super::limits::MAX_PROJECTION_FIELDS {
            return Err(QueryError::TooLarge(format!(
                "`projection` has {} fields; at most {} are allowed",
                map.len(),
                super::limits::MAX_PROJECTION_FIELDS
            )));
        }
        let excluded = |v: &Value| matches!(v, Value::Bool(false)) || v.as_f64() == Some(0.0);
        let inclusive = map.values().any(|v| !excluded(v));
        let mut tree = Tree::default();
        for (path, v) in &map {
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(QueryError::Projection);
            }
            if inclusive != excluded(v) {
                if !inclusive && META_FIELDS.contains(&path.as_str()) {
                    continue;
                }
                tree.insert(path);
            }
        }
        let mode = match (inclusive, tree.children.is_empty()) {
            (_, true) if !inclusive => Mode::All,
            (true, _) => {
                for m in META_FIELDS {
                    tree.insert(m);
                }
                Mode::Include
            }
            (false, _) => Mode::Exclude,
        };
        Ok(Projection { mode, tree })
    }

    pub fn is_all(&self) -> bool {
        self.mode == Mode::All
    }

    /// Appends the projection of the stored JSON document `doc` to `out`.
    pub fn write(&self, doc: &str, out: &mut String) -> Result<(), serde_json::Error> {
        if self.mode == Mode::All {
            out.push_str(doc);
            return Ok(());
        }
        let TopLevel(fields) = serde_json::from_str(doc)?;
        out.push('{');
        let mut first = true;
        for (key, raw) in fields {
            let node = self.tree.children.get(key.as_ref());
            let piece: Option<Cow<'_, str>> = match (&self.mode, node) {
                (Mode::Include, None) => None,
                (Mode::Include, Some(t)) if t.whole => Some(Cow::Borrowed(raw.get())),
                (Mode::Exclude, Some(t)) if t.whole => None,
                (Mode::Exclude, None) => Some(Cow::Borrowed(raw.get())),
                (_, Some(t)) => {
                    let v: Value = serde_json::from_str(raw.get())?;
                    apply_tree(&v, t, self.mode == Mode::Include).map(|v| Cow::Owned(v.to_string()))
                }
                (Mode::All, None) => Some(Cow::Borrowed(raw.get())),
            };
            if let Some(piece) = piece {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&serde_json::to_string(key.as_ref())?);
                out.push(':');
                out.push_str(&piece);
            }
        }
        out.push('}');
        Ok(())
    }

    /// The projection of a parsed document (used by the reference evaluator and tests).
    pub fn apply(&self, doc: &Value) -> Value {
        match self.mode {
            Mode::All => doc.clone(),
            Mode::Include => apply_tree(doc, &self.tree, true).unwrap_or(Value::Object(Map::new())),
            Mode::Exclude => {
                apply_tree(doc, &self.tree, false).unwrap_or(Value::Object(Map::new()))
            }
        }
    }
}

/// Applies a sub-tree to a value; arrays are projected element by element, as Mongo does.
/// `None` means "nothing left" (an inclusion that reached no value).
fn apply_tree(v: &Value, t: &Tree, include: bool) -> Option<Value> {
    if t.whole {
        return if include { Some(v.clone()) } else { None };
    }
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, child) in o {
                match (t.children.get(k), include) {
                    (Some(sub), _) => {
                        if let Some(pv) = apply_tree(child, sub, include) {
                            out.insert(k.clone(), pv);
                        }
                    }
                    (None, false) => {
                        out.insert(k.clone(), child.clone());
                    }
                    (None, true) => {}
                }
            }
            if include && out.is_empty() {
                return None;
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter(|e| !include || e.is_object() || e.is_array())
                .filter_map(|e| {
                    apply_tree(e, t, include).or_else(|| include.then(|| Value::Object(Map::new())))
                })
                .collect(),
        )),
        // A dotted path into a scalar: included → absent; excluded → untouched.
        other => (!include).then(|| other.clone()),
    }
}

/// The top-level fields of a JSON object, values left unparsed.
pub struct TopLevel<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for TopLevel<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = TopLevel<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(48));
                while let Some(Key(k)) = m.next_key()? {
                    let v: &'de RawValue = m.next_value()?;
                    out.push((k, v));
                }
                Ok(TopLevel(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A map key borrowed from the input when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "_id": "6867da7788b9226bb78d716c", "_created": "c", "_updated": "u", "_etag": "e",
            "state": "debt_collection", "status": "debt_collection_active",
            "debt": {"invoice_number": "INV-1", "capital_to_claim": 2000},
            "transactions": [{"type": "capital", "amount": 2000}, {"type": "interest", "amount": 14.0}],
            "total_remaining_capital_amount": 2050.0
        })
    }

    fn both(p: &Projection) -> Value {
        let d = doc();
        let mut out = String::new();
        p.write(&d.to_string(), &mut out).unwrap();
        let via_raw: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(via_raw, p.apply(&d), "raw and parsed projections differ");
        via_raw
    }

    #[test]
    fn inclusive_keeps_meta_fields_and_dotted_paths() {
        let p = Projection::parse(Some(
            r#"{"_id":1,"state":1,"debt.invoice_number":1,"total_remaining_capital_amount":1}"#,
        ))
        .unwrap();
        assert_eq!(
            both(&p),
            json!({"_id": "6867da7788b9226bb78d716c", "_created": "c", "_updated": "u", "_etag": "e",
                   "state": "debt_collection", "debt": {"invoice_number": "INV-1"},
                   "total_remaining_capital_amount": 2050.0})
        );
    }

    #[test]
    fn exclusive_removes_fields_but_never_meta() {
        let p = Projection::parse(Some(
            r#"{"transactions":0,"debt.capital_to_claim":0,"_id":0}"#,
        ))
        .unwrap();
        let v = both(&p);
        assert!(v.get("transactions").is_none());
        assert_eq!(v["debt"], json!({"invoice_number": "INV-1"}));
        assert_eq!(v["_id"], json!("6867da7788b9226bb78d716c"));
        assert_eq!(v["state"], json!("debt_collection"));
    }

    #[test]
    fn mixed_is_inclusive_and_unknown_fields_are_ignored() {
        let p = Projection::parse(Some(r#"{"state":1,"status":0,"nonexistent":1}"#)).unwrap();
        assert_eq!(
            both(&p),
            json!({"_id": "6867da7788b9226bb78d716c", "_created": "c", "_updated": "u", "_etag": "e", "state": "debt_collection"})
        );
    }

    #[test]
    fn dotted_paths_reach_into_arrays() {
        let p = Projection::parse(Some(r#"{"transactions.amount":1}"#)).unwrap();
        assert_eq!(
            both(&p)["transactions"],
            json!([{"amount": 2000}, {"amount": 14.0}])
        );
    }

    #[test]
    fn not_an_object_is_an_error() {
        for bad in ["5", "[1]", "{", "\"a\"", r#"{"a..b":1}"#] {
            assert_eq!(
                Projection::parse(Some(bad)),
                Err(QueryError::Projection),
                "{bad}"
            );
        }
        assert!(Projection::parse(Some("")).unwrap().is_all());
        assert!(Projection::parse(Some("{}")).unwrap().is_all());
    }
}
