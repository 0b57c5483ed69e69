//! The demand side: a pool of customers, each logged in with a socket that
//! follows its orders to the end, and a generator booking orders at the
//! configured rate (one searching order per customer, as the server allows).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::fleet::login_customer;
use super::metrics::Api;
use super::plan::{Plan, order_body};
use crate::socket::{Incoming, Socket};

/// A logged-in customer.
struct Customer {
    token: String,
    /// Has an order still searching.
    searching: AtomicBool,
    _socket: Socket,
}

/// The logged-in customers, following their orders until `stop`.
pub struct Pool(Vec<Arc<Customer>>);

/// Logs the pool in, each with a socket that follows its orders until `stop`.
pub async fn log_in(api: &Api, plan: &Plan, stop: &watch::Receiver<bool>) -> anyhow::Result<Pool> {
    let logins = futures_util::stream::iter(0..plan.customers())
        .map(|n| {
            let (api, stop) = (api.clone(), stop.clone());
            async move { customer(api, plan, n, stop).await }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let pool: Vec<Arc<Customer>> = logins.into_iter().filter_map(Result::ok).collect();
    if pool.is_empty() {
        anyhow::bail!("no customer could log in");
    }
    Ok(Pool(pool))
}

/// Books orders at the plan's rate until `stop`.
pub async fn book_until(api: Api, plan: &Plan, pool: &Pool, stop: watch::Receiver<bool>) {
    let pool = Arc::new(pool.0.clone());
    let every = Duration::from_secs_f64(1.0 / plan.order_rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let next = Arc::new(Mutex::new(0_usize));
    let mut stop = stop;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {
                let (api, pool, next) = (api.clone(), pool.clone(), next.clone());
                tokio::spawn(async move { book(&api, &pool, &next).await });
            }
        }
    }
}

async fn customer(
    api: Api,
    plan: &Plan,
    n: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Arc<Customer>> {
    let token = login_customer(&api, &plan.customer_phone(n)).await?;
    let (rate_share, cancel_share) = (plan.rate_share, plan.cancel_share);
    let (events_in, mut events) = mpsc::unbounded_channel();
    let socket = Socket::connect(api.base(), &token, events_in).await?;
    api.metrics().sockets.fetch_add(1, Ordering::Relaxed);
    let customer = Arc::new(Customer {
        token,
        searching: AtomicBool::new(false),
        _socket: socket,
    });
    let me = customer.clone();
    let mut stop = stop;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                event = events.recv() => {
                    let Some(event) = event else { break };
                    api.metrics().socket_events.fetch_add(1, Ordering::Relaxed);
                    follow(&api, &me, &event);
                    if cancels_now(&event) && rand::random::<f64>() < cancel_share {
                        let (api, token) = (api.clone(), me.token.clone());
                        let order = event.data["orderId"].as_str().unwrap_or_default().to_owned();
                        let stage = event.data["status"].as_str().unwrap_or("searching").to_owned();
                        tokio::spawn(async move { cancel(&api, &token, &order, &stage).await });
                    }
                    if event.name == "booking_completed" && rand::random::<f64>() < rate_share {
                        let (api, token) = (api.clone(), me.token.clone());
                        let order = event.data["orderId"].as_str().unwrap_or_default().to_owned();
                        tokio::spawn(async move { rate_trips(&api, &token, &order).await });
                    }
                }
            }
        }
        api.metrics().sockets.fetch_sub(1, Ordering::Relaxed);
    });
    Ok(customer)
}

/// The moments a customer may change its mind: the search under way, a
/// driver accepted, a truck at the pickup or loaded.
fn cancels_now(event: &Incoming) -> bool {
    match event.name.as_str() {
        "broadcast_state_changed" => event.data["status"] != "fully_filled",
        "assignment_status_changed" => matches!(
            event.data["status"].as_str(),
            Some("driver_accepted" | "at_pickup" | "loading_complete")
        ),
        _ => false,
    }
}

