//! The `where` filter as a typed tree, and its parser for Mongo's JSON syntax
//! (eve-wire.md §1.5 A). The Python-expression syntax (§1.5 B) parses into the same tree in
//! [`super::python_where`].

use serde_json::{Map, Value as Json};

use super::error::QueryError;
use crate::domain::{HttpDate, ObjectId};

/// A value in a filter, after Eve's string casting: a string that parses as an RFC 1123 date
/// is a date, else a 24-hex string is an object id, else it stays a string.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Date(HttpDate),
    Oid(ObjectId),
    Array(Vec<Val>),
    Object(Vec<(String, Val)>),
}

impl Val {
    /// Converts JSON into a filter value, casting every string at any depth.
    pub fn from_json(j: &Json) -> Val {
        match j {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Val::cast_str(s),
            Json::Array(a) => Val::Array(a.iter().map(Val::from_json).collect()),
            Json::Object(o) => Val::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub fn cast_str(s: &str) -> Val {
        if let Ok(d) = HttpDate::parse_lenient(s) {
            Val::Date(d)
        } else if let Ok(id) = ObjectId::parse(s) {
            Val::Oid(id)
        } else {
            Val::Str(s.to_string())
        }
    }

    /// The value as the JSON it is stored as (dates as RFC 1123, ids as hex).
    pub fn to_stored_json(&self) -> Json {
        match self {
            Val::Null => Json::Null,
            Val::Bool(b) => Json::Bool(*b),
            Val::Num(n) => serde_json::Number::from_f64(*n)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Val::Str(s) => Json::String(s.clone()),
            Val::Date(d) => Json::String(d.to_string()),
            Val::Oid(o) => Json::String(o.to_hex()),
            Val::Array(a) => Json::Array(a.iter().map(Val::to_stored_json).collect()),
            Val::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.to_stored_json()))
                    .collect(),
            ),
        }
    }
}

/// A condition on the value(s) at one field path.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Eq(Val),
    Ne(Val),
    Gt(Val),
    Gte(Val),
    Lt(Val),
    Lte(Val),
    In(Vec<Val>),
    Nin(Vec<Val>),
    Exists(bool),
    Size(i64),
    All(Vec<Val>),
    /// `$elemMatch` with a query document: one element must satisfy the whole filter.
    ElemMatchDoc(Box<Filter>),
    /// `$elemMatch` with operators (`{"$gt": 5}`): one scalar element must satisfy them all.
    ElemMatchOps(Vec<Cond>),
    Not(Vec<Cond>),
}

/// A `where` filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Matches every document (`{}`).
    True,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Nor(Vec<Filter>),
    /// All conditions hold for the field at `path` (dotted).
    Field {
        path: String,
        conds: Vec<Cond>,
    },
}

impl Filter {
    /// `{path: value}`, for filters the server builds itself.
    pub fn eq(path: &str, value: Val) -> Filter {
        Filter::Field {
            path: path.to_string(),
            conds: vec![Cond::Eq(value)],
        }
    }

    /// `{path: {"$in": values}}`.
    pub fn any_of(path: &str, values: Vec<Val>) -> Filter {
        Filter::Field {
            path: path.to_string(),
            conds: vec![Cond::In(values)],
        }
    }

    /// `{path: {"$exists": false}}`.
    pub fn missing(path: &str) -> Filter {
        Filter::Field {
            path: path.to_string(),
            conds: vec![Cond::Exists(false)],
        }
    }
}

