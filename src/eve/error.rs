//! Errors in query parameters. Each becomes a 400 envelope; the messages are the ones Eve
//! shows with DEBUG on, which say what is wrong (Eve's production text is a generic
//! "The browser (or proxy) sent a request that this server could not understand.").

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("Unable to parse `where` clause")]
    WhereSyntax,
    #[error("Unable to parse `where` clause: {0}")]
    WhereSyntaxAt(String),
    #[error("Unable to parse `where` clause: it must be a JSON object")]
    WhereNotObject,
    #[error("Query contains unknown or unsupported operators: {0}")]
    UnknownOperator(String),
    #[error("Query contains operators banned in MONGO_QUERY_BLACKLIST: {0}")]
    BannedOperator(String),
    #[error("Query contains an operator this server does not support: {0}")]
    UnsupportedOperator(String),
    #[error("Operator {0} expects {1}")]
    BadOperand(String, &'static str),
    #[error("Invalid field path '{0}'")]
    BadPath(String),
    #[error("Unable to parse `projection` clause")]
    Projection,
    #[error("Unable to parse `sort` clause")]
    Sort,
    #[error("Sorting on '{0}' is not supported")]
    SortPath(String),
}
