//! Compiles a `where` filter, a sort and paging into parameterised SQL for SQLite or
//! PostgreSQL, following the semantics of [`super::eval`] (see QUERY-COMPILER.md).
//!
//! * Paths are resolved against the resource schema. Only paths the schema knows reach SQL,
//!   and even those are bound as parameters (JSON path strings / `text[]`), never spliced.
//!   A path the schema does not know is always missing, so it compiles to a constant.
//! * Fields mirrored in typed columns (`creditor`, `_created`, `closed.close_date`, …) compile
//!   to plain column predicates that the indexes serve.
//! * Stored dates are RFC 1123 strings; a date comparison rewrites the stored string into a
//!   sortable key in SQL (`date_key`) and compares it with [`HttpDate::sort_key`].
//! * Every predicate that could be SQL NULL is only ever negated as `(…) IS NOT TRUE`, so
//!   `$ne`, `$nin`, `$nor`, `$not` and `$exists: false` match missing fields.

use std::fmt::Write;

use super::filter::{Cond, Filter, Val};
use super::resource::{Column, ColumnKind, Resource};
use super::schema::Node;
use super::sort::Sort;
use super::QueryError;
use crate::sql::Statement;

pub use crate::sql::{Dialect, Param, Sql};

const TRUE: &str = "(1=1)";
const FALSE: &str = "(1=0)";
const MONTHS: &str = "JanFebMarAprMayJunJulAugSepOctNovDec";

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
        }
    }
}

/// JSON value kinds a location can be checked for.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Missing,
    Null,
    Num,
    Text,
    Bool,
    Array,
    Object,
}

/// An `$or` whose branches are each one equality on the same field, as one `$in`.
fn same_field_equalities(fs: &[Filter]) -> Option<Filter> {
    if fs.len() < 4 {
        return None;
    }
    let mut path = None;
    let mut values = Vec::with_capacity(fs.len());
    for f in fs {
        match f {
            Filter::Field { path: p, conds } if conds.len() == 1 => match (&conds[0], path) {
                (Cond::Eq(v), None) => {
                    path = Some(p);
                    values.push(v.clone());
                }
                (Cond::Eq(v), Some(q)) if q == p => values.push(v.clone()),
                _ => return None,
            },
            _ => return None,
        }
    }
    path.map(|p| Filter::any_of(p, values))
}

/// Where a value lives: at a JSON path under a base expression (`doc`, or an array element
/// that is an object), or an array element itself.
#[derive(Clone, Debug)]
enum Loc {
    Doc { base: String, path: Vec<String> },
    Elem(String),
}

impl Loc {
    fn child(&self, seg: &str) -> Loc {
        match self {
            Loc::Doc { base, path } => {
                let mut p = path.clone();
                p.push(seg.to_string());
                Loc::Doc {
                    base: base.clone(),
                    path: p,
                }
            }
            Loc::Elem(a) => Loc::Doc {
                base: format!("{a}.value"),
                path: vec![seg.to_string()],
            },
        }
    }
}

/// Compiles a resource's filter and sort into a [`Statement`]: the Eve layer's half of a
/// query (the store adds the scope and the paging).
pub struct Builder<'r> {
    d: Dialect,
    res: &'r Resource,
    out: Statement,
    aliases: usize,
}

impl<'r> Builder<'r> {
    pub fn new(d: Dialect, res: &'r Resource) -> Self {
        Builder {
            d,
            res,
            out: Statement::new(d),
            aliases: 0,
        }
    }

