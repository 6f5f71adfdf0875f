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
    #[error("Query too large: {0}")]
    TooLarge(String),
    #[error("Query too expensive: it did not finish within the server's {} ms budget; narrow the filter (the typed fields such as state, status, creditor, customer_id_number and the dates are indexed) or page through smaller results", .0.as_millis())]
    TooSlow(std::time::Duration),
    #[error("Sorting on '{0}' is not supported")]
    SortPath(String),
}