/// Cancels `order` as the app does: the preview, then the cancel with a
/// reason (required from the pickup on).
async fn cancel(api: &Api, token: &str, order: &str, stage: &str) {
    let preview = format!("bookings/orders/{order}/cancel-preview");
    let _ = api
        .call(
            "cancel-preview",
            Method::GET,
            &preview,
            Some(token),
            None,
            None,
        )
        .await;
    let body = serde_json::json!({ "reason": format!("changed plans ({stage})") });
    let path = format!("bookings/orders/{order}/cancel");
    let _ = api
        .call(
            "bookings/orders/cancel",
            Method::POST,
            &path,
            Some(token),
            Some(&body),
            None,
        )
        .await;
}

/// The rating sheet after `booking_completed`: the order's trips still to
/// rate, each given 3 to 5 stars and a tag.
async fn rate_trips(api: &Api, token: &str, order: &str) {
    let Ok((StatusCode::OK, pending)) = api
        .call(
            "rating/pending",
            Method::GET,
            "rating/pending",
            Some(token),
            None,
            None,
        )
        .await
    else {
        return;
    };
    let trips = pending["data"].as_array().cloned().unwrap_or_default();
    for trip in trips.iter().filter(|t| t["bookingId"] == order) {
        let stars = 3 + rand::random::<u8>() % 3;
        let tag = if stars == 5 {
            "professional"
        } else {
            "on_time"
        };
        let body = serde_json::json!({ "assignmentId": trip["assignmentId"], "stars": stars, "tags": [tag] });
        let _ = api
            .call(
                "rating",
                Method::POST,
                "rating",
                Some(token),
                Some(&body),
                None,
            )
            .await;
    }
}

/// What the customer's app does with each event of its orders.
fn follow(api: &Api, me: &Customer, event: &Incoming) {
    let order = event.data["orderId"].as_str().unwrap_or_default();
    let metrics = api.metrics();
    match event.name.as_str() {
        "booking_fully_filled" => {
            metrics.filled(order, event.at);
            me.searching.store(false, Ordering::Relaxed);
        }
        "trucks_remaining_update"
            if event.data["trucksFilled"].as_i64() >= event.data["trucksNeeded"].as_i64() =>
        {
            metrics.filled(order, event.at);
        }
        "order_expired" => {
            if event.data["status"] == "expired" {
                let reason = event.data["reasonCode"].as_str().unwrap_or("UNKNOWN");
                metrics.ended(order, format!("expired:{reason}"));
            } else {
                metrics.partly_expired(order);
            }
            me.searching.store(false, Ordering::Relaxed);
        }
        "order_cancelled" => {
            metrics.ended(order, "cancelled".to_owned());
            me.searching.store(false, Ordering::Relaxed);
        }
        "booking_completed" => metrics.ended(order, "completed".to_owned()),
        _ => {}
    }
}

/// Books one order for the next customer without a searching order.
async fn book(api: &Api, pool: &[Arc<Customer>], next: &Mutex<usize>) {
    let start = {
        let mut next = next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *next = (*next + 1) % pool.len();
        *next
    };
    let Some(index) = (0..pool.len()).map(|i| (start + i) % pool.len()).find(|i| {
        pool[*i]
            .searching
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }) else {
        api.metrics().error("no-free-customer");
        return;
    };
    let customer = &pool[index];
    let body = order_body(&mut rand::rng());
    let key = Uuid::new_v4().to_string();
    let result = api
        .timed(
            "bookings/orders",
            Method::POST,
            "bookings/orders",
            Some(&customer.token),
            Some(&body),
            Some(&key),
        )
        .await;
    match result {
        Ok(((StatusCode::CREATED, answer), took)) => {
            let order = answer["data"]["order"]["id"].as_str().unwrap_or_default();
            api.metrics().created(order, index, took);
        }
        _ => customer.searching.store(false, Ordering::Relaxed),
    }
}
