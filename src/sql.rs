//! The one way SQL is written: a [`Statement`] builder with the [`Dialect`] as a value. It
//! numbers and types placeholders (`?` on SQLite, `$1::text` on PostgreSQL), reads a stored
//! document as text, extracts a JSON field, and locks claimed rows (`FOR UPDATE SKIP
//! LOCKED`, which SQLite's single writer does not need). The Eve compiler and every store
//! file write their statements through it; `store::sqlite` and `store::postgres` only run
//! them. Values are always bound, never spliced.

use std::fmt::Write as _;

/// Which database a statement is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    /// A PostgreSQL `text[]` (JSON paths for `#>`, a list for `unnest`).
    TextArray(Vec<String>),
    /// SQL NULL, typed as text or as an integer (PostgreSQL needs to know which).
    NullText,
    NullInt,
    /// A JSON document as text (`jsonb` on PostgreSQL).
    Json(String),
}

impl Param {
    /// The PostgreSQL cast its placeholder carries.
    fn pg_cast(&self) -> &'static str {
        match self {
            Param::TextArray(_) => "::text[]",
            Param::Float(_) => "::float8",
            Param::Int(_) | Param::NullInt => "::int8",
            Param::Text(_) | Param::NullText => "::text",
            Param::Json(_) => "::jsonb",
        }
    }

    /// Text, or NULL.
    pub fn opt_text(v: Option<impl Into<String>>) -> Param {
        v.map_or(Param::NullText, |s| Param::Text(s.into()))
    }
}

/// SQL text and its parameters, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

/// How a `SELECT` locks the rows it reads (PostgreSQL; SQLite has one writer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// The rows are the transaction's until it commits.
    Update,
    /// The rows cannot change or vanish until it commits.
    Share,
    /// Claim: rows another transaction holds are skipped, not waited for.
    SkipLocked,
}

/// Builds one statement; placeholders are numbered in the order they are written.
#[derive(Clone, Debug)]
pub struct Statement {
    dialect: Dialect,
    out: Sql,
}

impl Statement {
    pub fn new(dialect: Dialect) -> Statement {
        Statement {
            dialect,
            out: Sql::default(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn is_postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// Appends SQL text (never a value: values are bound).
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.out.text.push_str(s);
        self
    }

    /// Appends a placeholder for `p`.
    pub fn bind(&mut self, p: Param) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.out.text.push('?'),
            Dialect::Postgres => {
                let n = self.out.params.len() + 1;
                let _ = write!(self.out.text, "${n}{}", p.pg_cast());
            }
        }
        self.out.params.push(p);
        self
    }

    pub fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Param::Text(s.into()))
    }

    pub fn int(&mut self, i: i64) -> &mut Self {
        self.bind(Param::Int(i))
    }

    /// Placeholders for `params`, separated by `, `.
    pub fn list(&mut self, params: impl IntoIterator<Item = Param>) -> &mut Self {
        for (i, p) in params.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(p);
        }
        self
    }

    /// A row of placeholders, `(…, …)`.
    pub fn row(&mut self, params: impl IntoIterator<Item = Param>) -> &mut Self {
        self.push("(");
        self.list(params);
        self.push(")")
    }

    /// A stored document read as its JSON text (`doc`, `doc::text` on PostgreSQL, where it
    /// is `jsonb`).
    pub fn doc(&mut self, column: &str) -> &mut Self {
        self.push(column);
        if self.is_postgres() {
            self.push("::text");
        }
        self
    }

    /// A field of a JSON column as text: `json_extract(doc, '$.a.b')` or
    /// `doc->'a'->>'b'`. The path is code, not input.
    pub fn json_text(&mut self, column: &str, path: &[&str]) -> &mut Self {
        debug_assert!(path
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')));
        match self.dialect {
            Dialect::Sqlite => {
                let _ = write!(
                    self.out.text,
                    "json_extract({column}, '$.{}')",
                    path.join(".")
                );
            }
            Dialect::Postgres => {
                self.push(column);
                for (i, p) in path.iter().enumerate() {
                    let arrow = if i + 1 == path.len() { "->>" } else { "->" };
                    let _ = write!(self.out.text, "{arrow}'{p}'");
                }
            }
        }
        self
    }

    /// A JSON field of a column as a number: `json_extract(doc, '$.a')` or
    /// `CAST(doc->>'a' AS NUMERIC)`.
    pub fn json_number(&mut self, column: &str, path: &[&str]) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.json_text(column, path),
            Dialect::Postgres => {
                self.push("CAST(");
                self.json_text(column, path);
                self.push(" AS NUMERIC)")
            }
        }
    }

    /// Locks the rows a `SELECT` reads (PostgreSQL; nothing on SQLite).
    pub fn lock(&mut self, lock: Lock) -> &mut Self {
        if self.is_postgres() {
            self.push(match lock {
                Lock::Update => " FOR UPDATE",
                Lock::Share => " FOR SHARE",
                Lock::SkipLocked => " FOR UPDATE SKIP LOCKED",
            });
        }
        self
    }

    /// Where the statement is now, to go back to with [`Statement::rewind`].
    pub fn mark(&self) -> (usize, usize) {
        (self.out.text.len(), self.out.params.len())
    }

    /// Drops what was written after `mark`.
    pub fn rewind(&mut self, mark: (usize, usize)) {
        self.out.text.truncate(mark.0);
        self.out.params.truncate(mark.1);
    }

    pub fn finish(self) -> Sql {
        self.out
    }
}

