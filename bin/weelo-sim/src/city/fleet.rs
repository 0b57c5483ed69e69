//! The supply side: each transporter logs in, registers its trucks,
//! onboards a driver per truck, goes online, beats every 5 s while moving,
//! and answers broadcasts (hold, then confirm with free trucks and drivers,
//! with idempotency keys as the captain app sends them); each driver goes
//! online and accepts, declines or lets a trip time out, and runs accepted
//! trips to completion on an accelerated clock with GPS fixes on its socket.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::metrics::Api;
use super::plan::{KINDS, Plan, somewhere};
use crate::socket::{Incoming, Socket};

/// One truck with its driver.
struct Pair {
    vehicle: String,
    driver: String,
    kind: usize,
    /// Reserved for a hold or bound to an assignment.
    busy: bool,
    assignment: Option<String>,
}

/// A transporter's trucks and drivers as the transporter sees them.
#[derive(Default)]
struct Yard {
    pairs: Mutex<Vec<Pair>>,
}

impl Yard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pair>> {
        self.pairs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves up to `n` free pairs of `kind`.
    fn reserve(&self, kind: usize, n: usize) -> Vec<usize> {
        let mut pairs = self.lock();
        let free: Vec<usize> = (0..pairs.len())
            .filter(|i| pairs[*i].kind == kind && !pairs[*i].busy)
            .take(n)
            .collect();
        for i in &free {
            pairs[*i].busy = true;
        }
        free
    }

    fn unreserve(&self, indexes: &[usize]) {
        let mut pairs = self.lock();
        for i in indexes {
            pairs[*i].busy = false;
            pairs[*i].assignment = None;
        }
    }

    fn bind(&self, index: usize, assignment: &str) {
        self.lock()[index].assignment = Some(assignment.to_owned());
    }

    /// Frees the pair of `assignment`, once.
    fn release(&self, assignment: &str) {
        let mut pairs = self.lock();
        if let Some(pair) = pairs
            .iter_mut()
            .find(|p| p.assignment.as_deref() == Some(assignment))
        {
            pair.busy = false;
            pair.assignment = None;
        }
    }
}

