//! The reference evaluator: what a `where` filter means, written as plain Rust over a stored
//! JSON document. The SQL compiler must agree with it (property-tested in
//! `tests/query_semantics.rs`); when a question about semantics comes up, this is the answer.
//!
//! The rules are MongoDB's (eve-wire.md §1.5):
//! * walking a dotted path through an array visits every element ("any element");
//! * an array at the end of a path matches as a whole or by any element;
//! * `{f: null}` matches null or missing; `$ne`/`$nin`/`$exists: false` are the negations of
//!   `$eq`/`$in`/`$exists: true`, so they match missing fields;
//! * comparisons only hold between values of the same type (type bracketing): a date only
//!   compares with a date, an object id with an object id, a string with a string;
//! * values are typed by the resource schema: a stored RFC 1123 string at a date path is a
//!   date, a stored hex string at an object-id path is an object id.

use std::cmp::Ordering;

use serde_json::Value as Json;

use super::filter::{Cond, Filter, Val};
use super::schema::Node;
use crate::domain::{HttpDate, ObjectId};

/// A stored value seen through the schema.
#[derive(Clone, Debug, PartialEq)]
enum Typed<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(&'a str),
    Date(HttpDate),
    Oid(ObjectId),
    Array(&'a [Json], &'a Node),
    Object(&'a serde_json::Map<String, Json>, &'a Node),
}

fn typed<'a>(v: &'a Json, node: &'a Node) -> Typed<'a> {
    match v {
        Json::Null => Typed::Null,
        Json::Bool(b) => Typed::Bool(*b),
        Json::Number(n) => Typed::Num(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => match node {
            Node::Date => HttpDate::parse_lenient(s)
                .map(Typed::Date)
                .unwrap_or(Typed::Str(s)),
            Node::ObjectId => ObjectId::parse(s).map(Typed::Oid).unwrap_or(Typed::Str(s)),
            _ => Typed::Str(s),
        },
        Json::Array(a) => Typed::Array(
            a,
            match node {
                Node::Array(elem) => elem,
                _ => &Node::Any,
            },
        ),
        Json::Object(o) => Typed::Object(o, node),
    }
}

static ANY: Node = Node::Any;

/// The values reached by `segs` from `v`; `None` marks a missing value.
fn walk<'a>(v: Option<&'a Json>, node: &'a Node, segs: &[&str], out: &mut Vec<Option<Typed<'a>>>) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(v.map(|v| typed(v, node)));
        return;
    };
    match v {
        Some(Json::Object(o)) => walk(o.get(*seg), node.field(seg).unwrap_or(&ANY), rest, out),
        Some(Json::Array(items)) => {
            let elem = match node {
                Node::Array(e) => e.as_ref(),
                _ => &ANY,
            };
            if let Ok(i) = seg.parse::<usize>() {
                walk(items.get(i), elem, rest, out);
            } else {
                for item in items {
                    walk(Some(item), elem, segs, out);
                }
            }
        }
        _ => out.push(None),
    }
}

/// Does the stored document match the filter?
pub fn matches(doc: &Json, schema: &Node, f: &Filter) -> bool {
    match f {
        Filter::True => true,
        Filter::And(fs) => fs.iter().all(|f| matches(doc, schema, f)),
        Filter::Or(fs) => fs.iter().any(|f| matches(doc, schema, f)),
        Filter::Nor(fs) => !fs.iter().any(|f| matches(doc, schema, f)),
        Filter::Field { path, conds } => {
            let segs: Vec<&str> = path.split('.').collect();
            let mut values = Vec::new();
            walk(Some(doc), schema, &segs, &mut values);
            conds.iter().all(|c| cond_holds(&values, c))
        }
    }
}

fn cond_holds(values: &[Option<Typed>], c: &Cond) -> bool {
    match c {
        Cond::Eq(v) => values.iter().any(|x| eq_candidate(x, v)),
        Cond::Ne(v) => !values.iter().any(|x| eq_candidate(x, v)),
        Cond::In(vs) => vs.iter().any(|v| values.iter().any(|x| eq_candidate(x, v))),
        Cond::Nin(vs) => !vs.iter().any(|v| values.iter().any(|x| eq_candidate(x, v))),
        // Mongo: `$gte`/`$lte` null behave like equality with null.
        Cond::Gte(Val::Null) | Cond::Lte(Val::Null) => {
            values.iter().any(|x| eq_candidate(x, &Val::Null))
        }
        Cond::Gt(v) => range(values, v, |o| o == Ordering::Greater),
        Cond::Gte(v) => range(values, v, |o| o != Ordering::Less),
        Cond::Lt(v) => range(values, v, |o| o == Ordering::Less),
        Cond::Lte(v) => range(values, v, |o| o != Ordering::Greater),
        Cond::Exists(want) => values.iter().any(Option::is_some) == *want,
        Cond::Size(n) => values
            .iter()
            .any(|x| matches!(x, Some(Typed::Array(a, _)) if a.len() as i64 == *n)),
        Cond::All(vs) => {
            !vs.is_empty() && vs.iter().all(|v| values.iter().any(|x| eq_candidate(x, v)))
        }
        Cond::ElemMatchDoc(f) => values.iter().any(|x| match x {
            Some(Typed::Array(items, elem)) => {
                items.iter().any(|e| e.is_object() && matches(e, elem, f))
            }
            _ => false,
        }),
        Cond::ElemMatchOps(cs) => values.iter().any(|x| match x {
            Some(Typed::Array(items, elem)) => items.iter().any(|e| {
                let one = [Some(typed(e, elem))];
                cs.iter().all(|c| cond_holds(&one, c))
            }),
            _ => false,
        }),
        Cond::Not(cs) => !cs.iter().all(|c| cond_holds(values, c)),
    }
}

