//! Status columns read straight into the types of `weelo-orders` and
//! `weelo-availability` ([`Stored`]): a row's `status` is an
//! `OrderStatus`, never a string compared by hand. A name no status table
//! knows is a deserialisation error (the CHECK constraints make it
//! unreachable), never a silent default. Writes bind `as_str()`.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Text;
use weelo_availability::VehicleStatus;
use weelo_orders::{
    AssignmentStatus, CustomBookingStatus, DispatchState, HoldStatus, OrderStatus, TruckStatus,
};

/// A status read from a `TEXT` column (see the module doc).
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct Stored<T>(T);

/// A status type with stored names.
pub trait StoredName: Copy + Sized {
    /// The status called `name`, if any.
    fn from_stored(name: &str) -> Option<Self>;
    /// Its stored name.
    fn stored_name(self) -> &'static str;
}

/// The stored names of `statuses`, for SQL guards (`status = ANY(..)`).
pub fn names<T: StoredName>(statuses: &[T]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.stored_name()).collect()
}

impl<T: StoredName> FromSql<Text, Pg> for Stored<T> {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let name = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        T::from_stored(&name)
            .map(Stored)
            .ok_or_else(|| format!("unknown status {name:?}").into())
    }
}

macro_rules! stored {
    ($($status:ty),*) => {$(
        impl StoredName for $status {
            fn from_stored(name: &str) -> Option<Self> {
                <$status>::parse(name)
            }

            fn stored_name(self) -> &'static str {
                self.as_str()
            }
        }

        impl From<Stored<$status>> for $status {
            fn from(stored: Stored<$status>) -> Self {
                stored.0
            }
        }
    )*};
}

stored!(
    OrderStatus,
    DispatchState,
    TruckStatus,
    AssignmentStatus,
    HoldStatus,
    VehicleStatus,
    CustomBookingStatus
);
