//! Sockets do not outlive their session: a logout disconnects that
//! session's sockets on every instance, and a socket ends when its access
//! token does. An order's room is joined by its id in any spelling.

use chrono::Duration;
use reqwest::{Method, StatusCode};

use crate::helpers::{order_body, spawn_app};
use crate::realtime::{Client, seen};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_disconnects_that_sessions_sockets_on_every_instance() {
    let app = spawn_app().await;
    let other = app.sibling().await;
    let leaving = app.token("9876500501", "customer").await;
    app.clock.advance(Duration::seconds(31));
    let staying = app.token("9876500501", "customer").await;
    let mut here = Client::start_long(&app.address, &leaving, None, "never");
    let mut there = Client::start_long(&other.address, &leaving, None, "never");
    let mut second_device = Client::start_long(&other.address, &staying, None, "never");
    for client in [&mut here, &mut there, &mut second_device] {
        client.event("connected").await;
    }

    let (status, _) = app
        .call(Method::POST, "auth/logout", Some(&leaving), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    for client in [&mut here, &mut there] {
        let line = seen(client, "disconnect").await;
        assert_eq!(line["reason"], "io server disconnect", "{line}");
    }
    // The other session's socket still hears its events.
    let (_, body) = app.create_order(&staying, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    app.call(
        Method::POST,
        &format!("bookings/orders/{order_id}/cancel"),
        Some(&staying),
        None,
    )
    .await;
    let cancelled = second_device.event("order_cancelled").await;
    assert_eq!(cancelled["orderId"], order_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_is_disconnected_when_its_access_token_expires() {
    let app = spawn_app().await;
    let token = app.token("9876500502", "customer").await;
    // One second of the token's hour is left when the socket connects.
    app.clock.advance(Duration::seconds(3599));
    let mut client = Client::start_long(&app.address, &token, None, "never");
    client.event("connected").await;

    let line = seen(&mut client, "disconnect").await;

    assert_eq!(line["reason"], "io server disconnect", "{line}");
    let fresh = app.token("9876500502", "customer").await;
    let mut again = Client::start(&app.address, &fresh, None, "connected");
    again.event("connected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_booking_accepts_the_order_id_in_upper_case_or_braces() {
    let app = spawn_app().await;
    let token = app.token("9876500503", "customer").await;
    let (_, body) = app.create_order(&token, "key-1", &order_body()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let upper = order_id.to_uppercase();
    let braced = format!("{{{order_id}}}");
    let mut shouting = Client::start(&app.address, &token, Some(&upper), "order_cancelled");
    let mut braces = Client::start(&app.address, &token, Some(&braced), "order_cancelled");
    for client in [&mut shouting, &mut braces] {
        let joined = client.event("booking_joined").await;
        assert_eq!(joined["orderId"], order_id.as_str());
    }

    app.call(
        Method::POST,
        &format!("bookings/orders/{order_id}/cancel"),
        Some(&token),
        None,
    )
    .await;

    for client in [&mut shouting, &mut braces] {
        let cancelled = client.event("order_cancelled").await;
        assert_eq!(cancelled["orderId"], order_id.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_is_disconnected_on_every_instance_and_then_refused() {
    let app = spawn_app().await;
    let other = app.sibling().await;
    let token = app.token("9876500504", "customer").await;
    let mut here = Client::start_long(&app.address, &token, None, "never");
    let mut there = Client::start_long(&other.address, &token, None, "never");
    for client in [&mut here, &mut there] {
        client.event("connected").await;
    }

    // However the account is switched off: here, an operator's UPDATE.
    let mut conn = app.db.connect().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE users SET is_active = false WHERE phone = '9876500504'"),
        &mut conn,
    )
    .await
    .unwrap();

    for client in [&mut here, &mut there] {
        let line = seen(client, "disconnect").await;
        assert_eq!(line["reason"], "io server disconnect", "{line}");
    }
    // Once this instance's trust in the session lapses, requests are refused.
    app.clock.advance(Duration::seconds(11));
    let (status, body) = app.get_as("profile", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