/// Every operator Eve knows (`Mongo.operators`); any other `$key` is a 400.
const KNOWN_OPERATORS: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$and",
    "$or",
    "$not",
    "$nor",
    "$exists",
    "$type",
    "$mod",
    "$regex",
    "$options",
    "$text",
    "$search",
    "$language",
    "$caseSensitive",
    "$diacriticSensitive",
    "$where",
    "$expr",
    "$all",
    "$elemMatch",
    "$size",
    "$bitsAllClear",
    "$bitsAllSet",
    "$bitsAnyClear",
    "$bitsAnySet",
    "$geoWithin",
    "$geoIntersects",
    "$near",
    "$nearSphere",
    "$centerSphere",
    "$geometry",
    "$maxDistance",
    "$minDistance",
    "$box",
    "$center",
];
/// Eve's default `MONGO_QUERY_BLACKLIST`.
const BLACKLIST: &[&str] = &["$where", "$regex"];

/// Eve's recursive sanitising walk: every `$key` at any depth must be a known operator and
/// not blacklisted.
fn sanitize(v: &Json) -> Result<(), QueryError> {
    match v {
        Json::Object(o) => {
            for (k, child) in o {
                if k.starts_with('$') {
                    if !KNOWN_OPERATORS.contains(&k.as_str()) {
                        return Err(QueryError::UnknownOperator(k.clone()));
                    }
                    if BLACKLIST.contains(&k.as_str()) {
                        return Err(QueryError::BannedOperator(k.clone()));
                    }
                }
                sanitize(child)?;
            }
            Ok(())
        }
        Json::Array(a) => a.iter().try_for_each(sanitize),
        _ => Ok(()),
    }
}

impl Filter {
    /// Parses the `where` parameter: JSON first, then the Python-expression syntax. An empty
    /// value means no filter.
    pub fn parse(raw: &str) -> Result<Filter, QueryError> {
        if raw.trim().is_empty() {
            return Ok(Filter::True);
        }
        super::limits::check_where_len(raw)?;
        let f = Filter::parse_unlimited(raw)?;
        super::limits::check_filter(&f)?;
        Ok(f)
    }

    fn parse_unlimited(raw: &str) -> Result<Filter, QueryError> {
        match serde_json::from_str::<Json>(raw) {
            Ok(v) => match &v {
                Json::Object(o) => {
                    sanitize(&v)?;
                    Filter::from_doc(o)
                }
                // Valid JSON that is not an object crashes Eve; it is a 400 here.
                _ => Err(QueryError::WhereNotObject),
            },
            Err(_) => super::python_where::parse(raw),
        }
    }

    /// A query document: an implicit AND of its keys.
    pub fn from_doc(doc: &Map<String, Json>) -> Result<Filter, QueryError> {
        let mut parts = Vec::with_capacity(doc.len());
        for (key, value) in doc {
            parts.push(match key.as_str() {
                "$and" => Filter::And(sub_queries(key, value)?),
                "$or" => Filter::Or(sub_queries(key, value)?),
                "$nor" => Filter::Nor(sub_queries(key, value)?),
                k if k.starts_with('$') => {
                    return Err(QueryError::UnsupportedOperator(k.to_string()))
                }
                path => {
                    check_path(path)?;
                    Filter::Field {
                        path: path.to_string(),
                        conds: conditions(value)?,
                    }
                }
            });
        }
        Ok(match parts.len() {
            0 => Filter::True,
            1 => parts.pop().unwrap_or(Filter::True),
            _ => Filter::And(parts),
        })
    }

    /// Every field path the filter names (for `ALLOWED_FILTERS`-style checks and tests).
    pub fn paths(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::True => {}
            Filter::And(fs) | Filter::Or(fs) | Filter::Nor(fs) => {
                fs.iter().for_each(|f| f.collect_paths(out))
            }
            Filter::Field { path, .. } => out.push(path),
        }
    }
}

fn check_path(path: &str) -> Result<(), QueryError> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(QueryError::BadPath(path.to_string()));
    }
    Ok(())
}

fn sub_queries(op: &str, v: &Json) -> Result<Vec<Filter>, QueryError> {
    let Json::Array(items) = v else {
        return Err(QueryError::BadOperand(
            op.to_string(),
            "a non-empty array of query documents",
        ));
    };
    if items.is_empty() {
        return Err(QueryError::BadOperand(
            op.to_string(),
            "a non-empty array of query documents",
        ));
    }
    items
        .iter()
        .map(|item| match item {
            Json::Object(o) => Filter::from_doc(o),
            _ => Err(QueryError::BadOperand(
                op.to_string(),
                "a non-empty array of query documents",
            )),
        })
        .collect()
}