pub(crate) async fn login(api: &Api, phone: &str, role: &str) -> anyhow::Result<String> {
    let body = json!({ "phone": phone, "role": role });
    let (_, sent) = api
        .call(
            "auth/send-otp",
            Method::POST,
            "auth/send-otp",
            None,
            Some(&body),
            None,
        )
        .await?;
    let otp = sent["data"]["otp"]
        .as_str()
        .context("the server does not expose OTPs (local configuration)")?;
    let body = json!({ "phone": phone, "otp": otp, "role": role });
    let (_, verified) = api
        .call(
            "auth/verify-otp",
            Method::POST,
            "auth/verify-otp",
            None,
            Some(&body),
            None,
        )
        .await?;
    verified["data"]["tokens"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login failed: {verified}"))
}

/// Logs a customer in; returns the token.
pub async fn login_customer(api: &Api, phone: &str) -> anyhow::Result<String> {
    login(api, phone, "customer").await
}

pub(crate) async fn driver_login(api: &Api, phone: &str) -> anyhow::Result<String> {
    let body = json!({ "driverPhone": phone });
    let (_, sent) = api
        .call(
            "driver-auth/send-otp",
            Method::POST,
            "driver-auth/send-otp",
            None,
            Some(&body),
            None,
        )
        .await?;
    let otp = sent["data"]["otp"].as_str().context("no driver OTP")?;
    let body = json!({ "driverPhone": phone, "otp": otp });
    let (_, verified) = api
        .call(
            "driver-auth/verify-otp",
            Method::POST,
            "driver-auth/verify-otp",
            None,
            Some(&body),
            None,
        )
        .await?;
    verified["data"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("driver login failed: {verified}"))
}

/// Registers truck `i` of transporter `n` and onboards its driver; returns
/// (vehicle id, driver id, driver phone).
pub(crate) async fn truck_and_driver(
    api: &Api,
    plan: &Plan,
    token: &str,
    n: usize,
    i: usize,
    kind: usize,
) -> anyhow::Result<(String, String, String)> {
    let truck = json!({ "vehicleNumber": plan.plate(n, i), "vehicleType": KINDS[kind].0, "vehicleSubtype": KINDS[kind].1 });
    let (_, made) = api
        .call(
            "vehicles/upsert",
            Method::PUT,
            "vehicles/upsert",
            Some(token),
            Some(&truck),
            None,
        )
        .await?;
    let vehicle = made["data"]["vehicle"]["id"]
        .as_str()
        .with_context(|| format!("vehicle not registered: {made}"))?
        .to_owned();
    let phone = plan.driver_phone(n, i);
    let start = json!({ "phone": phone, "name": format!("Driver {n}-{i}"), "licenseNumber": "MH1420110012345" });
    let (_, started) = api
        .call(
            "driver/onboard/initiate",
            Method::POST,
            "driver/onboard/initiate",
            Some(token),
            Some(&start),
            None,
        )
        .await?;
    let otp = started["data"]["otp"]
        .as_str()
        .context("no onboarding OTP")?;
    let finish = json!({ "phone": phone, "otp": otp });
    let (_, verified) = api
        .call(
            "driver/onboard/verify",
            Method::POST,
            "driver/onboard/verify",
            Some(token),
            Some(&finish),
            None,
        )
        .await?;
    let driver = verified["data"]["driver"]["id"]
        .as_str()
        .with_context(|| format!("driver not onboarded: {verified}"))?
        .to_owned();
    Ok((vehicle, driver, phone))
}

/// Sets transporter `n` up (trucks, drivers online, socket), says so on
/// `ready`, then runs it until `stop`.
pub async fn transporter(
    api: Api,
    plan: Arc<Plan>,
    n: usize,
    stop: watch::Receiver<bool>,
    ready: mpsc::UnboundedSender<bool>,
) -> anyhow::Result<()> {
    let token = login(&api, &plan.transporter_phone(n), "transporter").await?;
    let yard = Arc::new(Yard::default());
    let trucks = 1 + n % 2;
    for i in 0..trucks {
        let kind = (n + i) % KINDS.len();
        let (vehicle, driver, phone) = truck_and_driver(&api, &plan, &token, n, i, kind).await?;
        yard.lock().push(Pair {
            vehicle,
            driver,
            kind,
            busy: false,
            assignment: None,
        });
        let (token, link, events) = driver_setup(&api, &phone).await?;
        let (api, plan, yard, stop) = (api.clone(), plan.clone(), yard.clone(), stop.clone());
        tokio::spawn(driver_loop(api, plan, yard, token, link, events, stop));
    }
    let online = json!({ "isAvailable": true });
    api.call(
        "transporter/availability",
        Method::PUT,
        "transporter/availability",
        Some(&token),
        Some(&online),
        None,
    )
    .await?;
    let home = somewhere(&mut rand::rng(), 0.12);
    spawn_heartbeats(api.clone(), token.clone(), home, stop.clone());
    let (events_in, mut events) = mpsc::unbounded_channel();
    let _socket = Socket::connect(api.base(), &token, events_in).await?;
    api.metrics().sockets.fetch_add(1, Ordering::Relaxed);
    let _ = ready.send(true);
    let mut stop = stop;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            event = events.recv() => {
                let Some(event) = event else { break };
                api.metrics().socket_events.fetch_add(1, Ordering::Relaxed);
                on_transporter_event(&api, &plan, &token, &yard, event);
            }
        }
    }
    api.metrics().sockets.fetch_sub(1, Ordering::Relaxed);
    Ok(())
}

fn spawn_heartbeats(api: Api, token: String, home: (f64, f64), mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        let mut at = home;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tick.tick() => {
                    {
                        let mut rng = rand::rng();
                        at.0 += rng.random_range(-0.002..0.002);
                        at.1 += rng.random_range(-0.002..0.002);
                    }
                    let beat = json!({ "latitude": at.0, "longitude": at.1, "vehicleId": null, "isOnTrip": false });
                    let _ = api
                        .call_as_app("transporter/heartbeat", Method::POST, "transporter/heartbeat", Some(&token), Some(&beat), None)
                        .await;
                }
            }
        }
    });
}

fn on_transporter_event(
    api: &Api,
    plan: &Arc<Plan>,
    token: &str,
    yard: &Arc<Yard>,
    event: Incoming,
) {
    let id = |key: &str| event.data[key].as_str().unwrap_or_default().to_owned();
    match event.name.as_str() {
        "new_broadcast" => {
            let order = id("orderId");
            api.metrics().broadcast(&order, event.at);
            if rand::rng().random_bool(plan.hold_probability) {
                let (api, plan, token, yard) =
                    (api.clone(), plan.clone(), token.to_owned(), yard.clone());
                let lines = event.data["requestedVehicles"].clone();
                tokio::spawn(async move {
                    if let Err(error) = take(&api, &plan, &token, &yard, &order, &lines).await {
                        api.metrics().error("take");
                        eprintln!("take: {error:#}");
                    }
                });
            }
        }
        "driver_timeout" | "trip_cancelled" => yard.release(&id("assignmentId")),
        "assignment_status_changed"
            if matches!(
                event.data["status"].as_str(),
                Some("driver_declined" | "timed_out" | "completed" | "cancelled")
            ) =>
        {
            yard.release(&id("assignmentId"));
        }
        _ => {}
    }
}

