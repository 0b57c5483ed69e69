//! The create statement ([`weelo_persistence::order_batch`]): one
//! statement writes every order of a batch with all its rows, in order; an
//! order whose key is taken is left out alone, and a customer's second
//! searching order refuses the whole batch.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use chrono::{DateTime, Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::OrderDraft;
use weelo_persistence::dispatch::{Notified, Step};
use weelo_persistence::order_batch::{Announcement, NewOrder, create_all};
use weelo_persistence::orders::{self, AnswerKey, Order, TruckRequest};
use weelo_persistence::outbox::NewEvent;
use weelo_test_support::TestDb;

fn order_body() -> Value {
    json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai", "city": "Mumbai", "state": null },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune", "city": "Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2, "pricePerTruck": 9000 },
            { "vehicleType": "container", "vehicleSubtype": "20 Feet", "quantity": 1, "pricePerTruck": 9000 }
        ],
        "goodsType": "General"
    })
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = Text)]
    topic: String,
    #[diesel(sql_type = SqlUuid)]
    order_id: Uuid,
    #[diesel(sql_type = Array<Text>)]
    recipients: Vec<String>,
    #[diesel(sql_type = Jsonb)]
    payload: Value,
}

async fn user(conn: &mut AsyncPgConnection, phone: &str, role: &str) -> Uuid {
    diesel::sql_query("INSERT INTO users (phone, role) VALUES ($1, $2) RETURNING id")
        .bind::<Text, _>(phone)
        .bind::<Text, _>(role)
        .get_result::<Id>(conn)
        .await
        .unwrap()
        .id
}

async fn count(conn: &mut AsyncPgConnection, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT count(*) AS count FROM {table}"))
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .count
}

/// What an order of the batch is made of (the rows borrow from it).
struct Made {
    order: Order,
    trucks: Vec<TruckRequest>,
    key: String,
    answer: String,
    notified: Vec<Notified>,
    events: Vec<NewEvent>,
    rooms: Vec<String>,
}

fn made(customer: Uuid, key: &str, now: DateTime<Utc>) -> Made {
    let draft: OrderDraft = serde_json::from_value(order_body()).unwrap();
    let valid = draft
        .validate(|id| Some(if id == "open" { "open" } else { "container" }))
        .unwrap();
    let keys = vec!["open:17ft".to_owned(), "container:20ft".to_owned()];
    let (order, trucks) =
        orders::new_rows(customer, &valid, &keys, now + Duration::seconds(60), now);
    Made {
        answer: json!({ "orderId": order.id, "key": key }).to_string(),
        rooms: vec![
            format!("customer:{customer}"),
            format!("order:{}", order.id),
        ],
        order,
        trucks,
        key: key.to_owned(),
        notified: Vec::new(),
        events: Vec::new(),
    }
}

fn new_order(made: &Made, now: DateTime<Utc>) -> NewOrder<'_> {
    NewOrder {
        order: &made.order,
        trucks: &made.trucks,
        key: AnswerKey {
            scope: "create-order",
            key: &made.key,
            request_hash: "hash",
            answer: &made.answer,
        },
        first: Step {
            number: 1,
            online_candidates: i32::try_from(made.notified.len()).unwrap(),
            notified: &made.notified,
            events: &made.events,
            next_at: Some(now + Duration::seconds(8)),
        },
        created: Announcement {
            topic: "order_created",
            rooms: &made.rooms,
        },
        route: None,
    }
}

/// An order of each customer, under keys `key-0`, `key-1`…
fn one_each(customers: &[Uuid], now: DateTime<Utc>) -> Vec<Made> {
    customers
        .iter()
        .enumerate()
        .map(|(n, customer)| made(*customer, &format!("key-{n}"), now))
        .collect()
}

async fn three_customers(conn: &mut AsyncPgConnection) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for phone in ["9000000001", "9000000002", "9000000003"] {
        ids.push(user(conn, phone, "customer").await);
    }
    ids
}

