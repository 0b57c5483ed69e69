//! Dispatch end to end: holds confirmed with vehicles and drivers, the
//! drivers' answers and their deadline, radius steps and re-dispatch, with
//! real sockets (the reference client) where the apps listen.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on purpose"
)]

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::realtime::{Client, transporter_at};

/// Two 17 ft trucks from Mumbai to Pune.
pub(crate) fn two_trucks() -> Value {
    json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai", "city": "Mumbai" },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune", "city": "Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2, "pricePerTruck": 24000 }
        ],
        "goodsType": "General"
    })
}

/// One 17 ft truck from Mumbai to Pune.
pub(crate) fn one_truck() -> Value {
    let mut body = two_trucks();
    body["vehicleRequirements"][0]["quantity"] = json!(1);
    body
}

/// A transporter near the pickup with one truck and one online driver:
/// (token, vehicle id, driver id, driver token).
pub(crate) struct Fleet {
    pub(crate) token: String,
    pub(crate) vehicle: String,
    pub(crate) driver: String,
    pub(crate) driver_token: String,
}

pub(crate) async fn fleet_at(app: &TestApp, n: u32, at: (f64, f64)) -> Fleet {
    let token = transporter_at(
        app,
        &format!("91234567{n:02}"),
        &format!("MH12AB12{n:02}"),
        at,
    )
    .await;
    let (_, list) = app.get_as("vehicles/list", &token).await;
    let vehicle = list["data"]["vehicles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let driver_phone = format!("98765432{n:02}");
    let driver = app
        .onboard_driver(&token, &driver_phone, &format!("Driver {n}"))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let driver_token = app.driver_token(&driver_phone).await;
    let (status, body) = app
        .call(
            Method::PUT,
            "driver/availability",
            Some(&driver_token),
            Some(json!({ "isOnline": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Fleet {
        token,
        vehicle,
        driver,
        driver_token,
    }
}

pub(crate) async fn hold(
    app: &TestApp,
    token: &str,
    order_id: &str,
    quantity: u32,
) -> (StatusCode, Value) {
    let body = json!({ "orderId": order_id, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": quantity });
    app.call(Method::POST, "truck-hold/hold", Some(token), Some(body))
        .await
}

pub(crate) async fn confirm(app: &TestApp, fleet: &Fleet, hold_id: &Value) -> (StatusCode, Value) {
    let body = json!({ "holdId": hold_id, "assignments": [{ "vehicleId": fleet.vehicle, "driverId": fleet.driver }] });
    app.call(
        Method::POST,
        "truck-hold/confirm-with-assignments",
        Some(&fleet.token),
        Some(body),
    )
    .await
}

/// Holds one truck and confirms it; returns the confirm's `data`.
pub(crate) async fn take_one(app: &TestApp, fleet: &Fleet, order_id: &str) -> Value {
    let (status, held) = hold(app, &fleet.token, order_id, 1).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let (status, confirmed) = confirm(app, fleet, &held["data"]["holdId"]).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    confirmed["data"].clone()
}

pub(crate) async fn order_status(app: &TestApp, customer: &str, order_id: &str) -> Value {
    let (status, body) = app
        .get_as(&format!("bookings/orders/{order_id}/status"), customer)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

/// docs/app-contract.md §7 steps 0–4: two transporters each take one of two
/// trucks, their drivers accept, and everyone hears it on their sockets.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_transporters_fill_an_order_and_their_drivers_accept() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let mut t1_socket = Client::start_long(&app.address, &t1.token, None, "booking_fully_filled");
    let mut t2_socket = Client::start_long(&app.address, &t2.token, None, "booking_fully_filled");
    let mut d1_socket = Client::start_long(&app.address, &t1.driver_token, None, "trip_assigned");
    let mut d2_socket = Client::start_long(&app.address, &t2.driver_token, None, "trip_assigned");
    for socket in [
        &mut t1_socket,
        &mut t2_socket,
        &mut d1_socket,
        &mut d2_socket,
    ] {
        socket.event("connected").await;
    }

    let customer = app.token("9876543210", "customer").await;
    let (status, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["data"]["broadcastSummary"]["totalTransportersNotified"],
        2
    );
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let mut customer_socket = Client::start_long(&app.address, &customer, Some(&order_id), "never");
    customer_socket.event("booking_joined").await;
    for socket in [&mut t1_socket, &mut t2_socket] {
        let broadcast = socket.event("new_broadcast").await;
        assert_eq!(broadcast["orderId"], order_id.as_str());
        assert_eq!(broadcast["requestedVehicles"][0]["count"], 2);
    }

    let first = take_one(&app, &t1, &order_id).await;
    assert_eq!(first["trucksFilled"], 1);
    assert_eq!(first["orderStatus"], "partially_filled");
    let progress = customer_socket.event("trucks_remaining_update").await;
    assert_eq!(
        (
            progress["trucksFilled"].as_i64(),
            progress["trucksNeeded"].as_i64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "partially_filled"
    );
    let second = take_one(&app, &t2, &order_id).await;
    assert_eq!(second["orderStatus"], "fully_filled");
    let progress = customer_socket.event("trucks_remaining_update").await;
    assert_eq!(progress["trucksFilled"], 2);
    let full = customer_socket.event("booking_fully_filled").await;
    assert_eq!(full["orderId"], order_id.as_str());
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "fully_filled"
    );
    // The first transporter hears the order fill; the one that filled it does too.
    assert_eq!(
        t1_socket.event("booking_fully_filled").await["trucksFilled"],
        2
    );
    assert_eq!(
        t2_socket.event("booking_fully_filled").await["trucksFilled"],
        2
    );

    // Each driver gets its trip with 45 s to answer, and accepts.
    for (socket, fleet, made) in [
        (&mut d1_socket, &t1, &first),
        (&mut d2_socket, &t2, &second),
    ] {
        // Drivers never get the fleet owner's broadcasts.
        let trip = socket.event_without("trip_assigned", "new_broadcast").await;
        assert_eq!(trip["assignmentId"], made["assignmentIds"][0]);
        assert_eq!(trip["tripId"], made["tripIds"][0]);
        assert_eq!(trip["orderId"], order_id.as_str());
        assert_eq!(trip["pickup"]["lat"], 19.076);
        assert_eq!(trip["driverAcceptTimeoutSeconds"], 45);
        assert_eq!(trip["farePerTruck"], 24000);
        let (_, listed) = app.get_as("assignments/driver", &fleet.driver_token).await;
        assert_eq!(listed["data"]["total"], 1, "{listed}");
        assert_eq!(listed["data"]["assignments"][0]["status"], "pending");
        let (status, accepted) = app
            .call(
                Method::PATCH,
                &format!(
                    "assignments/{}/accept",
                    made["assignmentIds"][0].as_str().unwrap()
                ),
                Some(&fleet.driver_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["data"]["status"], "driver_accepted");
        assert_eq!(accepted["data"]["tripId"], made["tripIds"][0]);
        assert!(accepted["data"]["vehicleNumber"].is_string());
    }
    let mut accepted = Vec::new();
    for _ in 0..2 {
        let changed = customer_socket.event("assignment_status_changed").await;
        assert_eq!(changed["status"], "driver_accepted");
        accepted.push(changed["assignmentId"].as_str().unwrap().to_owned());
    }
    accepted.sort();
    let mut made = vec![
        first["assignmentIds"][0].as_str().unwrap().to_owned(),
        second["assignmentIds"][0].as_str().unwrap().to_owned(),
    ];
    made.sort();
    assert_eq!(accepted, made);
    // The customer reads an assignment of its order; another customer cannot.
    let (status, one) = app
        .get_as(&format!("assignments/{}", made[0]), &customer)
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["data"]["status"], "driver_accepted");
    let stranger = app.token("9876543299", "customer").await;
    let (status, _) = app
        .get_as(&format!("assignments/{}", made[0]), &stranger)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.count_rows("vehicles WHERE status = 'on_hold'").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_confirm_is_all_or_nothing_and_one_hold_confirms_once() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (_, held) = hold(&app, &t1.token, &order_id, 1).await;
    let hold_id = held["data"]["holdId"].clone();

    // Another fleet's vehicle: refused with the pair named, nothing written.
    let foreign = json!({ "holdId": hold_id, "assignments": [{ "vehicleId": t2.vehicle, "driverId": t1.driver }] });
    let (status, refused) = app
        .call(
            Method::POST,
            "truck-hold/confirm-with-assignments",
            Some(&t1.token),
            Some(foreign),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(
        refused["error"]["failedAssignments"][0]["reason"],
        "VEHICLE_NOT_FOUND"
    );
    assert_eq!(
        refused["error"]["failedAssignments"][0]["vehicleId"],
        t2.vehicle.as_str()
    );
    assert_eq!(app.count_rows("assignments").await, 0);
    // Two pairs for one held truck: a 400.
    let two = json!({ "holdId": hold_id, "assignments": [
        { "vehicleId": t1.vehicle, "driverId": t1.driver },
        { "vehicleId": t2.vehicle, "driverId": t2.driver }] });
    let (status, body) = app
        .call(
            Method::POST,
            "truck-hold/confirm-with-assignments",
            Some(&t1.token),
            Some(two),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // An offline driver is refused.
    app.clock.advance(Duration::seconds(3));
    app.call(
        Method::PUT,
        "driver/availability",
        Some(&t1.driver_token),
        Some(json!({ "isOnline": false })),
    )
    .await;
    let (status, offline) = confirm(&app, &t1, &hold_id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        offline["error"]["failedAssignments"][0]["reason"],
        "DRIVER_OFFLINE"
    );
    app.clock.advance(Duration::seconds(3));
    app.call(
        Method::PUT,
        "driver/availability",
        Some(&t1.driver_token),
        Some(json!({ "isOnline": true })),
    )
    .await;

    // Two confirms of one hold at once: exactly one makes assignments.
    let (a, b) = tokio::join!(confirm(&app, &t1, &hold_id), confirm(&app, &t1, &hold_id));
    let codes = [a.0, b.0];
    assert!(
        codes.contains(&StatusCode::OK) && codes.contains(&StatusCode::CONFLICT),
        "{a:?} {b:?}"
    );
    let lost = if a.0 == StatusCode::OK { &b.1 } else { &a.1 };
    assert_error(lost, "HOLD_ALREADY_CONFIRMED");
    assert_eq!(app.count_rows("assignments").await, 1);
    assert_eq!(
        app.count_rows("truck_requests WHERE status = 'assigned'")
            .await,
        1
    );

    // Its only vehicle is busy now: it cannot hold the other truck.
    let (status, held) = hold(&app, &t1.token, &order_id, 1).await;
    assert_eq!(status, StatusCode::CONFLICT, "{held}");
    assert_error(&held, "NOT_ENOUGH_VEHICLES");
    assert_eq!(held["error"]["details"]["freeVehicles"], 0);
    let _ = t2;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_driver_or_vehicle_in_two_confirms_at_once_is_assigned_once() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    // A second truck of the same fleet, so two holds can race for one driver.
    let second_truck = json!({ "vehicleNumber": "MH12AB9999", "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    let (_, made) = app
        .call(
            Method::PUT,
            "vehicles/upsert",
            Some(&t1.token),
            Some(second_truck),
        )
        .await;
    let other_vehicle = made["data"]["vehicle"]["id"].as_str().unwrap().to_owned();
    let customer = app.token("9876543210", "customer").await;
    let customer_b = app.token("9876543211", "customer").await;
    let (_, one) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let (_, two) = app.create_order(&customer_b, "key-2", &two_trucks()).await;
    let first_order = one["data"]["order"]["id"].as_str().unwrap().to_owned();
    let second_order = two["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (_, h1) = hold(&app, &t1.token, &first_order, 1).await;
    let (_, h2) = hold(&app, &t1.token, &second_order, 1).await;
    let body = |hold: &Value, vehicle: &str| json!({ "holdId": hold["data"]["holdId"], "assignments": [{ "vehicleId": vehicle, "driverId": t1.driver }] });
    let (a, b) = tokio::join!(
        app.call(
            Method::POST,
            "truck-hold/confirm-with-assignments",
            Some(&t1.token),
            Some(body(&h1, &t1.vehicle))
        ),
        app.call(
            Method::POST,
            "truck-hold/confirm-with-assignments",
            Some(&t1.token),
            Some(body(&h2, &other_vehicle))
        ),
    );
    let codes = [a.0, b.0];
    assert!(
        codes.contains(&StatusCode::OK) && codes.contains(&StatusCode::CONFLICT),
        "{a:?} {b:?}"
    );
    let lost = if a.0 == StatusCode::OK { &b.1 } else { &a.1 };
    assert_eq!(
        lost["error"]["failedAssignments"][0]["reason"], "DRIVER_BUSY",
        "{lost}"
    );
    assert_eq!(
        app.count_rows("assignments WHERE status = 'pending'").await,
        1
    );

    // Now the free vehicle, named with two different drivers at once.
    let (free_vehicle, open_hold) = if a.0 == StatusCode::OK {
        (other_vehicle.clone(), h2)
    } else {
        (t1.vehicle.clone(), h1)
    };
    // A third truck, so the fleet may hold a third order's truck while the
    // open hold waits: both confirms then name the one free vehicle.
    let third_truck = json!({ "vehicleNumber": "MH12AB9998", "vehicleType": "open", "vehicleSubtype": "17 Feet" });
    app.call(
        Method::PUT,
        "vehicles/upsert",
        Some(&t1.token),
        Some(third_truck),
    )
    .await;
    let customer_c = app.token("9876543212", "customer").await;
    let (_, three) = app.create_order(&customer_c, "key-3", &two_trucks()).await;
    let third_order = three["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (_, h3) = hold(&app, &t1.token, &third_order, 1).await;
    let mut drivers = Vec::new();
    for n in [41, 42] {
        let phone = format!("98765432{n}");
        let id = app.onboard_driver(&t1.token, &phone, "Extra").await["id"].clone();
        let token = app.driver_token(&phone).await;
        app.call(
            Method::PUT,
            "driver/availability",
            Some(&token),
            Some(json!({ "isOnline": true })),
        )
        .await;
        drivers.push(id);
    }
    let pair = |hold: &Value, driver: &Value| json!({ "holdId": hold["data"]["holdId"], "assignments": [{ "vehicleId": free_vehicle, "driverId": driver }] });
    let (a, b) = tokio::join!(
        app.call(
            Method::POST,
            "truck-hold/confirm-with-assignments",
            Some(&t1.token),
            Some(pair(&open_hold, &drivers[0]))
        ),
        app.call(
            Method::POST,
            "truck-hold/confirm-with-assignments",
            Some(&t1.token),
            Some(pair(&h3, &drivers[1]))
        ),
    );
    let codes = [a.0, b.0];
    assert!(
        codes.contains(&StatusCode::OK) && codes.contains(&StatusCode::CONFLICT),
        "{a:?} {b:?}"
    );
    let lost = if a.0 == StatusCode::OK { &b.1 } else { &a.1 };
    assert_eq!(
        lost["error"]["failedAssignments"][0]["reason"], "VEHICLE_NOT_AVAILABLE",
        "{lost}"
    );
    assert_eq!(
        app.count_rows("assignments WHERE status = 'pending'").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decline_and_a_timeout_each_reopen_the_truck_and_it_is_broadcast_again() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let made = take_one(&app, &t1, &order_id).await;
    let assignment = made["assignmentIds"][0].as_str().unwrap().to_owned();
    // Someone new comes online near the pickup while the truck is taken.
    let late = fleet_at(&app, 3, (19.0750, 72.8750)).await;
    let mut late_socket = Client::start_long(&app.address, &late.token, None, "new_broadcast");
    late_socket.event("connected").await;

    // The driver declines: truck open again, vehicle free, order active.
    let (status, declined) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/decline"),
            Some(&t1.driver_token),
            Some(json!({ "reason": "" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["data"]["status"], "driver_declined");
    assert_eq!(declined["data"]["declineReason"], "No reason provided");
    assert_eq!(
        order_status(&app, &customer, &order_id).await["status"],
        "active"
    );
    assert_eq!(
        app.count_rows("truck_requests WHERE status = 'searching'")
            .await,
        2
    );
    assert_eq!(
        app.count_rows("vehicles WHERE status = 'available'").await,
        2
    );
    // The reopened truck goes to the transporter not told before.
    let again = late_socket.event("new_broadcast").await;
    assert_eq!(again["orderId"], order_id.as_str());
    let (status, twice) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/decline"),
            Some(&t1.driver_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&twice, "ASSIGNMENT_NOT_PENDING");

    // Taken again; this time the driver never answers.
    let made = take_one(&app, &t1, &order_id).await;
    let assignment = made["assignmentIds"][0].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(44));
    assert_eq!(app.jobs.sweep_once().await.unwrap().timed_out, 0, "not yet");
    app.clock.advance(Duration::seconds(1));
    // Someone else comes online; the timed-out truck reaches them.
    let later = fleet_at(&app, 4, (19.0760, 72.8790)).await;
    let mut later_socket = Client::start_long(&app.address, &later.token, None, "new_broadcast");
    later_socket.event("connected").await;
    let swept = app.jobs.sweep_once().await.unwrap();
    assert_eq!(swept.timed_out, 1);
    // The re-dispatch runs at once in the background, or in this sweep.
    let again = later_socket.event("new_broadcast").await;
    assert_eq!(again["orderId"], order_id.as_str());
    assert_eq!(
        app.count_rows("assignments WHERE status = 'timed_out'")
            .await,
        1
    );
    assert_eq!(
        app.count_rows("truck_requests WHERE status = 'searching'")
            .await,
        2
    );
    let (status, late_answer) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/accept"),
            Some(&t1.driver_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&late_answer, "ASSIGNMENT_NOT_PENDING");
    // The trip-status screen reloads it in the word the captain app knows.
    let (status, seen) = app
        .get_as(&format!("assignments/{assignment}"), &t1.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["data"]["status"], "expired", "{seen}");
    let types = app.replayed_event_types(&t1.token).await;
    assert!(types.iter().any(|t| t == "driver_timeout"), "{types:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_a_filled_order_cancels_the_assignments_and_tells_the_drivers() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let made = take_one(&app, &t1, &order_id).await;
    let mut driver_socket =
        Client::start_long(&app.address, &t1.driver_token, None, "trip_cancelled");
    driver_socket.event("connected").await;
    // A driver connecting with a trip still to answer gets it again.
    let pending = driver_socket.event("trip_assigned").await;
    assert_eq!(pending["assignmentId"], made["assignmentIds"][0]);
    assert_eq!(pending["_reconnectDelivery"], true);
    assert_eq!(pending["remainingSeconds"], 45);
    let (status, cancelled) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{order_id}/cancel"),
            Some(&customer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["data"]["assignmentsCancelled"], 1);
    assert_eq!(cancelled["data"]["driversNotified"], 1);
    let told = driver_socket.event("trip_cancelled").await;
    assert_eq!(told["tripId"], made["tripIds"][0]);
    assert_eq!(
        app.count_rows("assignments WHERE status = 'cancelled'")
            .await,
        1
    );
    assert_eq!(
        app.count_rows("vehicles WHERE status = 'available'").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_radius_widens_on_schedule_to_reach_farther_transporters() {
    let app = spawn_app().await;
    // About 8 km from the pickup: outside 5 km, inside 10 km.
    let far = fleet_at(&app, 1, (19.1480, 72.8777)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    assert_eq!(
        body["data"]["broadcastSummary"]["totalTransportersNotified"],
        0
    );
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (status, _) = hold(&app, &far.token, &order_id, 1).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not told yet");
    app.clock.advance(Duration::seconds(7));
    // Keep the beat fresh as the app would.
    let beat = json!({ "latitude": 19.1480, "longitude": 72.8777 });
    app.call(
        Method::POST,
        "transporter/heartbeat",
        Some(&far.token),
        Some(beat.clone()),
    )
    .await;
    assert_eq!(
        app.jobs.sweep_once().await.unwrap().steps,
        0,
        "step 2 starts at 8 s"
    );
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 1);
    assert_eq!(
        app.count_rows("order_notifications").await,
        1,
        "10 km reaches it"
    );
    let status = order_status(&app, &customer, &order_id).await;
    assert_eq!(status["notifiedTransporters"], 1, "{status}");
    assert_eq!(status["dispatchAttempts"], 2, "{status}");
    let (status, _) = hold(&app, &far.token, &order_id, 1).await;
    assert_eq!(status, StatusCode::OK);
    // Nothing more is due until the next step; the steps end at the last.
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 0);
    app.clock.advance(Duration::seconds(40));
    app.call(
        Method::POST,
        "transporter/heartbeat",
        Some(&far.token),
        Some(beat),
    )
    .await;
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 1);
    assert_eq!(app.count_rows("dispatch_schedule").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_hold_or_confirm_with_its_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let one = json!({ "orderId": order_id, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 1 });
    let (status, first) = app
        .post_keyed("truck-hold/hold", &t1.token, "hold-key", one.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again) = app
        .post_keyed("truck-hold/hold", &t1.token, "hold-key", one)
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["holdId"], first["data"]["holdId"]);
    assert_eq!(app.count_rows("holds").await, 1);
    let two = json!({ "orderId": order_id, "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2 });
    let (status, other) = app
        .post_keyed("truck-hold/hold", &t1.token, "hold-key", two)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&other, "IDEMPOTENCY_CONFLICT");

    let pairs = json!({ "holdId": first["data"]["holdId"], "assignments": [{ "vehicleId": t1.vehicle, "driverId": t1.driver }] });
    let (status, made) = app
        .post_keyed(
            "truck-hold/confirm-with-assignments",
            &t1.token,
            "confirm-key",
            pairs.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (status, replayed) = app
        .post_keyed(
            "truck-hold/confirm-with-assignments",
            &t1.token,
            "confirm-key",
            pairs,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(
        replayed["data"]["assignmentIds"],
        made["data"]["assignmentIds"]
    );
    assert_eq!(app.count_rows("assignments").await, 1);
    // A refused confirm keeps nothing under its key: fixed, it goes through.
    assert_eq!(
        app.count_rows("idempotency_keys WHERE scope = 'confirm-hold'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_transporters_racing_for_the_last_truck_leave_exactly_one_winner() {
    let app = spawn_app().await;
    let fleets = futures_util::future::join_all((0..50).map(|n| {
        // Spread over about a kilometre around the pickup.
        let at = (19.0700 + f64::from(n) * 0.0002, 72.8700);
        let app = &app;
        async move {
            transporter_at(
                app,
                &format!("91234560{n:02}"),
                &format!("MH12CD10{n:02}"),
                at,
            )
            .await
        }
    }))
    .await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let order_id = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    // The nearest 20 per key are told first; widen to reach all 50.
    for _ in 0..2 {
        app.clock.advance(Duration::seconds(8));
        app.jobs.sweep_once().await.unwrap();
    }
    assert_eq!(app.count_rows("order_notifications").await, 50);
    // One truck is taken before the race, so one is left.
    let (status, _) = hold(&app, &fleets[0], &order_id, 1).await;
    assert_eq!(status, StatusCode::OK);

    let outcomes = futures_util::future::join_all(
        fleets[1..]
            .iter()
            .map(|token| hold(&app, token, &order_id, 1)),
    )
    .await;
    let won = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    let lost: Vec<_> = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .collect();
    assert_eq!((won, lost.len()), (1, 48), "{outcomes:?}");
    assert!(
        lost.iter()
            .all(|(_, b)| b["error"]["code"] == "NOT_ENOUGH_AVAILABLE")
    );
    assert_eq!(
        app.count_rows("truck_requests WHERE status = 'held'").await,
        2
    );
    assert_eq!(app.count_rows("holds WHERE status = 'active'").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transporter_back_from_a_disconnect_gets_exactly_what_it_missed() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let mut socket = Client::start_long(&app.address, &t1.token, None, "new_broadcast");
    socket.event("connected").await;
    let customer = app.token("9876543210", "customer").await;
    let (_, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let first_order = body["data"]["order"]["id"].as_str().unwrap().to_owned();
    let seen = socket.event("new_broadcast").await;
    let last_seq = seen["_seq"].as_i64().unwrap();
    drop(socket);

    // While it is away: the order is cancelled and another one comes.
    app.call(
        Method::POST,
        &format!("bookings/orders/{first_order}/cancel"),
        Some(&customer),
        None,
    )
    .await;
    let other = app.token("9876543211", "customer").await;
    let (_, body) = app.create_order(&other, "key-2", &two_trucks()).await;
    let second_order = body["data"]["order"]["id"].as_str().unwrap().to_owned();

    let mut back = Client::start_resuming(&app.address, &t1.token, last_seq, "new_broadcast");
    back.event("connected").await;
    let cancelled = back.event("order_cancelled").await;
    assert_eq!(cancelled["orderId"], first_order.as_str());
    assert_eq!(cancelled["_replayed"], true);
    let broadcast = back.event("new_broadcast").await;
    assert_eq!(broadcast["orderId"], second_order.as_str());
    assert!(broadcast["_seq"].as_i64().unwrap() > cancelled["_seq"].as_i64().unwrap());
    // The replay call pages the same two, and nothing from before.
    let (_, replay) = app
        .get_as(
            &format!("transporter/dispatch/replay?cursor={last_seq}"),
            &t1.token,
        )
        .await;
    let types: Vec<&str> = replay["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 2, "{replay}");
    assert_eq!(types[0], "order_cancelled", "{types:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_sweep_runs_every_due_step_even_beyond_one_batch() {
    let db = weelo_test_support::TestDb::new().await.unwrap();
    let redis = weelo_test_support::TestRedis::new().unwrap();
    let mut settings = crate::helpers::test_settings(&db, &redis);
    settings.orders.sweep_batch = 2;
    let app = crate::helpers::spawn_with(settings, db, redis).await;
    for n in 0..5 {
        let customer = app.token(&format!("98765432{n:02}"), "customer").await;
        let (status, body) = app.create_order(&customer, "key-1", &two_trucks()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(
        app.jobs.sweep_once().await.unwrap().steps,
        0,
        "none due yet"
    );
    app.clock.advance(Duration::seconds(8));
    assert_eq!(
        app.jobs.sweep_once().await.unwrap().steps,
        5,
        "three batches of at most two, in one sweep"
    );
    let mut conn = app.db.connect().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let second: Count = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT count(*) AS count FROM orders WHERE dispatch_attempts = 2"),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(second.count, 5, "every order is at its second step");
    assert_eq!(
        app.jobs.sweep_once().await.unwrap().steps,
        0,
        "each ran once"
    );
}

/// Two 17 ft trucks from Connaught Place to Gurugram, far from any
/// transporter of these tests.
fn two_trucks_in_delhi() -> Value {
    let mut body = two_trucks();
    body["pickup"] = json!({ "latitude": 28.6315, "longitude": 77.2167, "address": "Connaught Place, New Delhi", "city": "Delhi" });
    body["drop"] = json!({ "latitude": 28.4595, "longitude": 77.0266, "address": "Sector 29, Gurugram", "city": "Gurugram" });
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn steps_that_find_nobody_advance_together_while_a_step_with_someone_near_tells_them() {
    let app = spawn_app().await;
    // About 12 km from the Mumbai pickup: outside 10 km, inside 15 km.
    let far = fleet_at(&app, 1, (19.1841, 72.8777)).await;
    let mumbai_customer = app.token("9876543210", "customer").await;
    let delhi_customer = app.token("9876543211", "customer").await;
    let (_, mumbai) = app
        .create_order(&mumbai_customer, "key-1", &two_trucks())
        .await;
    let (status, delhi) = app
        .create_order(&delhi_customer, "key-1", &two_trucks_in_delhi())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{delhi}");
    let mumbai = mumbai["data"]["order"]["id"].as_str().unwrap().to_owned();
    let delhi = delhi["data"]["order"]["id"].as_str().unwrap().to_owned();

    app.clock.advance(Duration::seconds(8));
    assert_eq!(
        app.jobs.sweep_once().await.unwrap().steps,
        2,
        "10 km finds nobody for either"
    );
    assert_eq!(app.count_rows("order_notifications").await, 0);
    for (customer, order) in [(&mumbai_customer, &mumbai), (&delhi_customer, &delhi)] {
        let status = order_status(&app, customer, order).await;
        assert_eq!(status["dispatchAttempts"], 2, "{status}");
    }

    app.clock.advance(Duration::seconds(8));
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 2);
    assert_eq!(
        app.count_rows("order_notifications").await,
        1,
        "15 km reaches the Mumbai transporter"
    );
    for (customer, order, notified) in
        [(&mumbai_customer, &mumbai, 1), (&delhi_customer, &delhi, 0)]
    {
        let status = order_status(&app, customer, order).await;
        assert_eq!(status["dispatchAttempts"], 3, "{status}");
        assert_eq!(status["notifiedTransporters"], notified, "{status}");
    }
    let (status, _) = hold(&app, &far.token, &mumbai, 1).await;
    assert_eq!(status, StatusCode::OK, "told by the step");
    let (status, _) = hold(&app, &far.token, &delhi, 1).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "never told of Delhi");

    // The last step ends both schedules; nothing runs after it.
    app.clock.advance(Duration::seconds(24));
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 2);
    assert_eq!(app.count_rows("dispatch_schedule").await, 0);
    let status = order_status(&app, &delhi_customer, &delhi).await;
    assert_eq!(status["dispatchAttempts"], 6, "{status}");
    app.clock.advance(Duration::seconds(8));
    assert_eq!(app.jobs.sweep_once().await.unwrap().steps, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hold_is_bounded_by_the_fleets_free_vehicles_even_across_orders_at_once() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let customer = app.token("9876543210", "customer").await;
    let customer_b = app.token("9876543211", "customer").await;
    let (_, one) = app.create_order(&customer, "key-1", &two_trucks()).await;
    let (_, two) = app.create_order(&customer_b, "key-2", &two_trucks()).await;
    let first = one["data"]["order"]["id"].as_str().unwrap().to_owned();
    let second = two["data"]["order"]["id"].as_str().unwrap().to_owned();

    let (status, body) = hold(&app, &t1.token, &first, 2).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "NOT_ENOUGH_VEHICLES");
    assert_eq!(body["error"]["details"]["freeVehicles"], 1);
    assert_eq!(app.count_rows("holds").await, 0);

    // One vehicle, two orders, two holds at once: exactly one is placed.
    let (a, b) = tokio::join!(
        hold(&app, &t1.token, &first, 1),
        hold(&app, &t1.token, &second, 1)
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    assert_eq!(app.count_rows("holds WHERE status = 'active'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decline_stands_until_a_truck_of_the_order_is_offered_again() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let t2 = fleet_at(&app, 2, (19.0700, 72.8700)).await;
    let customer = app.token("9876543210", "customer").await;
    let one_truck = {
        let mut body = two_trucks();
        body["vehicleRequirements"][0]["quantity"] = json!(1);
        body
    };
    let (_, created) = app.create_order(&customer, "key-1", &one_truck).await;
    let order_id = created["data"]["order"]["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("broadcasts/{order_id}/decline"),
            Some(&t2.token),
            Some(json!({ "reason": "too far" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = hold(&app, &t2.token, &order_id, 1).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_error(&body, "BROADCAST_DECLINED");

    // t1 takes the truck, its driver declines: the truck is offered again.
    let made = take_one(&app, &t1, &order_id).await;
    let assignment = made["assignmentIds"][0].as_str().unwrap();
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("assignments/{assignment}/decline"),
            Some(&t1.driver_token),
            Some(json!({ "reason": "" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = hold(&app, &t2.token, &order_id, 1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A one-truck order of `customer`, created as `key`: (status, body).
async fn one_truck_order(app: &TestApp, customer: &str, key: &str) -> Value {
    let mut body = two_trucks();
    body["vehicleRequirements"][0]["quantity"] = json!(1);
    let (status, created) = app.create_order(customer, key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vehicle_freed_by_a_cancel_is_offered_at_the_first_step_of_the_next_order() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let first_customer = app.token("9876543210", "customer").await;
    let first = one_truck_order(&app, &first_customer, "key-1").await;
    let order_id = first["order"]["id"].as_str().unwrap().to_owned();
    take_one(&app, &t1, &order_id).await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("bookings/orders/{order_id}/cancel"),
            Some(&first_customer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let next_customer = app.token("9876543211", "customer").await;
    let next = one_truck_order(&app, &next_customer, "key-2").await;

    assert_eq!(
        next["broadcastSummary"]["totalTransportersNotified"], 1,
        "{next}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vehicle_freed_by_a_driver_timeout_is_offered_at_the_first_step_of_the_next_order() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let first_customer = app.token("9876543210", "customer").await;
    let first = one_truck_order(&app, &first_customer, "key-1").await;
    let order_id = first["order"]["id"].as_str().unwrap().to_owned();
    take_one(&app, &t1, &order_id).await;
    app.clock.advance(Duration::seconds(46));
    app.jobs.sweep_once().await.unwrap();
    assert_eq!(
        app.count_rows("assignments WHERE status = 'timed_out'")
            .await,
        1
    );
    // The first order searches again (for others); a second customer's
    // order must reach the fleet whose vehicle is free again.
    let next_customer = app.token("9876543211", "customer").await;
    let next = one_truck_order(&app, &next_customer, "key-2").await;

    assert_eq!(
        next["broadcastSummary"]["totalTransportersNotified"], 1,
        "{next}"
    );
}