impl std::fmt::Write for Statement {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.out.text.push_str(s);
        Ok(())
    }
}

/// A statement from a template whose `?` are placeholders, bound in order to `params`
/// (numbered and typed on PostgreSQL). For fixed statements; build the rest with
/// [`Statement`].
pub fn query(dialect: Dialect, template: &str, params: Vec<Param>) -> Sql {
    let mut st = Statement::new(dialect);
    let mut params = params.into_iter();
    let mut rest = template;
    while let Some(i) = rest.find('?') {
        st.push(&rest[..i]);
        match params.next() {
            Some(p) => st.bind(p),
            None => st.push("?"),
        };
        rest = &rest[i + 1..];
    }
    st.push(rest);
    debug_assert!(params.next().is_none(), "more parameters than placeholders");
    st.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_and_typed_for_postgres() {
        let params = vec![
            Param::Text("a".into()),
            Param::Int(1),
            Param::NullText,
            Param::Json("{}".into()),
        ];
        let sql = query(
            Dialect::Postgres,
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            params.clone(),
        );
        assert_eq!(
            sql.text,
            "INSERT INTO t VALUES ($1::text, $2::int8, $3::text, $4::jsonb)"
        );
        assert_eq!(sql.params, params);
        let sql = query(Dialect::Sqlite, "INSERT INTO t VALUES (?, ?, ?, ?)", params);
        assert_eq!(sql.text, "INSERT INTO t VALUES (?, ?, ?, ?)");
    }

    #[test]
    fn json_fields_documents_and_locks_per_dialect() {
        let mut s = Statement::new(Dialect::Sqlite);
        s.push("SELECT ")
            .doc("doc")
            .push(", ")
            .json_text("doc", &["file", "id"])
            .push(" FROM t")
            .lock(Lock::SkipLocked);
        assert_eq!(
            s.finish().text,
            "SELECT doc, json_extract(doc, '$.file.id') FROM t"
        );
        let mut p = Statement::new(Dialect::Postgres);
        p.push("SELECT ")
            .doc("doc")
            .push(", ")
            .json_text("doc", &["file", "id"])
            .push(" FROM t")
            .lock(Lock::SkipLocked);
        assert_eq!(
            p.finish().text,
            "SELECT doc::text, doc->'file'->>'id' FROM t FOR UPDATE SKIP LOCKED"
        );
    }

    #[test]
    fn rows_and_lists_bind_in_order() {
        let mut p = Statement::new(Dialect::Postgres);
        p.push("INSERT INTO t VALUES ")
            .row([Param::Int(1), Param::Text("x".into())])
            .push(", ")
            .row([Param::Int(2), Param::opt_text(None::<String>)]);
        let sql = p.finish();
        assert_eq!(
            sql.text,
            "INSERT INTO t VALUES ($1::int8, $2::text), ($3::int8, $4::text)"
        );
        assert_eq!(sql.params.len(), 4);
    }
}
