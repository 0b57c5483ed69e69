//! JSON text bound as `jsonb` as it is: an answer serialized once is
//! written without being parsed back into a `serde_json::Value` first.

use std::io::Write;

use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Jsonb;

/// JSON text bound as `jsonb` (PostgreSQL checks that it is JSON).
#[derive(Debug, Clone, Copy, diesel::expression::AsExpression)]
#[diesel(sql_type = Jsonb)]
pub struct RawJson<'a>(pub &'a str);

impl ToSql<Jsonb, Pg> for RawJson<'_> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // The binary form of jsonb: a version byte, then the text.
        out.write_all(&[1])?;
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}