/// The conditions for one field: an operator object, or a plain value (equality).
fn conditions(v: &Json) -> Result<Vec<Cond>, QueryError> {
    match v {
        Json::Object(o) if o.keys().any(|k| k.starts_with('$')) => {
            if o.keys().any(|k| !k.starts_with('$')) {
                // Mongo: "unknown operator" for a mix of operators and plain keys.
                let plain = o
                    .keys()
                    .find(|k| !k.starts_with('$'))
                    .cloned()
                    .unwrap_or_default();
                return Err(QueryError::UnknownOperator(plain));
            }
            o.iter().map(|(op, arg)| operator(op, arg)).collect()
        }
        other => Ok(vec![Cond::Eq(Val::from_json(other))]),
    }
}

fn list(op: &str, v: &Json) -> Result<Vec<Val>, QueryError> {
    match v {
        Json::Array(a) => Ok(a.iter().map(Val::from_json).collect()),
        _ => Err(QueryError::BadOperand(op.to_string(), "an array")),
    }
}

fn operator(op: &str, arg: &Json) -> Result<Cond, QueryError> {
    Ok(match op {
        "$eq" => Cond::Eq(Val::from_json(arg)),
        "$ne" => Cond::Ne(Val::from_json(arg)),
        "$gt" => Cond::Gt(Val::from_json(arg)),
        "$gte" => Cond::Gte(Val::from_json(arg)),
        "$lt" => Cond::Lt(Val::from_json(arg)),
        "$lte" => Cond::Lte(Val::from_json(arg)),
        "$in" => Cond::In(list(op, arg)?),
        "$nin" => Cond::Nin(list(op, arg)?),
        "$all" => Cond::All(list(op, arg)?),
        // Mongo takes any value for $exists and uses its truthiness.
        "$exists" => Cond::Exists(truthy(arg)),
        "$size" => match arg.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 0.0 => Cond::Size(n as i64),
            _ => {
                return Err(QueryError::BadOperand(
                    op.to_string(),
                    "a non-negative whole number",
                ))
            }
        },
        "$elemMatch" => match arg {
            Json::Object(o) => {
                let operator_form = !o.is_empty()
                    && o.keys().all(|k| {
                        k.starts_with('$') && !matches!(k.as_str(), "$and" | "$or" | "$nor")
                    });
                if operator_form {
                    Cond::ElemMatchOps(
                        o.iter()
                            .map(|(k, v)| operator(k, v))
                            .collect::<Result<_, _>>()?,
                    )
                } else {
                    Cond::ElemMatchDoc(Box::new(Filter::from_doc(o)?))
                }
            }
            _ => return Err(QueryError::BadOperand(op.to_string(), "an object")),
        },
        "$not" => match arg {
            Json::Object(o) if !o.is_empty() && o.keys().all(|k| k.starts_with('$')) => Cond::Not(
                o.iter()
                    .map(|(k, v)| operator(k, v))
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(QueryError::BadOperand(op.to_string(), "an operator object")),
        },
        other => return Err(QueryError::UnsupportedOperator(other.to_string())),
    })
}