/// Equality of one candidate: missing and null equal `null`; an array equals a value when
/// it equals it as a whole or has an element equal to it.
fn eq_candidate(x: &Option<Typed>, v: &Val) -> bool {
    match x {
        None => *v == Val::Null,
        Some(t @ Typed::Array(items, elem)) => {
            matches!(v, Val::Array(_)) && eq_typed(t, v)
                || items
                    .iter()
                    .any(|e| !e.is_array() && eq_typed(&typed(e, elem), v))
        }
        Some(t) => eq_typed(t, v),
    }
}

/// Equality of one stored value and a filter value of the same type. Embedded documents are
/// equal when they have the same keys and equal values (in any key order — a documented
/// difference from MongoDB, which also compares key order); arrays element by element.
fn eq_typed(t: &Typed, v: &Val) -> bool {
    match (t, v) {
        (Typed::Null, Val::Null) => true,
        (Typed::Bool(a), Val::Bool(b)) => a == b,
        (Typed::Num(a), Val::Num(b)) => a == b,
        (Typed::Str(a), Val::Str(b)) => *a == b,
        (Typed::Date(a), Val::Date(b)) => a == b,
        (Typed::Oid(a), Val::Oid(b)) => a == b,
        (Typed::Object(o, node), Val::Object(fields)) => {
            o.len() == fields.len()
                && fields.iter().all(|(k, fv)| {
                    o.get(k)
                        .is_some_and(|jv| eq_typed(&typed(jv, node.field(k).unwrap_or(&ANY)), fv))
                })
        }
        (Typed::Array(items, elem), Val::Array(vs)) => {
            items.len() == vs.len()
                && items
                    .iter()
                    .zip(vs)
                    .all(|(j, v)| eq_typed(&typed(j, elem), v))
        }
        _ => false,
    }
}

fn range(values: &[Option<Typed>], v: &Val, ok: impl Fn(Ordering) -> bool) -> bool {
    values.iter().any(|x| match x {
        Some(Typed::Array(items, elem)) => items
            .iter()
            .any(|e| cmp_typed(&typed(e, elem), v).is_some_and(&ok)),
        Some(t) => cmp_typed(t, v).is_some_and(&ok),
        None => false,
    })
}

/// Ordering between a stored value and a filter value of the same type; `None` across types.
fn cmp_typed(t: &Typed, v: &Val) -> Option<Ordering> {
    match (t, v) {
        (Typed::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Typed::Str(a), Val::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Typed::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        (Typed::Oid(a), Val::Oid(b)) => Some(a.cmp(b)),
        (Typed::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::Case;

    fn m(doc: &Json, where_: &str) -> bool {
        let schema = Node::of::<Case>();
        matches(doc, &schema, &Filter::parse(where_).unwrap())
    }

    fn seed() -> Json {
        serde_json::from_str(crate::domain::case::tests::SEED_CLOSED_CASE).unwrap()
    }

    #[test]
    fn the_seed_queries() {
        let closed = seed();
        let mut open = seed();
        open.as_object_mut().unwrap().remove("closed");
        assert!(m(&open, r#"{"closed": {"$exists": false}}"#));
        assert!(!m(&closed, r#"{"closed": {"$exists": false}}"#));
        assert!(m(
            &closed,
            r#"{"closed.close_date": {"$gt": "Mon, 13 Jan 2025 00:00:00 GMT"}}"#
        ));
        assert!(!m(
            &closed,
            r#"{"closed.close_date": {"$gt": "Mon, 13 Jan 2026 00:00:00 GMT"}}"#
        ));
        // a date only compares with a date
        assert!(!m(&closed, r#"{"closed.close_date": {"$gt": "A"}}"#));
    }

    #[test]
    fn arrays_match_by_any_element() {
        let c = seed();
        assert!(m(&c, r#"{"state_history.state": "debt_collection"}"#));
        assert!(m(&c, r#"{"transactions.amount": {"$lt": 0}}"#));
        assert!(!m(
            &c,
            r#"{"state_history.state": {"$ne": "initializing"}}"#
        ));
        assert!(m(&c, r#"{"transactions": {"$size": 4}}"#));
        assert!(m(
            &c,
            r#"{"transactions": {"$elemMatch": {"type": "interest", "amount": {"$lt": 0}}}}"#
        ));
        assert!(!m(
            &c,
            r#"{"transactions": {"$elemMatch": {"type": "costs"}}}"#
        ));
        assert!(m(&c, r#"{"transactions.1.amount": 14}"#));
    }

    #[test]
    fn null_and_ne_match_missing() {
        let c = seed();
        assert!(m(&c, r#"{"customer_number": null}"#));
        assert!(m(&c, r#"{"customer_number": {"$ne": "x"}}"#));
        assert!(m(&c, r#"{"customer_number": {"$nin": ["x"]}}"#));
        assert!(!m(&c, r#"{"customer_name": null}"#));
        assert!(m(&c, r#"{"nonexistent": {"$exists": false}}"#));
    }

    #[test]
    fn ids_compare_as_ids_and_strings_as_strings() {
        let c = seed();
        assert!(m(&c, r#"{"creditor": "674dbeb208847b9501cc9138"}"#));
        assert!(m(&c, r#"{"customer_id_number": "5560269986"}"#));
        assert!(m(
            &c,
            r#"{"debt.invoice_number": {"$in": ["INV-2025-003", "x"]}}"#
        ));
        assert!(m(
            &c,
            r#"{"$or": [{"state": "reminder"}, {"status": "closed"}]}"#
        ));
        assert!(!m(
            &c,
            r#"{"$nor": [{"state": "reminder"}, {"status": "closed"}]}"#
        ));
    }
}
