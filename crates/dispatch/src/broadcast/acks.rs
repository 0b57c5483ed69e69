//! A transporter's app acknowledging an offer (`dispatch_ack`,
//! `broadcast_ack`, by socket, or after an FCM push): the first one is
//! recorded on the notification row, and the time from offer to
//! acknowledgement goes into the delivery-latency figures per path.

use uuid::Uuid;
use weelo_persistence::{PersistenceError, dispatch};

use crate::Dispatch;

/// The paths an acknowledgement can name (anything else is `other`, so the
/// metric's labels stay a closed set).
const SOURCES: &[&str] = &["socket", "fcm"];

/// Records `transporter`'s acknowledgement of the offer of `order_id`,
/// which came by `source`; returns whether it was the first.
pub async fn record(
    state: &Dispatch,
    transporter: Uuid,
    order_id: Uuid,
    source: &str,
) -> Result<bool, PersistenceError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let Some(offered_at) = dispatch::acknowledge(&mut conn, order_id, transporter, now).await?
    else {
        return Ok(false);
    };
    let source = SOURCES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(source))
        .copied()
        .unwrap_or("other");
    let latency = (now - offered_at).to_std().unwrap_or_default();
    state
        .push
        .metrics
        .ack_latency
        .with_label_values(&[source])
        .observe(latency.as_secs_f64());
    tracing::debug!(order.id = %order_id, transporter.id = %transporter, ack.source = source, ack.latency_ms = latency.as_millis(), "offer acknowledged");
    Ok(true)
}