    /// The resource the statement is over.
    pub fn resource(&self) -> &'r Resource {
        self.res
    }

    pub fn finish(self) -> Sql {
        self.out.finish()
    }

    pub fn push(&mut self, s: &str) {
        self.out.push(s);
    }

    pub fn bind(&mut self, p: Param) {
        self.out.bind(p);
    }

    /// The statement being built, for what the store writes around the filter.
    pub fn statement(&mut self) -> &mut Statement {
        &mut self.out
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("e{}", self.aliases)
    }

    /// The filter as a boolean SQL expression over the table's row.
    pub fn filter(&mut self, f: &Filter) {
        let schema = &self.res.schema;
        self.filter_at(
            f,
            &Loc::Doc {
                base: "doc".into(),
                path: vec![],
            },
            schema,
            true,
        );
    }

    fn filter_at(&mut self, f: &Filter, base: &Loc, schema: &Node, top: bool) {
        match f {
            Filter::True => self.push(TRUE),
            Filter::And(fs) => self.join(fs, " AND ", base, schema, top, false),
            Filter::Or(fs) => match same_field_equalities(fs) {
                // `{$or: [{p: a}, {p: b}, …]}` is `{p: {$in: [a, b, …]}}`: one walk, one list.
                Some(f) => self.filter_at(&f, base, schema, top),
                None => self.join(fs, " OR ", base, schema, top, false),
            },
            Filter::Nor(fs) => self.join(fs, " AND ", base, schema, top, true),
            Filter::Field { path, conds } => {
                if conds.is_empty() {
                    self.push(TRUE);
                    return;
                }
                self.push("(");
                for (i, c) in conds.iter().enumerate() {
                    if i > 0 {
                        self.push(" AND ");
                    }
                    self.field_cond(path, c, base, schema, top);
                }
                self.push(")");
            }
        }
    }

    fn join(
        &mut self,
        fs: &[Filter],
        sep: &str,
        base: &Loc,
        schema: &Node,
        top: bool,
        negate: bool,
    ) {
        self.balanced(fs, sep, &mut |b: &mut Self, f: &Filter| {
            b.push("(");
            b.filter_at(f, base, schema, top);
            b.push(if negate { ") IS NOT TRUE" } else { ")" });
        });
    }

    /// One condition on a field path, negations first (they negate the whole walk).
    fn field_cond(&mut self, path: &str, c: &Cond, base: &Loc, schema: &Node, top: bool) {
        if top && self.column_negation(path, c) {
            return;
        }
        // `{path: {$all: [a, b]}}` is `{path: a} AND {path: b}`: through an array of
        // documents each value may be found in a different element.
        if let Cond::All(vs) = c {
            if vs.is_empty() {
                return self.push(FALSE);
            }
            self.push("(");
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    self.push(" AND ");
                }
                self.field_cond(path, &Cond::Eq(v.clone()), base, schema, top);
            }
            self.push(")");
            return;
        }
        if let Some(pos) = positive_of(c) {
            self.push("((");
            match pos {
                Positive::One(p) => self.field_cond(path, &p, base, schema, top),
                Positive::All(cs) => {
                    for (i, p) in cs.iter().enumerate() {
                        if i > 0 {
                            self.push(" AND ");
                        }
                        self.field_cond(path, p, base, schema, top);
                    }
                }
            }
            self.push(") IS NOT TRUE)");
            return;
        }
        if top {
            if let Some(col) = self.res.column_for(path).copied() {
                return self.column_cond(&col, c);
            }
            if let Some(col) = self.res.column_for_presence(path).copied() {
                match c {
                    Cond::Exists(true) => return self.push(&format!("({} IS NOT NULL)", col.name)),
                    Cond::Eq(Val::Null) => return self.push(&format!("({} IS NULL)", col.name)),
                    _ => {}
                }
            }
        }
        let segs: Vec<&str> = path.split('.').collect();
        self.walk(base.clone(), schema, &segs, c);
    }

    /// The common negations on typed columns, written so an index can serve them
    /// (`closed_at IS NULL` rather than `(closed_at IS NOT NULL) IS NOT TRUE`).
    fn column_negation(&mut self, path: &str, c: &Cond) -> bool {
        let col = self
            .res
            .column_for(path)
            .or_else(|| self.res.column_for_presence(path))
            .copied();
        let Some(col) = col else { return false };
        let name = col.name;
        let whole = col.presence_of == Some(path);
        match c {
            Cond::Exists(false) => self.push(&format!("({name} IS NULL)")),
            Cond::Ne(Val::Null) => self.push(&format!("({name} IS NOT NULL)")),
            Cond::Ne(v) if !whole => {
                let param = match (col.kind, v) {
                    (ColumnKind::Text, Val::Str(s)) => Param::Text(s.clone()),
                    (ColumnKind::ObjectId, Val::Oid(o)) => Param::Text(o.to_hex()),
                    (ColumnKind::Date, Val::Date(d)) => Param::Int(d.unix()),
                    // Another type never equals the column: every document matches.
                    _ => {
                        self.push(TRUE);
                        return true;
                    }
                };
                self.push(&format!("({name} IS NULL OR {name} <> "));
                self.bind(param);
                self.push(")");
            }
            _ => return false,
        }
        true
    }

    fn walk(&mut self, loc: Loc, node: &Node, segs: &[&str], c: &Cond) {
        let Some((seg, rest)) = segs.split_first() else {
            return self.leaf(&loc, node, c);
        };
        match node {
            Node::Object(fields) => match fields.get(*seg) {
                Some(child) => self.walk(loc.child(seg), child, rest, c),
                None => self.constant(matches_missing(c)),
            },
            Node::Array(elem) => {
                if seg.parse::<usize>().is_ok() {
                    return self.walk(loc.child(seg), elem, rest, c);
                }
                self.push("(");
                if matches_missing(c) {
                    self.push("(");
                    self.is(&loc, Kind::Missing);
                    self.push(" OR ");
                    self.is(&loc, Kind::Null);
                    self.push(") OR ");
                }
                let a = self.each_open(&loc);
                self.walk(Loc::Elem(a), elem, segs, c);
                self.push(")))");
            }
            Node::Any => self.walk(loc.child(seg), &Node::Any, rest, c),
            _ => self.constant(matches_missing(c)),
        }
    }

    /// Opens `EXISTS (SELECT 1 FROM <elements of loc> AS eN WHERE <loc is an array> AND (`
    /// and returns `eN`; the caller writes the element condition and closes with `))`.
    fn each_open(&mut self, loc: &Loc) -> String {
        let a = self.alias();
        match self.d {
            Dialect::Sqlite => {
                self.push("EXISTS (SELECT 1 FROM ");
                match loc {
                    Loc::Doc { base, path } => {
                        let _ = write!(self.out, "json_each({base}, ");
                        self.bind(Param::Text(sqlite_path(path)));
                        self.push(")");
                    }
                    Loc::Elem(e) => {
                        let _ = write!(self.out, "json_each({e}.value)");
                    }
                }
                let _ = write!(self.out, " AS {a} WHERE ");
                self.is(loc, Kind::Array);
                self.push(" AND (");
            }
            Dialect::Postgres => {
                self.push("EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN ");
                self.is(loc, Kind::Array);
                self.push(" THEN ");
                self.jsonb(loc);
                let _ = write!(self.out, " END) AS {a}(value) WHERE (");
            }
        }
        a
    }

    fn constant(&mut self, b: bool) {
        self.push(if b { TRUE } else { FALSE });
    }

    /// A positive condition at the end of a path.
    fn leaf(&mut self, loc: &Loc, node: &Node, c: &Cond) {
        if let Some(pos) = positive_of(c) {
            // Negation inside $elemMatch operators applies to the element.
            self.push("((");
            match pos {
                Positive::One(p) => self.leaf(loc, node, &p),
                Positive::All(cs) => {
                    for (i, p) in cs.iter().enumerate() {
                        if i > 0 {
                            self.push(" AND ");
                        }
                        self.leaf(loc, node, p);
                    }
                }
            }
            self.push(") IS NOT TRUE)");
            return;
        }
        match c {
            Cond::Eq(Val::Null) | Cond::Gte(Val::Null) | Cond::Lte(Val::Null) => {
                self.push("(");
                self.is(loc, Kind::Missing);
                self.push(" OR ");
                self.is(loc, Kind::Null);
                if let Node::Array(_) = node {
                    self.push(" OR ");
                    let a = self.each_open(loc);
                    self.is(&Loc::Elem(a), Kind::Null);
                    self.push("))");
                }
                self.push(")");
            }
            Cond::Gt(Val::Null) | Cond::Lt(Val::Null) => self.push(FALSE),
            Cond::Eq(v) => self.compare_any(loc, node, Op::Eq, v),
            Cond::Gt(v) => self.compare_any(loc, node, Op::Gt, v),
            Cond::Gte(v) => self.compare_any(loc, node, Op::Gte, v),
            Cond::Lt(v) => self.compare_any(loc, node, Op::Lt, v),
            Cond::Lte(v) => self.compare_any(loc, node, Op::Lte, v),
            Cond::In(vs) if self.in_list(loc, node, vs) => {}
            Cond::In(vs) => self.any_of(vs, |b, v| b.leaf(loc, node, &Cond::Eq(v.clone())), " OR "),
            Cond::All(vs) => {
                self.any_of(vs, |b, v| b.leaf(loc, node, &Cond::Eq(v.clone())), " AND ")
            }
            Cond::Exists(_) => {
                self.push("(NOT ");
                self.is(loc, Kind::Missing);
                self.push(")");
            }
            Cond::Size(n) => {
                self.push("(");
                match self.d {
                    Dialect::Sqlite => {
                        self.is(loc, Kind::Array);
                        self.push(" AND ");
                        match loc {
                            Loc::Doc { base, path } => {
                                let _ = write!(self.out, "json_array_length({base}, ");
                                self.bind(Param::Text(sqlite_path(path)));
                                self.push(")");
                            }
                            Loc::Elem(e) => {
                                let _ = write!(self.out, "json_array_length({e}.value)");
                            }
                        }
                    }
                    Dialect::Postgres => {
                        self.push("CASE WHEN ");
                        self.is(loc, Kind::Array);
                        self.push(" THEN jsonb_array_length(");
                        self.jsonb(loc);
                        self.push(") END");
                    }
                }
                self.push(" = ");
                self.bind(Param::Int(*n));
                self.push(")");
            }
            Cond::ElemMatchDoc(f) => match node {
                Node::Array(elem) => {
                    let a = self.each_open(loc);
                    let el = Loc::Elem(a);
                    self.is(&el, Kind::Object);
                    self.push(" AND ");
                    self.filter_at(f, &el, elem, false);
                    self.push("))");
                }
                _ => self.push(FALSE),
            },
            Cond::ElemMatchOps(cs) => match node {
                Node::Array(elem) => {
                    let a = self.each_open(loc);
                    let el = Loc::Elem(a);
                    for (i, c) in cs.iter().enumerate() {
                        if i > 0 {
                            self.push(" AND ");
                        }
                        self.leaf(&el, elem, c);
                    }
                    self.push("))");
                }
                _ => self.push(FALSE),
            },
            Cond::Ne(_) | Cond::Nin(_) | Cond::Not(_) => self.push(FALSE), // handled above
        }
    }

    /// `$in` of plain numbers on a number field, or of plain strings on a string field: the
    /// value is read once and looked up in an `IN` list, rather than compared once per
    /// value (500 values on every element of every case's ledger is seconds). `false` when
    /// the values or the field are of another kind; the caller then writes the general form.
    fn in_list(&mut self, loc: &Loc, node: &Node, vs: &[Val]) -> bool {
        let numbers = matches!(node, Node::Number) && vs.iter().all(|v| matches!(v, Val::Num(_)));
        let strings = matches!(node, Node::String) && vs.iter().all(|v| matches!(v, Val::Str(_)));
        if vs.len() < 4 || !(numbers || strings) {
            return false;
        }
        let kind = if numbers { Kind::Num } else { Kind::Text };
        self.guarded(loc, kind, |b| {
            match (b.d, numbers) {
                (Dialect::Postgres, true) => b.jsonb(loc),
                _ => b.text(loc),
            }
            b.push(" IN (");
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    b.push(", ");
                }
                match (v, b.d) {
                    (Val::Num(n), Dialect::Postgres) => {
                        b.push("to_jsonb(");
                        b.bind(Param::Float(*n));
                        b.push(")");
                    }
                    (Val::Num(n), Dialect::Sqlite) => b.bind(Param::Float(*n)),
                    (Val::Str(t), _) => b.bind(Param::Text(t.clone())),
                    _ => b.push("NULL"),
                }
            }
            b.push(")");
        });
        true
    }

    fn any_of(&mut self, vs: &[Val], mut each: impl FnMut(&mut Self, &Val), sep: &str) {
        if vs.is_empty() {
            return self.push(FALSE);
        }
        self.balanced(vs, sep, &mut each);
    }

    /// `(a SEP b SEP …)` grouped as a balanced tree, so the expression is as deep as the log of
    /// its length: a left-deep chain of 500 `OR`s would come near SQLite's depth limit of 1,000.
    fn balanced<T>(&mut self, items: &[T], sep: &str, each: &mut impl FnMut(&mut Self, &T)) {
        const FLAT: usize = 8;
        self.push("(");
        if items.len() <= FLAT {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    self.push(sep);
                }
                each(self, item);
            }
        } else {
            let step = items.len().div_ceil(FLAT);
            for (i, chunk) in items.chunks(step).enumerate() {
                if i > 0 {
                    self.push(sep);
                }
                self.balanced(chunk, sep, each);
            }
        }
        self.push(")");
    }

    /// A comparison where an array at the end of the path matches by any element, or (for
    /// equality with an array value) as a whole.
    fn compare_any(&mut self, loc: &Loc, node: &Node, op: Op, v: &Val) {
        match node {
            Node::Array(elem) => {
                self.push("(");
                if op == Op::Eq && matches!(v, Val::Array(_)) {
                    self.compare(loc, node, op, v);
                    self.push(" OR ");
                }
                let a = self.each_open(loc);
                self.compare(&Loc::Elem(a), elem, op, v);
                self.push(")))");
            }
            _ => self.compare(loc, node, op, v),
        }
    }

    /// A comparison between the value at `loc` (of schema type `node`) and `v`; values of
    /// another type never compare (type bracketing).
    fn compare(&mut self, loc: &Loc, node: &Node, op: Op, v: &Val) {
        match (node, v) {
            // Strings, ids and dates are all stored as text; dates compare via their sort key.
            (Node::String | Node::Any, Val::Str(_))
            | (Node::ObjectId, Val::Oid(_))
            | (Node::Date, Val::Date(_)) => {
                let (param, is_date) = match v {
                    Val::Str(s) => (s.clone(), false),
                    Val::Oid(o) => (o.to_hex(), false),
                    Val::Date(d) => (d.sort_key(), true),
                    _ => unreachable!("matched above"),
                };
                self.guarded(loc, Kind::Text, |b| {
                    if is_date {
                        b.date_key(loc);
                    } else {
                        b.text(loc);
                    }
                    b.push(" ");
                    b.push(op.sql());
                    b.push(" ");
                    b.bind(Param::Text(param));
                });
            }
            (Node::Number | Node::Any, Val::Num(n)) => {
                self.guarded(loc, Kind::Num, |b| {
                    match b.d {
                        Dialect::Sqlite => b.text(loc),
                        Dialect::Postgres => b.jsonb(loc),
                    }
                    b.push(" ");
                    b.push(op.sql());
                    b.push(" ");
                    if b.d == Dialect::Postgres {
                        b.push("to_jsonb(");
                        b.bind(Param::Float(*n));
                        b.push(")");
                    } else {
                        b.bind(Param::Float(*n));
                    }
                });
            }
            (Node::Bool | Node::Any, Val::Bool(x)) => {
                // false < true: reduce every comparison to "is true" / "is false" / "is a bool".
                let want: Option<Option<bool>> = match (op, x) {
                    (Op::Eq, x) => Some(Some(*x)),
                    (Op::Gt, false) | (Op::Gte, true) => Some(Some(true)),
                    (Op::Lt, true) | (Op::Lte, false) => Some(Some(false)),
                    (Op::Gte, false) | (Op::Lte, true) => Some(None),
                    (Op::Gt, true) | (Op::Lt, false) => None,
                };
                match want {
                    None => self.push(FALSE),
                    Some(None) => self.is(loc, Kind::Bool),
                    Some(Some(b)) => self.is_bool(loc, b),
                }
            }
            (Node::Object(_) | Node::Any, Val::Object(fields)) if op == Op::Eq => {
                self.object_eq(loc, node, fields)
            }
            (Node::Array(elem), Val::Array(items)) if op == Op::Eq => {
                self.array_eq(loc, elem, items)
            }
            (Node::Any, Val::Array(items)) if op == Op::Eq => self.array_eq(loc, &Node::Any, items),
            _ => self.push(FALSE),
        }
    }

    /// Embedded-document equality: an object with exactly these keys, each value equal
    /// (key order is not compared; see `eval`).
    fn object_eq(&mut self, loc: &Loc, node: &Node, fields: &[(String, Val)]) {
        self.push("(");
        self.is(loc, Kind::Object);
        self.push(" AND ");
        self.child_count(loc, false);
        self.push(" = ");
        self.bind(Param::Int(fields.len() as i64));
        for (k, v) in fields {
            self.push(" AND ");
            let child = loc.child(k);
            let child_node = match node {
                Node::Any => &Node::Any,
                n => match n.field(k) {
                    Some(c) => c,
                    None => {
                        self.push(FALSE);
                        continue;
                    }
                },
            };
            self.value_eq(&child, child_node, v);
        }
        self.push(")");
    }

    /// Whole-array equality, element by element.
    fn array_eq(&mut self, loc: &Loc, elem: &Node, items: &[Val]) {
        self.push("(");
        self.is(loc, Kind::Array);
        self.push(" AND ");
        self.child_count(loc, true);
        self.push(" = ");
        self.bind(Param::Int(items.len() as i64));
        for (i, v) in items.iter().enumerate() {
            self.push(" AND ");
            self.value_eq(&loc.child(&i.to_string()), elem, v);
        }
        self.push(")");
    }

    /// Equality of a value nested in an embedded document or array.
    fn value_eq(&mut self, loc: &Loc, node: &Node, v: &Val) {
        match v {
            Val::Null => self.is(loc, Kind::Null),
            Val::Object(f) => self.object_eq(loc, node, f),
            Val::Array(items) => match node {
                Node::Array(elem) => self.array_eq(loc, elem, items),
                Node::Any => self.array_eq(loc, &Node::Any, items),
                _ => self.push(FALSE),
            },
            other => self.compare(loc, node, Op::Eq, other),
        }
    }

    /// Number of keys (objects) or elements (arrays) of the value at `loc`.
    fn child_count(&mut self, loc: &Loc, array: bool) {
        match self.d {
            Dialect::Sqlite => {
                self.push("(SELECT count(*) FROM ");
                match loc {
                    Loc::Doc { base, path } => {
                        let _ = write!(self.out, "json_each({base}, ");
                        self.bind(Param::Text(sqlite_path(path)));
                        self.push("))");
                    }
                    Loc::Elem(e) => {
                        let _ = write!(self.out, "json_each({e}.value))");
                    }
                }
            }
            Dialect::Postgres => {
                let (f, kind) = if array {
                    ("jsonb_array_elements", Kind::Array)
                } else {
                    ("jsonb_object_keys", Kind::Object)
                };
                let _ = write!(self.out, "(SELECT count(*) FROM {f}(CASE WHEN ");
                self.is(loc, kind);
                self.push(" THEN ");
                self.jsonb(loc);
                self.push(" END))");
            }
        }
    }

    fn guarded(&mut self, loc: &Loc, kind: Kind, body: impl FnOnce(&mut Self)) {
        self.push("(");
        self.is(loc, kind);
        self.push(" AND ");
        body(self);
        self.push(")");
    }

    /// A type check on the value at `loc`.
    fn is(&mut self, loc: &Loc, kind: Kind) {
        match self.d {
            Dialect::Sqlite => {
                match loc {
                    Loc::Doc { base, path } => {
                        let _ = write!(self.out, "json_type({base}, ");
                        self.bind(Param::Text(sqlite_path(path)));
                        self.push(")");
                    }
                    Loc::Elem(e) => {
                        let _ = write!(self.out, "{e}.type");
                    }
                }
                self.push(match kind {
                    Kind::Missing => " IS NULL",
                    Kind::Null => " = 'null'",
                    Kind::Num => " IN ('integer', 'real')",
                    Kind::Text => " = 'text'",
                    Kind::Bool => " IN ('true', 'false')",
                    Kind::Array => " = 'array'",
                    Kind::Object => " = 'object'",
                });
            }
            Dialect::Postgres => {
                if kind == Kind::Missing {
                    self.push("(");
                    self.jsonb(loc);
                    self.push(" IS NULL)");
                    return;
                }
                self.push("jsonb_typeof(");
                self.jsonb(loc);
                self.push(match kind {
                    Kind::Null => ") = 'null'",
                    Kind::Num => ") = 'number'",
                    Kind::Text => ") = 'string'",
                    Kind::Bool => ") = 'boolean'",
                    Kind::Array => ") = 'array'",
                    Kind::Object => ") = 'object'",
                    Kind::Missing => ")",
                });
            }
        }
    }

    fn is_bool(&mut self, loc: &Loc, b: bool) {
        match self.d {
            Dialect::Sqlite => {
                // json_type says 'true' or 'false'; compare it directly.
                match loc {
                    Loc::Doc { base, path } => {
                        let _ = write!(self.out, "json_type({base}, ");
                        self.bind(Param::Text(sqlite_path(path)));
                        self.push(")");
                    }
                    Loc::Elem(e) => {
                        let _ = write!(self.out, "{e}.type");
                    }
                }
                self.push(if b { " = 'true'" } else { " = 'false'" });
            }
            Dialect::Postgres => {
                self.jsonb(loc);
                self.push(if b {
                    " = 'true'::jsonb"
                } else {
                    " = 'false'::jsonb"
                });
            }
        }
    }

    /// The value at `loc` as an SQL scalar (text for strings; numbers in SQLite).
    fn text(&mut self, loc: &Loc) {
        match (self.d, loc) {
            (Dialect::Sqlite, Loc::Doc { base, path }) => {
                let _ = write!(self.out, "json_extract({base}, ");
                self.bind(Param::Text(sqlite_path(path)));
                self.push(")");
            }
            (Dialect::Sqlite, Loc::Elem(e)) => {
                let _ = write!(self.out, "{e}.value");
            }
            (Dialect::Postgres, Loc::Doc { base, path }) => {
                let _ = write!(self.out, "({base} #>> ");
                self.bind(Param::TextArray(path.clone()));
                self.push(") COLLATE \"C\"");
            }
            (Dialect::Postgres, Loc::Elem(e)) => {
                let _ = write!(self.out, "({e}.value #>> '{{}}') COLLATE \"C\"");
            }
        }
    }

    /// The value at `loc` as `jsonb` (PostgreSQL only).
    fn jsonb(&mut self, loc: &Loc) {
        match loc {
            Loc::Doc { base, path } => {
                if path.is_empty() {
                    let _ = write!(self.out, "{base}");
                    return;
                }
                let _ = write!(self.out, "({base} #> ");
                self.bind(Param::TextArray(path.clone()));
                self.push(")");
            }
            Loc::Elem(e) => {
                let _ = write!(self.out, "{e}.value");
            }
        }
    }

    /// A stored RFC 1123 string rewritten to `YYYY` + month position + `DD` + `HH:MM:SS`,
    /// the same key [`crate::domain::HttpDate::sort_key`] produces. Stored dates are always
    /// canonical (two-digit day, `GMT`), so fixed offsets are safe.
    fn date_key(&mut self, loc: &Loc) {
        match self.d {
            Dialect::Sqlite => {
                self.push("(substr(");
                self.text(loc);
                self.push(", 13, 4) || printf('%02d', instr('");
                self.push(MONTHS);
                self.push("', substr(");
                self.text(loc);
                self.push(", 9, 3))) || substr(");
                self.text(loc);
                self.push(", 6, 2) || substr(");
                self.text(loc);
                self.push(", 18, 8))");
            }
            Dialect::Postgres => {
                self.push("(substr(");
                self.text(loc);
                self.push(", 13, 4) || lpad(strpos('");
                self.push(MONTHS);
                self.push("', substr(");
                self.text(loc);
                self.push(", 9, 3))::text, 2, '0') || substr(");
                self.text(loc);
                self.push(", 6, 2) || substr(");
                self.text(loc);
                self.push(", 18, 8)) COLLATE \"C\"");
            }
        }
    }

    /// A column predicate; columns are never JSON null, only SQL NULL for "missing".
    fn column_cond(&mut self, col: &Column, c: &Cond) {
        let bind_val = |b: &mut Self, v: &Val| -> bool {
            match (col.kind, v) {
                (ColumnKind::Text, Val::Str(s)) => b.bind(Param::Text(s.clone())),
                (ColumnKind::ObjectId, Val::Oid(o)) => b.bind(Param::Text(o.to_hex())),
                (ColumnKind::Date, Val::Date(d)) => b.bind(Param::Int(d.unix())),
                _ => return false,
            }
            true
        };
        let name = col.name;
        match c {
            Cond::Eq(Val::Null) | Cond::Gte(Val::Null) | Cond::Lte(Val::Null) => {
                self.push(&format!("({name} IS NULL)"))
            }
            Cond::Gt(Val::Null) | Cond::Lt(Val::Null) => self.push(FALSE),
            Cond::Eq(v) | Cond::Gt(v) | Cond::Gte(v) | Cond::Lt(v) | Cond::Lte(v) => {
                let op = match c {
                    Cond::Eq(_) => Op::Eq,
                    Cond::Gt(_) => Op::Gt,
                    Cond::Gte(_) => Op::Gte,
                    Cond::Lt(_) => Op::Lt,
                    _ => Op::Lte,
                };
                let mark = self.out.mark();
                self.push(&format!("{name} {} ", op.sql()));
                if !bind_val(self, v) {
                    self.out.rewind(mark);
                    self.push(FALSE);
                }
            }
            Cond::In(vs) => {
                let null = vs.contains(&Val::Null);
                let typed: Vec<&Val> = vs
                    .iter()
                    .filter(|v| {
                        matches!(
                            (col.kind, v),
                            (ColumnKind::Text, Val::Str(_))
                                | (ColumnKind::ObjectId, Val::Oid(_))
                                | (ColumnKind::Date, Val::Date(_))
                        )
                    })
                    .collect();
                self.push("(");
                if typed.is_empty() {
                    self.push(FALSE);
                } else {
                    self.push(&format!("{name} IN ("));
                    for (i, v) in typed.iter().enumerate() {
                        if i > 0 {
                            self.push(", ");
                        }
                        bind_val(self, v);
                    }
                    self.push(")");
                }
                if null {
                    self.push(&format!(" OR {name} IS NULL"));
                }
                self.push(")");
            }
            Cond::All(vs) => {
                if vs.is_empty() {
                    return self.push(FALSE);
                }
                self.push("(");
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        self.push(" AND ");
                    }
                    self.column_cond(col, &Cond::Eq(v.clone()));
                }
                self.push(")");
            }
            Cond::Exists(_) => self.push(&format!("({name} IS NOT NULL)")),
            // Scalars are not arrays: no size, no element matches.
            Cond::Size(_) | Cond::ElemMatchDoc(_) | Cond::ElemMatchOps(_) => self.push(FALSE),
            Cond::Ne(_) | Cond::Nin(_) | Cond::Not(_) => self.push(FALSE), // handled by field_cond
        }
    }

    /// `ORDER BY …`, always ending with `id` so paging is stable. Missing and null sort
    /// first ascending, as in MongoDB.
    pub fn order_by(&mut self, sort: &Sort) -> Result<(), QueryError> {
        self.push(" ORDER BY ");
        let mut last_desc = false;
        for key in &sort.0 {
            if key.path == "_id" {
                // Ids are unique: keys after `_id` cannot change the order.
                self.push(if key.descending { "id DESC" } else { "id ASC" });
                return Ok(());
            }
            last_desc = key.descending;
            let mark = self.out.mark();
            if !self.sort_expr(&key.path, key.descending)? {
                // Unknown paths sort nothing (every value is missing).
                self.out.rewind(mark);
                continue;
            }
            self.push(if key.descending { " DESC" } else { " ASC" });
            if self.d == Dialect::Postgres {
                self.push(if key.descending {
                    " NULLS LAST"
                } else {
                    " NULLS FIRST"
                });
            }
            self.push(", ");
            last_desc = key.descending;
        }
        self.push(if last_desc { "id DESC" } else { "id ASC" });
        Ok(())
    }

    fn sort_expr(&mut self, path: &str, descending: bool) -> Result<bool, QueryError> {
        if let Some(col) = self.res.column_for(path) {
            self.push(col.name);
            return Ok(true);
        }
        let segs: Vec<&str> = path.split('.').collect();
        let mut node = &self.res.schema;
        let mut loc = Loc::Doc {
            base: "doc".into(),
            path: vec![],
        };
        let mut array_at: Option<(Loc, usize)> = None;
        for (i, seg) in segs.iter().enumerate() {
            node = match node {
                Node::Object(f) => match f.get(*seg) {
                    Some(n) => n,
                    None => return Ok(false),
                },
                Node::Array(elem) if seg.parse::<usize>().is_ok() => elem,
                Node::Array(elem) => {
                    if array_at.is_some() {
                        return Err(QueryError::SortPath(path.to_string()));
                    }
                    array_at = Some((loc.clone(), i));
                    loc = Loc::Elem("s".into());
                    match elem.as_ref() {
                        Node::Object(f) => match f.get(*seg) {
                            Some(n) => n,
                            None => return Ok(false),
                        },
                        _ => return Ok(false),
                    }
                }
                _ => return Ok(false),
            };
            loc = loc.child(seg);
        }
        if matches!(node, Node::Array(_)) {
            return Err(QueryError::SortPath(path.to_string()));
        }
        match array_at {
            None => self.sort_value(&loc, node),
            Some((arr, _)) => {
                // Mongo sorts arrays by their smallest element ascending, largest descending.
                let agg = if descending { "MAX" } else { "MIN" };
                let _ = write!(self.out, "(SELECT {agg}(");
                self.sort_value(&loc, node);
                self.push(") FROM ");
                match self.d {
                    Dialect::Sqlite => {
                        let Loc::Doc { base, path } = &arr else {
                            return Ok(false);
                        };
                        let _ = write!(self.out, "json_each({base}, ");
                        self.bind(Param::Text(sqlite_path(path)));
                        self.push(") AS s)");
                    }
                    Dialect::Postgres => {
                        self.push("jsonb_array_elements(CASE WHEN ");
                        self.is(&arr, Kind::Array);
                        self.push(" THEN ");
                        self.jsonb(&arr);
                        self.push(" END) AS s(value))");
                    }
                }
            }
        }
        Ok(true)
    }

    fn sort_value(&mut self, loc: &Loc, node: &Node) {
        match (node, self.d) {
            (Node::Date, _) => self.date_key(loc),
            (Node::Number, Dialect::Postgres) => {
                self.push("CASE WHEN ");
                self.is(loc, Kind::Num);
                self.push(" THEN (");
                self.jsonb(loc);
                self.push(" #>> '{}')::float8 END");
            }
            (Node::Object(_) | Node::Any, Dialect::Postgres) => self.jsonb(loc),
            _ => self.text(loc),
        }
    }
}

