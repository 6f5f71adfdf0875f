//! How a resource's documents are stored and queried: its table, its schema and the typed
//! columns that mirror the fields filters and sorts hit most.

use super::schema::Node;

/// The SQL type of a mirrored column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text compared byte-wise.
    Text,
    /// A 24-hex object id as text (hex order is byte order).
    ObjectId,
    /// A date as integer seconds since the epoch.
    Date,
    /// Text lower-cased for case-insensitive search (`/customers?name=`). Never used to
    /// answer a `where`, whose comparisons are case-sensitive.
    Folded,
}

/// A typed column mirroring the document field at `path`.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub path: &'static str,
    pub name: &'static str,
    pub kind: ColumnKind,
    /// Invariant: this column is non-NULL exactly when the object at this path exists, so
    /// `{path: {"$exists": …}}` can be answered from the column. (`closed` always carries
    /// `close_date`, see `domain::case::Closed`.)
    pub presence_of: Option<&'static str>,
    /// Not a document field: set by the code that writes the document (a case's `due_at`),
    /// never used to answer a `where` or a `sort`.
    pub computed: bool,
}

impl Column {
    pub const fn new(path: &'static str, name: &'static str, kind: ColumnKind) -> Column {
        Column {
            path,
            name,
            kind,
            presence_of: None,
            computed: false,
        }
    }

    /// A column whose value the writer computes (see [`Column::computed`]).
    pub const fn computed(name: &'static str, kind: ColumnKind) -> Column {
        Column {
            path: "",
            name,
            kind,
            presence_of: None,
            computed: true,
        }
    }
}

/// The columns every resource table has.
pub const ID: Column = Column::new("_id", "id", ColumnKind::ObjectId);
pub const CREATED: Column = Column::new("_created", "created", ColumnKind::Date);
pub const UPDATED: Column = Column::new("_updated", "updated", ColumnKind::Date);

/// A collection served through the Eve layer.
#[derive(Debug)]
pub struct Resource {
    /// The URL name (`cases`).
    pub name: &'static str,
    /// The SQL table.
    pub table: &'static str,
    /// The document schema, meta fields included.
    pub schema: Node,
    /// Typed columns, `_id`, `_created` and `_updated` included.
    pub columns: Vec<Column>,
    /// Whether documents carry an `account` field (and column) to scope on.
    pub scoped_by_account: bool,
    /// How a caller bound to some creditors is restricted.
    pub creditor_scope: CreditorScope,
}

/// How a creditor-bound caller's view of a resource is restricted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditorScope {
    /// Not restricted by creditor (accounts).
    None,
    /// Rows whose column holds one of the caller's creditors (`creditor` on cases, `id` on
    /// creditors). NULL (an account-level document) is outside every creditor scope.
    Column(&'static str),
    /// Customers: those with at least one case at one of the caller's creditors.
    CustomersWithCases,
}

impl Resource {
    /// The column that answers queries on `path` (folded search columns never do).
    pub fn column_for(&self, path: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.path == path && c.kind != ColumnKind::Folded && !c.computed)
    }

    pub fn column_for_presence(&self, path: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.presence_of == Some(path))
    }
}
