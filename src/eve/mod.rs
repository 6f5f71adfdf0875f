//! The generic Eve REST layer (eve-wire.md): `where`, `projection`, `sort`, paging, and how
//! a resource's documents are described to the query compiler. Written once, reused by every
//! resource.

pub mod error;
pub mod eval;
pub mod filter;
pub mod limits;
pub mod literal;
pub mod paging;
pub mod projection;
pub mod python_where;
pub mod resource;
pub mod schema;
pub mod sort;
pub mod sql;
pub mod validate;

pub use error::QueryError;
pub use filter::{Cond, Filter, Val};
pub use paging::Paging;
pub use projection::Projection;
pub use resource::Resource;
pub use schema::Node;
pub use sort::{Sort, SortKey};
