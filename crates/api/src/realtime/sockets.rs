//! The realtime hub as the use cases' [`Sockets`]: a delivery of
//! `weelo-dispatch` becomes one of the hub's, field for field.

use weelo_dispatch::sockets::{Delivery, Sockets};
use weelo_realtime::Hub;

/// This instance's hub, as the use cases hand it events.
#[derive(Clone)]
pub struct HubSockets(pub Hub);

impl Sockets for HubSockets {
    fn deliver(&self, delivery: Delivery) {
        self.0.deliver(weelo_realtime::Delivery {
            rooms: delivery.rooms,
            name: delivery.name,
            data: delivery.data,
            event_id: delivery.event_id,
            server_time_ms: delivery.server_time_ms,
        });
    }
}