/// Holds what the yard can give of each open line, then confirms it.
async fn take(
    api: &Api,
    plan: &Plan,
    token: &str,
    yard: &Yard,
    order: &str,
    lines: &Value,
) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(plan.think_ms)).await;
    for line in lines.as_array().into_iter().flatten() {
        let open = line["count"].as_u64().unwrap_or(0) - line["filledCount"].as_u64().unwrap_or(0);
        let Some(kind) = KINDS
            .iter()
            .position(|(t, s)| line["vehicleType"] == *t && line["vehicleSubtype"] == *s)
        else {
            continue;
        };
        let reserved = yard.reserve(kind, usize::try_from(open).unwrap_or(0));
        if reserved.is_empty() {
            continue;
        }
        let hold = json!({ "orderId": order, "vehicleType": KINDS[kind].0, "vehicleSubtype": KINDS[kind].1, "quantity": reserved.len() });
        let key = Uuid::new_v4().to_string();
        let (status, held) = api
            .call(
                "truck-hold/hold",
                Method::POST,
                "truck-hold/hold",
                Some(token),
                Some(&hold),
                Some(&key),
            )
            .await?;
        if status != StatusCode::OK {
            yard.unreserve(&reserved);
            continue;
        }
        let pairs: Vec<Value> = {
            let all = yard.lock();
            reserved
                .iter()
                .map(|i| json!({ "vehicleId": all[*i].vehicle, "driverId": all[*i].driver }))
                .collect()
        };
        let confirm = json!({ "holdId": held["data"]["holdId"], "assignments": pairs });
        let key = Uuid::new_v4().to_string();
        let (status, made) = api
            .call(
                "truck-hold/confirm-with-assignments",
                Method::POST,
                "truck-hold/confirm-with-assignments",
                Some(token),
                Some(&confirm),
                Some(&key),
            )
            .await?;
        if status == StatusCode::OK {
            for (i, assignment) in reserved.iter().zip(
                made["data"]["assignmentIds"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            ) {
                yard.bind(*i, assignment.as_str().unwrap_or_default());
            }
        } else {
            let release = json!({ "holdId": held["data"]["holdId"] });
            api.call(
                "truck-hold/release",
                Method::POST,
                "truck-hold/release",
                Some(token),
                Some(&release),
                Some(&Uuid::new_v4().to_string()),
            )
            .await?;
            yard.unreserve(&reserved);
        }
    }
    Ok(())
}

type Events = mpsc::UnboundedReceiver<Incoming>;

/// How a driver hears of its trips and sends its fixes: a socket, or (as
/// the shipped driver app does) pushes and HTTP batches.
#[derive(Clone)]
enum Link {
    Socket(Arc<Socket>),
    Push,
}

/// Logs the driver in, takes it online and connects its socket (or, with
/// the push stand-in, registers its device token and opens none).
async fn driver_setup(api: &Api, phone: &str) -> anyhow::Result<(String, Link, Events)> {
    let token = driver_login(api, phone).await?;
    let online = json!({ "isOnline": true, "currentLocation": null });
    let (status, body) = api
        .call(
            "driver/availability",
            Method::PUT,
            "driver/availability",
            Some(&token),
            Some(&online),
            None,
        )
        .await?;
    if !status.is_success() {
        bail!("driver could not go online: {body}");
    }
    let (events_in, events) = mpsc::unbounded_channel();
    if let Some(push) = api.push() {
        let device = format!("sim-device-{phone}");
        let mut pushes = push.route(&device);
        let register = json!({ "token": device, "deviceType": "android", "deviceId": device });
        let (status, body) = api
            .call(
                "notifications/register-token",
                Method::POST,
                "notifications/register-token",
                Some(&token),
                Some(&register),
                None,
            )
            .await?;
        if !status.is_success() {
            bail!("driver could not register its device: {body}");
        }
        tokio::spawn(async move {
            while let Some(data) = pushes.recv().await {
                let name = data["type"].as_str().unwrap_or_default().to_owned();
                let event = Incoming {
                    name,
                    data: trip_of_push(&data),
                    at: std::time::Instant::now(),
                };
                if events_in.send(event).is_err() {
                    break;
                }
            }
        });
        return Ok((token, Link::Push, events));
    }
    let socket = Arc::new(Socket::connect(api.base(), &token, events_in).await?);
    api.metrics().sockets.fetch_add(1, Ordering::Relaxed);
    Ok((token, Link::Socket(socket), events))
}

