//! The `sort` parameter: a Python literal as Eve evaluates it and PyMongo takes it (a list or
//! tuple of `(field, ±1)` pairs or field names, or a dict / JSON object `{"field": ±1}`), or
//! comma syntax with a leading `-` for descending. Anything else is a 400.

use super::error::QueryError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub path: String,
    pub descending: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sort(pub Vec<SortKey>);

impl Sort {
    pub fn parse(raw: &str) -> Result<Sort, QueryError> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(Sort::default());
        }
        let sort = if s.starts_with('[') || s.starts_with('(') || s.starts_with('{') {
            parse_python_list(s)?
        } else {
            parse_comma_list(s)?
        };
        if sort.0.len() > super::limits::MAX_SORT_KEYS {
            return Err(QueryError::TooLarge(format!(
                "`sort` has {} keys; at most {} are allowed",
                sort.0.len(),
                super::limits::MAX_SORT_KEYS
            )));
        }
        Ok(sort)
    }
}

/// `city,-lastname`. Eve gets here only when the text is a valid Python expression that is
/// not a literal; a bare quoted string or a number is a literal and is refused.
fn parse_comma_list(s: &str) -> Result<Sort, QueryError> {
    let mut keys = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        let (descending, path) = match item.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        if !is_field_path(path) {
            return Err(QueryError::Sort);
        }
        keys.push(SortKey {
            path: path.to_string(),
            descending,
        });
    }
    Ok(Sort(keys))
}

