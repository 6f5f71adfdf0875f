//! How large a query may be. Every list read compiles its `where`, `sort` and `projection`
//! into one SQL statement; past some size the databases refuse it (SQLite's expression depth
//! of 1,000 and `ORDER BY` term limit, bound-parameter limits) or take long enough to starve
//! other clients. These limits sit well below both, and a query over one is a 400 that says
//! which limit and what to do instead. docs/api.md lists them.

use super::error::QueryError;
use super::filter::{Cond, Filter, Val};

/// Longest `where` value, in bytes (a 500-id `$in` is about 14 KB).
pub const MAX_WHERE_BYTES: usize = 32 * 1024;
/// Values in one `$in`, `$nin` or `$all`.
pub const MAX_LIST_VALUES: usize = 500;
/// Sub-queries in one `$and`, `$or` or `$nor` (the Python syntax's `and`/`or` chains too).
pub const MAX_SUB_QUERIES: usize = 100;
/// Nesting of `$and`/`$or`/`$nor`/`$not`/`$elemMatch` (and parentheses in the Python syntax).
pub const MAX_DEPTH: usize = 16;
/// Conditions in the whole filter, counting each value of a list operator.
pub const MAX_TERMS: usize = 1_000;
/// Keys in `sort`.
pub const MAX_SORT_KEYS: usize = 16;
/// Fields in `projection`.
pub const MAX_PROJECTION_FIELDS: usize = 100;

pub fn check_where_len(raw: &str) -> Result<(), QueryError> {
    if raw.len() > MAX_WHERE_BYTES {
        return Err(QueryError::TooLarge(format!(
            "`where` is {} bytes; at most {MAX_WHERE_BYTES} are allowed",
            raw.len()
        )));
    }
    Ok(())
}

pub fn check_filter(f: &Filter) -> Result<(), QueryError> {
    let mut terms = 0;
    walk(f, 1, &mut terms)?;
    if terms > MAX_TERMS {
        return Err(QueryError::TooLarge(format!(
            "the filter has {terms} conditions; at most {MAX_TERMS} are allowed"
        )));
    }
    Ok(())
}

fn too_deep() -> QueryError {
    QueryError::TooLarge(format!(
        "the filter nests operators more than {MAX_DEPTH} levels deep"
    ))
}

fn walk(f: &Filter, depth: usize, terms: &mut usize) -> Result<(), QueryError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match f {
        Filter::True => Ok(()),
        Filter::And(fs) | Filter::Or(fs) | Filter::Nor(fs) => {
            if fs.len() > MAX_SUB_QUERIES {
                let op = match f {
                    Filter::And(_) => "$and",
                    Filter::Or(_) => "$or",
                    _ => "$nor",
                };
                let hint = if op == "$or" {
                    " (for many values of one field, use `$in`)"
                } else {
                    ""
                };
                return Err(QueryError::TooLarge(format!(
                    "`{op}` has {} sub-queries; at most {MAX_SUB_QUERIES} are allowed{hint}",
                    fs.len()
                )));
            }
            fs.iter().try_for_each(|f| walk(f, depth + 1, terms))
        }
        Filter::Field { conds, .. } => conds.iter().try_for_each(|c| cond(c, depth, terms)),
    }
}

fn cond(c: &Cond, depth: usize, terms: &mut usize) -> Result<(), QueryError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let list = |op: &str, vs: &[Val], terms: &mut usize| {
        if vs.len() > MAX_LIST_VALUES {
            return Err(QueryError::TooLarge(format!(
                "`{op}` has {} values; at most {MAX_LIST_VALUES} are allowed",
                vs.len()
            )));
        }
        *terms += vs.len().max(1);
        Ok(())
    };
    match c {
        Cond::In(vs) => list("$in", vs, terms),
        Cond::Nin(vs) => list("$nin", vs, terms),
        Cond::All(vs) => list("$all", vs, terms),
        Cond::ElemMatchDoc(f) => {
            *terms += 1;
            walk(f, depth + 1, terms)
        }
        Cond::ElemMatchOps(cs) | Cond::Not(cs) => {
            *terms += 1;
            cs.iter().try_for_each(|c| cond(c, depth + 1, terms))
        }
        _ => {
            *terms += 1;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn or_of(n: usize) -> String {
        let terms: Vec<String> = (0..n).map(|i| format!(r#"{{"a": {i}}}"#)).collect();
        format!(r#"{{"$or": [{}]}}"#, terms.join(","))
    }

    fn in_of(n: usize) -> String {
        let vals: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        format!(r#"{{"a": {{"$in": [{}]}}}}"#, vals.join(","))
    }

    fn message(raw: &str) -> String {
        Filter::parse(raw).unwrap_err().to_string()
    }

    #[test]
    fn sub_query_and_list_limits_are_inclusive() {
        assert!(Filter::parse(&or_of(MAX_SUB_QUERIES)).is_ok());
        assert_eq!(
            message(&or_of(MAX_SUB_QUERIES + 1)),
            "Query too large: `$or` has 101 sub-queries; at most 100 are allowed (for many values of one field, use `$in`)"
        );
        assert!(Filter::parse(&in_of(MAX_LIST_VALUES)).is_ok());
        assert_eq!(
            message(&in_of(997)),
            "Query too large: `$in` has 997 values; at most 500 are allowed"
        );
    }

    #[test]
    fn the_python_syntax_is_limited_too() {
        let chain: Vec<String> = (0..999).map(|i| format!("a == {i}")).collect();
        assert!(message(&chain.join(" or ")).contains("`$or` has 999 sub-queries"));
    }

    #[test]
    fn depth_and_total_terms() {
        let mut deep = r#"{"a": 1}"#.to_string();
        for _ in 0..MAX_DEPTH {
            deep = format!(r#"{{"$and": [{deep}]}}"#);
        }
        assert_eq!(
            message(&deep),
            "Query too large: the filter nests operators more than 16 levels deep"
        );
        let many: Vec<String> = (0..3)
            .map(|i| {
                format!(
                    r#"{{"f{i}": {{"$in": [{}]}}}}"#,
                    (0..400)
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
            .collect();
        assert_eq!(
            message(&format!(r#"{{"$and": [{}]}}"#, many.join(","))),
            "Query too large: the filter has 1200 conditions; at most 1000 are allowed"
        );
    }

    #[test]
    fn where_length() {
        let long = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_WHERE_BYTES));
        assert!(message(&long).starts_with("Query too large: `where` is 32777 bytes"));
    }
}