#[tokio::test]
async fn a_batch_writes_every_order_with_its_rows_and_events_in_order() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let customers = three_customers(&mut conn).await;
    let transporter = user(&mut conn, "9000000009", "transporter").await;
    weelo_persistence::device_tokens::register(&mut conn, transporter, "tok-t", None, None)
        .await
        .unwrap();
    let now = Utc::now();
    let mut batch = one_each(&customers, now);
    // The second order told one transporter in its first step.
    batch[1].notified.push(Notified {
        transporter_id: transporter,
        distance_m: 1200.0,
    });
    let second = batch[1].order.id;
    batch[1].events.push(NewEvent {
        topic: "new_broadcast",
        recipients: vec![format!("transporter:{transporter}")],
        payload: json!({ "orderId": second }),
        order_id: Some(second),
        push_to: vec![format!("transporter:{transporter}")],
    });
    let items: Vec<NewOrder<'_>> = batch.iter().map(|m| new_order(m, now)).collect();
    assert_eq!(create_all(&mut conn, &items).await.unwrap(), [true; 3]);

    assert_eq!(count(&mut conn, "orders").await, 3);
    assert_eq!(count(&mut conn, "truck_requests").await, 9);
    assert_eq!(count(&mut conn, "idempotency_keys").await, 3);
    assert_eq!(count(&mut conn, "order_notifications").await, 1);
    assert_eq!(count(&mut conn, "dispatch_schedule").await, 3);
    assert_eq!(
        count(&mut conn, "push_jobs").await,
        1,
        "the offer's push job is written with it (the transporter has a token)"
    );
    let events: Vec<Event> =
        diesel::sql_query("SELECT topic, order_id, recipients, payload FROM outbox ORDER BY id")
            .load(&mut conn)
            .await
            .unwrap();
    let seen: Vec<(&str, Uuid)> = events
        .iter()
        .map(|e| (e.topic.as_str(), e.order_id))
        .collect();
    assert_eq!(
        seen,
        [
            ("order_created", batch[0].order.id),
            ("order_created", batch[1].order.id),
            ("new_broadcast", batch[1].order.id),
            ("order_created", batch[2].order.id),
        ],
        "each order's events follow its order_created, orders in batch order"
    );
    for (event, made) in events
        .iter()
        .filter(|e| e.topic == "order_created")
        .zip(&batch)
    {
        assert_eq!(event.recipients, made.rooms);
        assert_eq!(
            event.payload,
            serde_json::from_str::<Value>(&made.answer).unwrap()
        );
    }
    assert_eq!(events[2].recipients, [format!("transporter:{transporter}")]);
    let stored = orders::trucks_of(&mut conn, batch[2].order.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|t| t.order_id == batch[2].order.id));
}

#[tokio::test]
async fn a_customer_already_searching_refuses_the_whole_batch_and_nothing_is_written() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let customers = three_customers(&mut conn).await;
    let now = Utc::now();
    let earlier = made(customers[1], "earlier", now);
    create_all(&mut conn, &[new_order(&earlier, now)])
        .await
        .unwrap();
    let batch = one_each(&customers, now);
    let items: Vec<NewOrder<'_>> = batch.iter().map(|m| new_order(m, now)).collect();
    assert!(create_all(&mut conn, &items).await.is_err());
    assert_eq!(
        count(&mut conn, "orders").await,
        1,
        "only the earlier order"
    );
    assert_eq!(count(&mut conn, "truck_requests").await, 3);
    assert_eq!(count(&mut conn, "idempotency_keys").await, 1);
    assert_eq!(count(&mut conn, "outbox").await, 1);
    assert_eq!(count(&mut conn, "dispatch_schedule").await, 1);
}

#[tokio::test]
async fn a_taken_key_leaves_out_its_order_alone() {
    let db = TestDb::new().await.unwrap();
    let mut conn = db.connect().await.unwrap();
    let customers = three_customers(&mut conn).await;
    let now = Utc::now();
    diesel::sql_query(
        "INSERT INTO idempotency_keys (user_id, scope, idempotency_key, request_hash, \
         response_status, response_body) VALUES ($1, 'create-order', 'key-2', 'other', 201, '{}')",
    )
    .bind::<SqlUuid, _>(customers[2])
    .execute(&mut conn)
    .await
    .unwrap();
    let batch = one_each(&customers, now);
    let items: Vec<NewOrder<'_>> = batch.iter().map(|m| new_order(m, now)).collect();
    assert_eq!(
        create_all(&mut conn, &items).await.unwrap(),
        [true, true, false]
    );
    assert_eq!(count(&mut conn, "orders").await, 2);
    assert_eq!(count(&mut conn, "truck_requests").await, 6);
    assert_eq!(count(&mut conn, "idempotency_keys").await, 3);
    assert_eq!(count(&mut conn, "outbox").await, 2);
    assert_eq!(count(&mut conn, "dispatch_schedule").await, 2);
    assert!(
        orders::trucks_of(&mut conn, batch[2].order.id)
            .await
            .unwrap()
            .is_empty(),
        "nothing of the refused order"
    );
}