/// Whether a positive condition holds for a missing value.
fn matches_missing(c: &Cond) -> bool {
    match c {
        Cond::Eq(Val::Null) | Cond::Gte(Val::Null) | Cond::Lte(Val::Null) => true,
        Cond::In(vs) => vs.contains(&Val::Null),
        _ => false,
    }
}

enum Positive<'a> {
    One(Cond),
    All(&'a [Cond]),
}

/// For a negative condition, the positive one it negates.
fn positive_of(c: &Cond) -> Option<Positive<'_>> {
    match c {
        Cond::Ne(v) => Some(Positive::One(Cond::Eq(v.clone()))),
        Cond::Nin(vs) => Some(Positive::One(Cond::In(vs.clone()))),
        Cond::Exists(false) => Some(Positive::One(Cond::Exists(true))),
        Cond::Not(cs) => Some(Positive::All(cs)),
        _ => None,
    }
}

/// `$."a"."b"[0]` for SQLite's JSON functions.
fn sqlite_path(path: &[String]) -> String {
    let mut s = String::from("$");
    for seg in path {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            let _ = write!(s, "[{seg}]");
        } else {
            s.push_str(".\"");
            s.push_str(&seg.replace('"', "\\\""));
            s.push('"');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_quote_keys_and_index_arrays() {
        assert_eq!(
            sqlite_path(&["debt".into(), "invoice_number".into()]),
            r#"$."debt"."invoice_number""#
        );
        assert_eq!(
            sqlite_path(&["transactions".into(), "0".into()]),
            r#"$."transactions"[0]"#
        );
    }
}
