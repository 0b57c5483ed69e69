//! Rows the tests start from, written through the crate's own statements.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;
use uuid::Uuid;
use weelo_orders::OrderDraft;
use weelo_persistence::dispatch::Step;
use weelo_persistence::order_batch::{Announcement, NewOrder};
use weelo_persistence::orders::{self, AnswerKey, CreateRefused, Order, TruckRequest};
use weelo_persistence::users;
use weelo_persistence::vehicles::{self, Upsert, Vehicle, VehicleInput};

/// The key every truck of [`order`] carries.
pub const OPEN_17FT: &str = "open:17ft";

/// A user of `role` with `phone`.
pub async fn user(conn: &mut AsyncPgConnection, phone: &str, role: &str) -> Uuid {
    users::find_or_create(conn, phone, role).await.unwrap().0.id
}

/// A searching order of `customer` with `trucks` open 17 ft trucks, created
/// by the one-statement create; the refusal when it was refused.
pub async fn try_order(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    trucks: u32,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(Order, Vec<TruckRequest>), CreateRefused> {
    let body = json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai" },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": trucks, "pricePerTruck": 9000 }
        ],
        "goodsType": "General"
    });
    let draft: OrderDraft = serde_json::from_value(body).unwrap();
    let valid = draft.validate(|_| Some("open")).unwrap();
    let (order, rows) = orders::new_rows(
        customer,
        &valid,
        &[OPEN_17FT.to_owned()],
        now + Duration::seconds(60),
        now,
    );
    let answer = json!({ "orderId": order.id }).to_string();
    let key = AnswerKey {
        scope: "create-order",
        key,
        request_hash: "hash",
        answer: &answer,
    };
    let first = Step {
        number: 1,
        online_candidates: 0,
        notified: &[],
        events: &[],
        next_at: Some(now + Duration::seconds(8)),
    };
    let rooms = [
        format!("customer:{customer}"),
        format!("order:{}", order.id),
    ];
    let item = NewOrder {
        order: &order,
        trucks: &rows,
        key,
        first,
        created: Announcement {
            topic: "order_created",
            rooms: &rooms,
        },
        route: None,
    };
    orders::create(conn, item)
        .await
        .unwrap()
        .map(|()| (order, rows))
}

/// [`try_order`] that must succeed.
pub async fn order(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    trucks: u32,
    now: DateTime<Utc>,
) -> (Order, Vec<TruckRequest>) {
    try_order(conn, customer, trucks, &Uuid::new_v4().to_string(), now)
        .await
        .unwrap()
}

/// A free open 17 ft vehicle of `transporter` numbered `number`.
pub async fn vehicle(
    conn: &mut AsyncPgConnection,
    transporter: Uuid,
    number: &str,
    now: DateTime<Utc>,
) -> Upsert {
    let input = VehicleInput {
        vehicle_number: number,
        vehicle_type: "open",
        vehicle_subtype: "17 Feet",
        vehicle_key: OPEN_17FT,
        capacity: None,
        model: None,
        year: None,
        rc_number: None,
    };
    vehicles::upsert(conn, transporter, &input, now)
        .await
        .unwrap()
}

/// The vehicle an upsert saved.
pub fn saved(upsert: Upsert) -> (Box<Vehicle>, bool) {
    match upsert {
        Upsert::Saved(vehicle, is_new) => (vehicle, is_new),
        Upsert::NumberTaken => panic!("the number was taken"),
    }
}

/// The statuses of `order`'s trucks, by request number.
pub async fn truck_statuses(conn: &mut AsyncPgConnection, order: Uuid) -> Vec<String> {
    let mut trucks = orders::trucks_of(conn, order).await.unwrap();
    trucks.sort_by_key(|t| t.request_number);
    trucks
        .into_iter()
        .map(|t| t.status.as_str().to_owned())
        .collect()
}

/// Now to the whole second: what PostgreSQL stores (microseconds) compares
/// equal to what was sent.
pub fn now_s() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(0)
}
