//! Socket handshakes authenticated with the same access tokens as HTTP.

use futures_util::future::BoxFuture;
use serde_json::Value;
use uuid::Uuid;
use weelo_persistence::orders;
use weelo_realtime::{Gatekeeper, Identity};

use crate::AppState;
use crate::auth::Role;
use crate::auth::extract::authenticate;

/// Checks `auth.token` and gives the socket its rooms.
pub struct TokenGate {
    state: AppState,
}

impl TokenGate {
    /// A gate over the application's state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl Gatekeeper for TokenGate {
    fn connect<'a>(&'a self, auth: &'a Value) -> BoxFuture<'a, Result<Identity, String>> {
        Box::pin(async move {
            let token = auth.get("token").and_then(Value::as_str);
            let caller = authenticate(&self.state, token)
                .await
                .map_err(|error| error.to_string())?;
            let role = caller.role.as_str();
            Ok(Identity {
                user_id: caller.user_id,
                role: role.to_owned(),
                rooms: vec![
                    format!("user:{}", caller.user_id),
                    format!("{role}:{}", caller.user_id),
                ],
            })
        })
    }

    fn may_join_order<'a>(&'a self, who: &'a Identity, order_id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let (Ok(order_id), true) = (
                Uuid::parse_str(order_id),
                who.role == Role::Customer.as_str(),
            ) else {
                return false;
            };
            let Ok(mut conn) = self.state.conn().await else {
                return false;
            };
            orders::find_for_customer(&mut conn, who.user_id, order_id)
                .await
                .is_ok_and(|order| order.is_some())
        })
    }
}