/// A `trip_assigned` push (flat string keys) in the socket event's shape.
fn trip_of_push(data: &Value) -> Value {
    let number = |key: &str| data[key].as_str().and_then(|v| v.parse::<f64>().ok());
    json!({
        "assignmentId": data["assignmentId"],
        "tripId": data["tripId"],
        "pickup": { "lat": number("pickupLat"), "lng": number("pickupLng") },
    })
}

/// Answers the driver's trips until `stop`.
async fn driver_loop(
    api: Api,
    plan: Arc<Plan>,
    yard: Arc<Yard>,
    token: String,
    link: Link,
    mut events: Events,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            event = events.recv() => {
                let Some(event) = event else { break };
                api.metrics().socket_events.fetch_add(1, Ordering::Relaxed);
                if event.name != "trip_assigned" || event.data["_reconnectDelivery"] == true {
                    continue;
                }
                let (api, plan, yard, token, link) = (api.clone(), plan.clone(), yard.clone(), token.clone(), link.clone());
                tokio::spawn(async move {
                    if let Err(error) = answer_trip(&api, &plan, &yard, &token, &link, &event.data).await {
                        api.metrics().error("trip");
                        eprintln!("trip: {error:#}");
                    }
                });
            }
        }
    }
    if matches!(link, Link::Socket(_)) {
        api.metrics().sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts (and runs), declines or ignores one trip.
async fn answer_trip(
    api: &Api,
    plan: &Plan,
    yard: &Yard,
    token: &str,
    link: &Link,
    trip: &Value,
) -> anyhow::Result<()> {
    let assignment = trip["assignmentId"].as_str().unwrap_or_default().to_owned();
    let trip_id = trip["tripId"].as_str().unwrap_or_default().to_owned();
    let roll: f64 = rand::rng().random();
    // Some seconds to read the overlay.
    let reading = Duration::from_millis(rand::rng().random_range(300..2_000));
    tokio::time::sleep(reading).await;
    if roll < plan.timeout_rate {
        return Ok(()); // the server times it out; the transporter hears driver_timeout
    }
    if roll < plan.timeout_rate + plan.decline_rate {
        let body = json!({ "reason": "" });
        api.call_as_app(
            "assignments/decline",
            Method::PATCH,
            &format!("assignments/{assignment}/decline"),
            Some(token),
            Some(&body),
            Some(&Uuid::new_v4().to_string()),
        )
        .await?;
        yard.release(&assignment);
        return Ok(());
    }
    let (status, _) = api
        .call_as_app(
            "assignments/accept",
            Method::PATCH,
            &format!("assignments/{assignment}/accept"),
            Some(token),
            None,
            Some(&Uuid::new_v4().to_string()),
        )
        .await?;
    if status != StatusCode::OK {
        yard.release(&assignment);
        return Ok(());
    }
    let path = format!("tracking/trip/{trip_id}/status");
    let mut at = (
        trip["pickup"]["lat"].as_f64().unwrap_or(19.07),
        trip["pickup"]["lng"].as_f64().unwrap_or(72.87),
    );
    for word in ["at_pickup", "loading_complete", "in_transit"] {
        tokio::time::sleep(Duration::from_millis(plan.stage_ms)).await;
        let body = json!({ "status": word });
        let (status, _) = api
            .call_as_app(
                "tracking/trip/status",
                Method::PUT,
                &path,
                Some(token),
                Some(&body),
                None,
            )
            .await?;
        if status != StatusCode::OK {
            yard.release(&assignment);
            return Ok(()); // cancelled meanwhile
        }
    }
    let every = Duration::from_millis(plan.stage_ms / u64::from(plan.fixes_per_trip.max(1)));
    for _ in 0..plan.fixes_per_trip {
        tokio::time::sleep(every).await;
        at.0 += 0.003;
        at.1 += 0.002;
        let fix = json!({ "tripId": trip_id, "latitude": at.0, "longitude": at.1, "speed": 11.0, "bearing": 45.0 });
        match link {
            Link::Socket(socket) => {
                socket.emit("update_location", &fix);
            }
            Link::Push => {
                // The shipped driver app: one-point batches over HTTP.
                let mut point = fix.clone();
                point["timestamp"] = json!(chrono::Utc::now().to_rfc3339());
                let batch = json!({ "tripId": trip_id, "points": [point] });
                api.call_as_app(
                    "tracking/batch",
                    Method::POST,
                    "tracking/batch",
                    Some(token),
                    Some(&batch),
                    None,
                )
                .await?;
            }
        }
    }
    let body = json!({ "status": "completed" });
    api.call_as_app(
        "tracking/trip/status",
        Method::PUT,
        &path,
        Some(token),
        Some(&body),
        None,
    )
    .await?;
    yard.release(&assignment);
    Ok(())
}
