//! Statements kept prepared on their connection.
//!
//! Diesel prepares a statement once per connection and reuses it only when
//! it can prove that the statement's SQL text cannot vary with the data: it
//! refuses for every `UPDATE`, every upsert with `DO UPDATE`, raw SQL and
//! several other shapes, so each of those is parsed, planned and closed
//! again on every call (an extra round trip, and for the order create
//! statement about a millisecond of PostgreSQL's time). [`cached`] marks a
//! statement whose text is fixed by the code that builds it as safe to keep.
//!
//! The cache is keyed by the SQL text and the bind types, so a wrapped
//! statement whose text did vary would still run correctly; it would only
//! keep one prepared statement per variant. Wrap only statements whose
//! text has a small, fixed number of shapes.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// A statement the connection may keep prepared; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct Cached<Q>(Q);

/// Marks `query`, whose SQL text does not depend on its values, as safe to
/// keep prepared on the connection.
pub fn cached<Q>(query: Q) -> Cached<Q> {
    Cached(query)
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    // Keyed by SQL text: the inner statement's type may not identify its
    // text (raw SQL), so no static id is claimed.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}
