//! [`Room`]: who an event is for. A socket joins the rooms of its caller
//! when it connects (and an order's room on `join_booking`); an event names
//! the rooms it goes to. The text form (`customer:{id}`) is what the outbox
//! stores and the realtime hub matches, and it is written here only.

use std::fmt;

use uuid::Uuid;
use weelo_orders::Role;
use weelo_persistence::orders::Order;

/// A room of sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Room {
    /// Every socket of one user, whatever its role.
    User(Uuid),
    /// Every socket of one role.
    Role(Role),
    /// One customer's sockets.
    Customer(Uuid),
    /// One transporter's sockets (the fleet owner's apps).
    Transporter(Uuid),
    /// One driver's sockets.
    Driver(Uuid),
    /// The drivers of one transporter's fleet.
    Fleet(Uuid),
    /// Whoever watches one order (`join_booking`).
    Order(Uuid),
    /// The sockets of one login session (a logout closes them).
    Session(Uuid),
}

impl Room {
    /// The room of user `id` in `role`: `customer:{id}`, `transporter:{id}`
    /// or `driver:{id}`.
    pub fn of_role(role: Role, id: Uuid) -> Self {
        match role {
            Role::Customer => Self::Customer(id),
            Role::Transporter => Self::Transporter(id),
            Role::Driver => Self::Driver(id),
        }
    }

    /// The order's customer and its watchers.
    pub fn of_order(order: &Order) -> Vec<Self> {
        vec![Self::Customer(order.customer_id), Self::Order(order.id)]
    }

    /// The order's customer and watchers and every transporter it was
    /// offered to (`notified`).
    pub fn of_order_and(order: &Order, notified: &[Uuid]) -> Vec<Self> {
        let mut rooms = Self::of_order(order);
        rooms.extend(notified.iter().copied().map(Self::Transporter));
        rooms
    }

    /// The text form the outbox stores and the hub matches.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Role(role) => write!(f, "role:{}", role.as_str()),
            Self::Customer(id) => write!(f, "customer:{id}"),
            Self::Transporter(id) => write!(f, "transporter:{id}"),
            Self::Driver(id) => write!(f, "driver:{id}"),
            Self::Fleet(id) => write!(f, "fleet:{id}"),
            Self::Order(id) => write!(f, "order:{id}"),
            Self::Session(id) => write!(f, "session:{id}"),
        }
    }
}

/// The text forms of `rooms`.
pub fn names(rooms: &[Room]) -> Vec<String> {
    rooms.iter().map(Room::name).collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;
    use weelo_orders::Role;

    use super::Room;

    #[test]
    fn each_room_has_the_text_form_the_apps_sockets_join() {
        let id = Uuid::nil();
        let cases = [
            (Room::User(id), "user:"),
            (Room::Role(Role::Driver), "role:driver"),
            (Room::of_role(Role::Customer, id), "customer:"),
            (Room::of_role(Role::Transporter, id), "transporter:"),
            (Room::of_role(Role::Driver, id), "driver:"),
            (Room::Fleet(id), "fleet:"),
            (Room::Order(id), "order:"),
            (Room::Session(id), "session:"),
        ];
        for (room, prefix) in cases {
            let text = room.to_string();
            assert!(text.starts_with(prefix), "{text}");
            if !matches!(room, Room::Role(_)) {
                assert_eq!(text, format!("{prefix}{id}"));
            }
        }
    }
}