fn truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Filter, QueryError> {
        Filter::parse(s)
    }

    #[test]
    fn casts_strings_to_dates_and_ids() {
        let f = p(r#"{"closed.close_date": {"$gt": "Mon, 13 Jan 2026 00:00:00 GMT"}, "creditor": "674dbeb208847b9501cc9138", "state": "reminder"}"#).unwrap();
        let Filter::And(parts) = f else { panic!() };
        assert!(
            matches!(&parts[0], Filter::Field { conds, .. } if matches!(conds[0], Cond::Gt(Val::Date(_))))
        );
        assert!(
            matches!(&parts[1], Filter::Field { conds, .. } if matches!(conds[0], Cond::Eq(Val::Oid(_))))
        );
        assert!(
            matches!(&parts[2], Filter::Field { conds, .. } if matches!(&conds[0], Cond::Eq(Val::Str(s)) if s == "reminder"))
        );
    }

    #[test]
    fn casts_inside_in_lists_too() {
        let f = p(r#"{"_id": {"$in": ["674dbeb208847b9501cc9138", "x"]}}"#).unwrap();
        let Filter::Field { conds, .. } = f else {
            panic!()
        };
        assert_eq!(
            conds[0],
            Cond::In(vec![
                Val::Oid(ObjectId::parse("674dbeb208847b9501cc9138").unwrap()),
                Val::Str("x".into())
            ])
        );
    }

    #[test]
    fn rejects_unknown_and_banned_operators_at_any_depth() {
        assert!(matches!(
            p(r#"{"a": {"$foo": 1}}"#),
            Err(QueryError::UnknownOperator(_))
        ));
        assert!(matches!(
            p(r#"{"$where": "1"}"#),
            Err(QueryError::BannedOperator(_))
        ));
        assert!(matches!(
            p(r#"{"$or": [{"x": {"$regex": "a"}}]}"#),
            Err(QueryError::BannedOperator(_))
        ));
        assert!(matches!(
            p(r#"{"a": {"$eq": {"$year": 1}}}"#),
            Err(QueryError::UnknownOperator(_))
        ));
    }

    #[test]
    fn known_but_unsupported_operators_are_refused_clearly() {
        assert!(matches!(
            p(r#"{"a": {"$mod": [2, 0]}}"#),
            Err(QueryError::UnsupportedOperator(_))
        ));
        assert!(matches!(
            p(r#"{"$text": {"$search": "x"}}"#),
            Err(QueryError::UnsupportedOperator(_))
        ));
    }

    #[test]
    fn json_that_is_not_an_object_is_refused() {
        assert_eq!(p("5"), Err(QueryError::WhereNotObject));
        assert_eq!(p("[1]"), Err(QueryError::WhereNotObject));
        assert_eq!(p("\"a\""), Err(QueryError::WhereNotObject));
    }

    #[test]
    fn logical_operators_need_nonempty_arrays_of_documents() {
        assert!(p(r#"{"$or": []}"#).is_err());
        assert!(p(r#"{"$and": {"a": 1}}"#).is_err());
        assert!(p(r#"{"$nor": [1]}"#).is_err());
        assert!(p(r#"{"$or": [{"a": 1}, {"b": 2}]}"#).is_ok());
    }

    #[test]
    fn empty_where_is_no_filter() {
        assert_eq!(p(""), Ok(Filter::True));
        assert_eq!(p("{}"), Ok(Filter::True));
    }

    #[test]
    fn elem_match_has_two_forms() {
        let f = p(r#"{"state_history": {"$elemMatch": {"state": "reminder"}}}"#).unwrap();
        assert!(
            matches!(f, Filter::Field { ref conds, .. } if matches!(conds[0], Cond::ElemMatchDoc(_)))
        );
        let f = p(r#"{"tags": {"$elemMatch": {"$gt": 1, "$lt": 5}}}"#).unwrap();
        assert!(
            matches!(f, Filter::Field { ref conds, .. } if matches!(&conds[0], Cond::ElemMatchOps(v) if v.len() == 2))
        );
    }

    #[test]
    fn mixing_operators_and_fields_is_refused() {
        assert!(p(r#"{"a": {"$gt": 1, "b": 2}}"#).is_err());
    }

    #[test]
    fn empty_path_segments_are_refused() {
        assert!(p(r#"{"a..b": 1}"#).is_err());
        assert!(p(r#"{"": 1}"#).is_err());
    }
}
