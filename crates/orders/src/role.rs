//! The three kinds of account, as stored in `users.role` and carried in
//! access tokens.

use serde::{Deserialize, Serialize};

/// The three kinds of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Books trucks.
    Customer,
    /// Owns a fleet and takes orders.
    Transporter,
    /// Drives a transporter's truck.
    Driver,
}

impl Role {
    /// The lowercase name stored in `users.role` and sent to the apps.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Transporter => "transporter",
            Self::Driver => "driver",
        }
    }

    /// Parses a stored role.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "customer" => Some(Self::Customer),
            "transporter" => Some(Self::Transporter),
            "driver" => Some(Self::Driver),
            _ => None,
        }
    }
}
