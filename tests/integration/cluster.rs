//! The production topology: two instances on one database and Redis
//! behind HAProxy with deploy/haproxy/haproxy.cfg (as `make run-cluster`
//! and deploy/compose.yaml run it). REST calls spread over both instances;
//! a customer's Socket.IO session, started on long-polling as the customer
//! app does, stays pinned to one instance through its upgrade and hears
//! what either instance commits; and the acceptance flow (offer, hold,
//! confirm, fill, accept) runs with every call and socket through it.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::Stdio;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::dispatch::{fleet_at, one_truck, order_status, take_one};
use crate::helpers::{order_body, spawn_app};
use crate::realtime::{Client, seen};

/// HAProxy on free ports in front of `instances`; killed on drop.
struct Balancer {
    address: String,
    _child: Child,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Balancer {
    async fn start(instances: [&str; 2]) -> Self {
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/haproxy/haproxy.cfg");
        let listen = format!("127.0.0.1:{}", free_port());
        let host = |address: &str| address.trim_start_matches("http://").to_owned();
        let child = Command::new("haproxy")
            .args(["-db", "-f", config])
            .env("WEELO_LISTEN", &listen)
            .env("WEELO_1", host(instances[0]))
            .env("WEELO_2", host(instances[1]))
            .env("WEELO_STATS", format!("127.0.0.1:{}", free_port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("haproxy does not run ({e}): make services installs it"));
        let balancer = Self {
            address: format!("http://{listen}"),
            _child: child,
        };
        for _ in 0..200 {
            if reqwest::get(format!("{}/api/v1/health", balancer.address))
                .await
                .is_ok()
            {
                return balancer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("haproxy did not answer on {listen}");
    }

    /// A call through the balancer, with a JSON body and an idempotency
    /// key when given: (instance that answered, status, body).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        keyed_body: Option<(&str, &Value)>,
    ) -> (String, StatusCode, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/api/v1/{path}", self.address))
            .bearer_auth(token);
        if let Some((key, body)) = keyed_body {
            request = request.header("X-Idempotency-Key", key).json(body);
        }
        let response = request.send().await.unwrap();
        let instance = response.headers()["x-weelo-instance"]
            .to_str()
            .unwrap()
            .to_owned();
        let status = response.status();
        (
            instance,
            status,
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_haproxy_calls_spread_and_a_pinned_socket_hears_both_instances() {
    let app = spawn_app().await;
    let other = app.sibling().await;
    let balancer = Balancer::start([&app.address, &other.address]).await;
    let token = app.token("9876543210", "customer").await;

    // Round-robin: consecutive calls are answered by both instances.
    let mut answered = BTreeSet::new();
    for _ in 0..4 {
        let (instance, status, _) = balancer.call(Method::GET, "profile", &token, None).await;
        assert_eq!(status, StatusCode::OK);
        answered.insert(instance);
    }
    assert_eq!(
        answered,
        BTreeSet::from(["weelo-1".to_owned(), "weelo-2".to_owned()])
    );

    // The customer app's socket: polling first, then the upgrade, through
    // the balancer (a polling request on the wrong instance would fail).
    let mut client = Client::start_upgrading(&balancer.address, &token, None, "order_cancelled");
    assert_eq!(seen(&mut client, "transport").await["name"], "polling");
    client.event("connected").await;

    // The order is created through one instance and cancelled through the
    // other; the socket, on whichever, hears both.
    let (created_on, status, created) = balancer
        .call(
            Method::POST,
            "bookings/orders",
            &token,
            Some(("cluster-1", &order_body())),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let order_id = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (cancelled_on, status, body) = balancer
        .call(
            Method::POST,
            &format!("orders/{order_id}/cancel"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(
        created_on, cancelled_on,
        "the two calls took both instances"
    );
    let cancelled = loop {
        let line = seen(&mut client, "event").await;
        if line["event"] == "order_cancelled" {
            break line;
        }
    };
    assert_eq!(cancelled["data"]["orderId"], order_id.as_str());
    assert_eq!(
        cancelled["transport"], "websocket",
        "the session upgraded on its pinned instance"
    );
}

/// The acceptance flow with every call and socket through HAProxy: a
/// transporter goes online, a customer orders a truck, the transporter's
/// socket hears the offer, holds and confirms it with its truck and driver,
/// the customer's socket hears the order fill, and the driver's hears its
/// trip and accepts it. Calls alternate between the two instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_acceptance_flow_runs_through_haproxy() {
    let mut app = spawn_app().await;
    let other = app.sibling().await;
    let balancer = Balancer::start([&app.address, &other.address]).await;
    // Every helper below now talks to the balancer.
    app.address = balancer.address.clone();

    let fleet = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let mut transporter = Client::start_long(&app.address, &fleet.token, None, "never");
    let mut driver = Client::start_long(&app.address, &fleet.driver_token, None, "never");
    transporter.event("connected").await;
    driver.event("connected").await;

    let customer = app.token("9876543210", "customer").await;
    let (status, body) = app.create_order(&customer, "key-1", &one_truck()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut watcher = Client::start_upgrading(&app.address, &customer, Some(&order_id), "never");
    watcher.event("booking_joined").await;
    let offer = transporter.event("new_broadcast").await;
    assert_eq!(offer["orderId"], order_id.as_str());

    let made = take_one(&app, &fleet, &order_id).await;
    assert_eq!(made["orderStatus"], "fully_filled", "{made}");
    let full = watcher.event("booking_fully_filled").await;
    assert_eq!(full["orderId"], order_id.as_str());
    let trip = driver.event("trip_assigned").await;
    let assignment = trip["assignmentId"].as_str().unwrap().to_owned();
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/accept"),
            Some(&fleet.driver_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "fully_filled"
    );
}