/// An identifier followed by dotted segments (`closed.close_date`, `transactions.0.amount`).
fn is_field_path(p: &str) -> bool {
    let mut segs = p.split('.');
    let first_ok = segs.next().is_some_and(|f| {
        f.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    first_ok
        && segs.all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// A Python literal, as Eve evaluates it and PyMongo takes it: a list or tuple whose items
/// are `(field, ±1)` / `[field, ±1]` pairs or bare field names (ascending), or a dict
/// `{"field": ±1, …}` (the form a JSON object also has). Trailing commas are allowed.
fn parse_python_list(s: &str) -> Result<Sort, QueryError> {
    let mut p = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let close = match p.next_non_ws() {
        Some(b'[') => b']',
        Some(b'(') => b')',
        Some(b'{') => b'}',
        _ => return Err(QueryError::Sort),
    };
    let mut keys: Vec<SortKey> = Vec::new();
    loop {
        let key = match p.peek_non_ws() {
            Some(c) if c == close => {
                p.i += 1;
                break;
            }
            Some(b'"' | b'\'') if close == b'}' => {
                let path = p.string()?;
                p.expect(b':')?;
                let descending = direction(p.integer()?)?;
                SortKey { path, descending }
            }
            Some(b'"' | b'\'') => SortKey {
                path: p.string()?,
                descending: false,
            },
            Some(open @ (b'(' | b'[')) if close != b'}' => {
                p.i += 1;
                let path = p.string()?;
                p.expect(b',')?;
                let descending = direction(p.integer()?)?;
                if p.peek_non_ws() == Some(b',') {
                    p.i += 1;
                }
                p.expect(if open == b'(' { b')' } else { b']' })?;
                SortKey { path, descending }
            }
            _ => return Err(QueryError::Sort),
        };
        if key.path.is_empty() {
            return Err(QueryError::Sort);
        }
        // A dict keeps a repeated key once, where it first appeared, with its last value.
        match keys.iter_mut().find(|k| k.path == key.path) {
            Some(k) if close == b'}' => k.descending = key.descending,
            _ => keys.push(key),
        }
        match p.next_non_ws() {
            Some(b',') => continue,
            Some(c) if c == close => break,
            _ => return Err(QueryError::Sort),
        }
    }
    if p.peek_non_ws().is_some() {
        return Err(QueryError::Sort);
    }
    Ok(Sort(keys))
}

fn direction(d: i64) -> Result<bool, QueryError> {
    match d {
        1 => Ok(false),
        -1 => Ok(true),
        _ => Err(QueryError::Sort),
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek_non_ws(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }
    fn next_non_ws(&mut self) -> Option<u8> {
        let c = self.peek_non_ws()?;
        self.i += 1;
        Some(c)
    }
    fn expect(&mut self, c: u8) -> Result<(), QueryError> {
        (self.next_non_ws() == Some(c))
            .then_some(())
            .ok_or(QueryError::Sort)
    }
    fn string(&mut self) -> Result<String, QueryError> {
        let quote = match self.next_non_ws() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return Err(QueryError::Sort),
        };
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != quote {
            if self.s[self.i] == b'\\' {
                return Err(QueryError::Sort);
            }
            self.i += 1;
        }
        if self.i >= self.s.len() {
            return Err(QueryError::Sort);
        }
        let out = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| QueryError::Sort)?;
        self.i += 1;
        Ok(out.to_string())
    }
    fn integer(&mut self) -> Result<i64, QueryError> {
        self.skip_ws();
        let start = self.i;
        if matches!(self.s.get(self.i), Some(b'-' | b'+')) {
            self.i += 1;
        }
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(QueryError::Sort)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> Vec<(String, bool)> {
        Sort::parse(s)
            .unwrap()
            .0
            .into_iter()
            .map(|k| (k.path, k.descending))
            .collect()
    }

    #[test]
    fn comma_syntax() {
        assert_eq!(keys("-_created"), vec![("_created".into(), true)]);
        assert_eq!(
            keys("city,-lastname"),
            vec![("city".into(), false), ("lastname".into(), true)]
        );
        assert_eq!(
            keys("-age, name"),
            vec![("age".into(), true), ("name".into(), false)]
        );
        assert_eq!(
            keys("-closed.close_date"),
            vec![("closed.close_date".into(), true)]
        );
    }

    #[test]
    fn python_list_syntax() {
        assert_eq!(
            keys(r#"[("lastname", -1)]"#),
            vec![("lastname".into(), true)]
        );
        assert_eq!(
            keys(r#"[('lastname', 1), ("age", -1)]"#),
            vec![("lastname".into(), false), ("age".into(), true)]
        );
        assert_eq!(keys(r#"[("a", 1),]"#), vec![("a".into(), false)]);
    }

    #[test]
    fn every_literal_form_pymongo_takes() {
        let want = vec![("state".into(), true), ("_id".into(), false)];
        for form in [
            r#"{"state": -1, "_id": 1}"#,
            r#"{'state': -1, '_id': 1,}"#,
            r#"[["state", -1], ["_id", 1]]"#,
            r#"(("state", -1), ("_id", 1))"#,
            r#"[("state", -1), "_id"]"#,
            r#"[("state", -1), ["_id", 1,]]"#,
        ] {
            assert_eq!(keys(form), want, "{form}");
        }
        assert_eq!(
            keys(r#"["a", "b"]"#),
            vec![("a".into(), false), ("b".into(), false)]
        );
        assert_eq!(keys("{}"), vec![]);
        // A repeated dict key keeps its first place and its last direction.
        assert_eq!(
            keys(r#"{"a": 1, "b": 1, "a": -1}"#),
            vec![("a".into(), true), ("b".into(), false)]
        );
    }

    #[test]
    fn malformed_sorts_are_refused() {
        for bad in [
            r#"[("age":1)]"#,
            "a b",
            "-",
            "a,,b",
            "a,",
            r#""firstname""#,
            "5",
            r#"[("a", 2)]"#,
            r#"[("a", 1)"#,
            r#"[("a")]"#,
            "[1]",
            "a;drop table cases",
            r#"{"a": 2}"#,
            r#"{"a" -1}"#,
            r#"{"a": -1"#,
            r#"{("a", 1)}"#,
            r#"[{"a": 1}]"#,
            r#"{"a": "desc"}"#,
        ] {
            assert_eq!(Sort::parse(bad), Err(QueryError::Sort), "{bad}");
        }
    }

    #[test]
    fn empty_sort_is_default_order() {
        assert_eq!(Sort::parse(""), Ok(Sort::default()));
    }
}
