//! The create statement: one or several new orders, each with all its
//! rows, in one statement (the group commit of order creation).
//!
//! Under load, creates that arrive together are written by one statement
//! and one commit instead of one each; PostgreSQL's cost per statement
//! (setting up the plan of six inserts, the bind, the commit and its WAL
//! flush, the round trip) is then paid once per batch. Each order claims
//! its idempotency key first and is written only if it got it, so an order
//! whose key is taken is left out alone and reported. A customer's second
//! searching order trips the partial unique index, which fails the whole
//! statement: the caller then writes that batch one order at a time with
//! [`crate::orders::create`] (a batch of one), which names the refusal.
//! Such conflicts are rare (a double tap), so the fallback costs little.

use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::cached::cached;
use crate::raw_json::RawJson;
use crate::rows::{AnswerKey, Order, Step, TruckRequest};

/// One order of a batch: its rows, the key it is answered under, its first
/// dispatch step (as for [`crate::orders::create`]).
#[derive(Debug, Clone, Copy)]
pub struct NewOrder<'a> {
    /// The order row (with its first step's figures).
    pub order: &'a Order,
    /// Its truck requests.
    pub trucks: &'a [TruckRequest],
    /// The idempotency key and the answer.
    pub key: AnswerKey<'a>,
    /// The first dispatch step.
    pub first: Step<'a>,
    /// The event that announces the order (its payload is the answer).
    pub created: Announcement<'a>,
    /// The road distance the server measured, when it did.
    pub route: Option<Measured<'a>>,
}

/// A road distance the server measured over an order's points.
#[derive(Debug, Clone, Copy)]
pub struct Measured<'a> {
    /// Whole kilometres.
    pub distance_km: i32,
    /// Who measured it (`google`, `open`, `embedded`).
    pub source: &'a str,
}

/// The name and rooms of the event a new order is announced with.
#[derive(Debug, Clone, Copy)]
pub struct Announcement<'a> {
    /// Event name.
    pub topic: &'a str,
    /// Rooms.
    pub rooms: &'a [String],
}

const CREATE_ALL_SQL: &str = "
WITH i AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::float8[], $4::float8[], $5::text[],
        $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[], $11::text[], $12::text[],
        $13::jsonb[], $14::int4[], $15::text[], $16::int4[], $17::int8[], $18::text[], $19::text[],
        $20::timestamptz[], $21::int4[], $22::int4[], $23::int4[], $24::timestamptz[], $25::text[],
        $26::text[], $27::text[], $28::jsonb[], $29::timestamptz[], $30::jsonb[])
    WITH ORDINALITY AS i(id, customer_id, pickup_latitude, pickup_longitude, pickup_address,
        pickup_city, pickup_state, drop_latitude, drop_longitude, drop_address, drop_city,
        drop_state, stops, distance_km, goods_type, total_trucks, total_amount, status,
        dispatch_state, expires_at, dispatch_attempts, online_candidates, notified_transporters,
        created_at, scope, idempotency_key, request_hash, answer, next_at, rooms, position)
), claim AS (
    INSERT INTO idempotency_keys (user_id, scope, idempotency_key, request_hash,
        response_status, response_body, created_at)
    SELECT customer_id, scope, idempotency_key, request_hash, 201, answer, created_at
    FROM i ORDER BY position
    ON CONFLICT DO NOTHING
    RETURNING user_id, scope, idempotency_key
), o AS (
    INSERT INTO orders (id, customer_id, pickup_latitude, pickup_longitude, pickup_address,
        pickup_city, pickup_state, drop_latitude, drop_longitude, drop_address, drop_city,
        drop_state, stops, distance_km, goods_type, total_trucks, total_amount, status,
        dispatch_state, expires_at, dispatch_attempts, online_candidates,
        notified_transporters, created_at, updated_at)
    SELECT i.id, i.customer_id, i.pickup_latitude, i.pickup_longitude, i.pickup_address,
        i.pickup_city, i.pickup_state, i.drop_latitude, i.drop_longitude, i.drop_address,
        i.drop_city, i.drop_state, i.stops, i.distance_km, i.goods_type, i.total_trucks,
        i.total_amount, i.status, i.dispatch_state, i.expires_at, i.dispatch_attempts,
        i.online_candidates, i.notified_transporters, i.created_at, i.created_at
    FROM i JOIN claim c ON c.user_id = i.customer_id AND c.scope = i.scope
        AND c.idempotency_key = i.idempotency_key
    ORDER BY i.position
    RETURNING id
), t AS (
    INSERT INTO truck_requests (id, order_id, request_number, vehicle_type, vehicle_subtype,
        vehicle_key, price_per_truck, created_at, updated_at, client_price_per_truck,
        server_price_per_truck)
    SELECT x.id, x.order_id, x.n, x.t, x.s, x.k, x.p, x.at, x.at, x.cp, x.sp
    FROM unnest($31::uuid[], $32::uuid[], $33::int4[], $34::text[], $35::text[], $36::text[],
        $37::int4[], $38::timestamptz[], $55::int4[], $56::int4[])
        AS x(id, order_id, n, t, s, k, p, at, cp, sp)
    JOIN o ON o.id = x.order_id
    RETURNING 1
), n AS (
    INSERT INTO order_notifications (order_id, transporter_id, step, distance_m, notified_at)
    SELECT x.order_id, x.t, x.step, x.d, x.at
    FROM unnest($39::uuid[], $40::uuid[], $41::int4[], $42::float8[], $43::timestamptz[])
        AS x(order_id, t, step, d, at)
    JOIN o ON o.id = x.order_id
    RETURNING 1
), e AS (
    INSERT INTO outbox (topic, recipients, payload, order_id, created_at, push_to)
    SELECT x.topic, x.rooms, x.payload, x.order_id, x.at, x.push_to
    FROM (
        SELECT i.position AS batch_position, 0::int8 AS position, ($50::text[])[i.position] AS topic,
            ARRAY(SELECT jsonb_array_elements_text(i.rooms)) AS rooms, i.answer AS payload,
            i.id AS order_id, i.created_at AS at, '{}'::text[] AS push_to
        FROM i
        UNION ALL
        SELECT y.batch_position, y.position, y.topic,
            ARRAY(SELECT jsonb_array_elements_text(y.rooms)), y.payload, y.order_id, y.at,
            ARRAY(SELECT jsonb_array_elements_text(y.push_to))
        FROM unnest($44::int8[], $45::text[], $46::jsonb[], $47::jsonb[], $48::uuid[],
            $49::timestamptz[], $51::jsonb[]) WITH ORDINALITY
            AS y(batch_position, topic, rooms, payload, order_id, at, push_to, position)
    ) AS x
    JOIN o ON o.id = x.order_id
    ORDER BY x.batch_position, x.position
    RETURNING 1
), r AS (
    INSERT INTO order_routes (order_id, distance_km, source)
    SELECT x.order_id, x.km, x.source
    FROM unnest($52::uuid[], $53::int4[], $54::text[]) AS x(order_id, km, source)
    JOIN o ON o.id = x.order_id
    RETURNING 1
), s AS (
    INSERT INTO dispatch_schedule (order_id, due_at)
    SELECT i.id, i.next_at FROM i JOIN o ON o.id = i.id
    WHERE i.next_at IS NOT NULL
    RETURNING 1
)
SELECT ARRAY(SELECT id FROM o) AS created";

/// The columns of the orders, one array per column.
#[derive(Default)]
struct OrderColumns<'a> {
    id: Vec<uuid::Uuid>,
    customer_id: Vec<uuid::Uuid>,
    pickup_latitude: Vec<f64>,
    pickup_longitude: Vec<f64>,
    pickup_address: Vec<&'a str>,
    pickup_city: Vec<Option<&'a str>>,
    pickup_state: Vec<Option<&'a str>>,
    drop_latitude: Vec<f64>,
    drop_longitude: Vec<f64>,
    drop_address: Vec<&'a str>,
    drop_city: Vec<Option<&'a str>>,
    drop_state: Vec<Option<&'a str>>,
    stops: Vec<&'a serde_json::Value>,
    distance_km: Vec<i32>,
    goods_type: Vec<Option<&'a str>>,
    total_trucks: Vec<i32>,
    total_amount: Vec<i64>,
    status: Vec<&'a str>,
    dispatch_state: Vec<&'a str>,
    expires_at: Vec<chrono::DateTime<chrono::Utc>>,
    dispatch_attempts: Vec<i32>,
    online_candidates: Vec<i32>,
    notified_transporters: Vec<i32>,
    created_at: Vec<chrono::DateTime<chrono::Utc>>,
    scope: Vec<&'a str>,
    key: Vec<&'a str>,
    request_hash: Vec<&'a str>,
    answer: Vec<RawJson<'a>>,
    next_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    rooms: Vec<serde_json::Value>,
    topic: Vec<&'a str>,
    route_order: Vec<uuid::Uuid>,
    route_km: Vec<i32>,
    route_source: Vec<&'a str>,
}

/// The truck requests of every order.
#[derive(Default)]
struct TruckColumns<'a> {
    id: Vec<uuid::Uuid>,
    order_id: Vec<uuid::Uuid>,
    number: Vec<i32>,
    vehicle_type: Vec<&'a str>,
    vehicle_subtype: Vec<&'a str>,
    vehicle_key: Vec<&'a str>,
    price: Vec<i32>,
    at: Vec<chrono::DateTime<chrono::Utc>>,
    client_price: Vec<Option<i32>>,
    server_price: Vec<Option<i32>>,
}

/// The first steps' notifications and events of every order.
#[derive(Default)]
struct StepColumns<'a> {
    notified_order: Vec<uuid::Uuid>,
    notified_transporter: Vec<uuid::Uuid>,
    notified_step: Vec<i32>,
    notified_distance: Vec<f64>,
    notified_at: Vec<chrono::DateTime<chrono::Utc>>,
    event_position: Vec<i64>,
    event_topic: Vec<&'a str>,
    event_rooms: Vec<serde_json::Value>,
    event_payload: Vec<&'a serde_json::Value>,
    event_order: Vec<uuid::Uuid>,
    event_at: Vec<chrono::DateTime<chrono::Utc>>,
    event_push_to: Vec<serde_json::Value>,
}

fn columns<'a>(batch: &[NewOrder<'a>]) -> (OrderColumns<'a>, TruckColumns<'a>, StepColumns<'a>) {
    let (mut o, mut t, mut s) = (
        OrderColumns::default(),
        TruckColumns::default(),
        StepColumns::default(),
    );
    for (position, item) in (1_i64..).zip(batch) {
        let order = item.order;
        o.id.push(order.id);
        o.customer_id.push(order.customer_id);
        o.pickup_latitude.push(order.pickup_latitude);
        o.pickup_longitude.push(order.pickup_longitude);
        o.pickup_address.push(&order.pickup_address);
        o.pickup_city.push(order.pickup_city.as_deref());
        o.pickup_state.push(order.pickup_state.as_deref());
        o.drop_latitude.push(order.drop_latitude);
        o.drop_longitude.push(order.drop_longitude);
        o.drop_address.push(&order.drop_address);
        o.drop_city.push(order.drop_city.as_deref());
        o.drop_state.push(order.drop_state.as_deref());
        o.stops.push(&order.stops);
        o.distance_km.push(order.distance_km);
        o.goods_type.push(order.goods_type.as_deref());
        o.total_trucks.push(order.total_trucks);
        o.total_amount.push(order.total_amount);
        o.status.push(order.status.as_str());
        o.dispatch_state.push(order.dispatch_state.as_str());
        o.expires_at.push(order.expires_at);
        o.dispatch_attempts.push(order.dispatch_attempts);
        o.online_candidates.push(order.online_candidates);
        o.notified_transporters.push(order.notified_transporters);
        o.created_at.push(order.created_at);
        o.scope.push(item.key.scope);
        o.key.push(item.key.key);
        o.request_hash.push(item.key.request_hash);
        o.answer.push(RawJson(item.key.answer));
        o.next_at.push(item.first.next_at);
        o.rooms
            .push(serde_json::Value::from(item.created.rooms.to_vec()));
        o.topic.push(item.created.topic);
        if let Some(route) = item.route {
            o.route_order.push(order.id);
            o.route_km.push(route.distance_km);
            o.route_source.push(route.source);
        }
        for truck in item.trucks {
            t.id.push(truck.id);
            t.order_id.push(order.id);
            t.number.push(truck.request_number);
            t.vehicle_type.push(&truck.vehicle_type);
            t.vehicle_subtype.push(&truck.vehicle_subtype);
            t.vehicle_key.push(&truck.vehicle_key);
            t.price.push(truck.price_per_truck);
            t.at.push(order.created_at);
            t.client_price.push(truck.client_price_per_truck);
            t.server_price.push(truck.server_price_per_truck);
        }
        for notified in item.first.notified {
            s.notified_order.push(order.id);
            s.notified_transporter.push(notified.transporter_id);
            s.notified_step.push(item.first.number);
            s.notified_distance.push(notified.distance_m);
            s.notified_at.push(order.created_at);
        }
        for event in item.first.events {
            s.event_position.push(position);
            s.event_topic.push(event.topic);
            s.event_rooms
                .push(serde_json::Value::from(event.recipients.clone()));
            s.event_payload.push(&event.payload);
            s.event_order.push(order.id);
            s.event_at.push(order.created_at);
            s.event_push_to
                .push(serde_json::Value::from(event.push_to.clone()));
        }
    }
    (o, t, s)
}

/// Writes every order of `batch` whose idempotency key is free, each with
/// all its rows, in one statement; returns, per order, whether it was
/// written (`false`: its key was taken, and nothing of it was written). An
/// error (a customer's second searching order among them) means nothing
/// was written.
pub async fn create_all(
    conn: &mut AsyncPgConnection,
    batch: &[NewOrder<'_>],
) -> QueryResult<Vec<bool>> {
    #[derive(QueryableByName)]
    struct Created {
        #[diesel(sql_type = Array<SqlUuid>)]
        created: Vec<uuid::Uuid>,
    }
    let (o, t, s) = columns(batch);
    let created = cached(
        diesel::sql_query(CREATE_ALL_SQL)
            .bind::<Array<SqlUuid>, _>(o.id)
            .bind::<Array<SqlUuid>, _>(o.customer_id)
            .bind::<Array<Double>, _>(o.pickup_latitude)
            .bind::<Array<Double>, _>(o.pickup_longitude)
            .bind::<Array<Text>, _>(o.pickup_address)
            .bind::<Array<Nullable<Text>>, _>(o.pickup_city)
            .bind::<Array<Nullable<Text>>, _>(o.pickup_state)
            .bind::<Array<Double>, _>(o.drop_latitude)
            .bind::<Array<Double>, _>(o.drop_longitude)
            .bind::<Array<Text>, _>(o.drop_address)
            .bind::<Array<Nullable<Text>>, _>(o.drop_city)
            .bind::<Array<Nullable<Text>>, _>(o.drop_state)
            .bind::<Array<Jsonb>, _>(o.stops)
            .bind::<Array<Integer>, _>(o.distance_km)
            .bind::<Array<Nullable<Text>>, _>(o.goods_type)
            .bind::<Array<Integer>, _>(o.total_trucks)
            .bind::<Array<BigInt>, _>(o.total_amount)
            .bind::<Array<Text>, _>(o.status)
            .bind::<Array<Text>, _>(o.dispatch_state)
            .bind::<Array<Timestamptz>, _>(o.expires_at)
            .bind::<Array<Integer>, _>(o.dispatch_attempts)
            .bind::<Array<Integer>, _>(o.online_candidates)
            .bind::<Array<Integer>, _>(o.notified_transporters)
            .bind::<Array<Timestamptz>, _>(o.created_at)
            .bind::<Array<Text>, _>(o.scope)
            .bind::<Array<Text>, _>(o.key)
            .bind::<Array<Text>, _>(o.request_hash)
            .bind::<Array<Jsonb>, _>(o.answer)
            .bind::<Array<Nullable<Timestamptz>>, _>(o.next_at)
            .bind::<Array<Jsonb>, _>(o.rooms)
            .bind::<Array<SqlUuid>, _>(t.id)
            .bind::<Array<SqlUuid>, _>(t.order_id)
            .bind::<Array<Integer>, _>(t.number)
            .bind::<Array<Text>, _>(t.vehicle_type)
            .bind::<Array<Text>, _>(t.vehicle_subtype)
            .bind::<Array<Text>, _>(t.vehicle_key)
            .bind::<Array<Integer>, _>(t.price)
            .bind::<Array<Timestamptz>, _>(t.at)
            .bind::<Array<SqlUuid>, _>(s.notified_order)
            .bind::<Array<SqlUuid>, _>(s.notified_transporter)
            .bind::<Array<Integer>, _>(s.notified_step)
            .bind::<Array<Double>, _>(s.notified_distance)
            .bind::<Array<Timestamptz>, _>(s.notified_at)
            .bind::<Array<BigInt>, _>(s.event_position)
            .bind::<Array<Text>, _>(s.event_topic)
            .bind::<Array<Jsonb>, _>(s.event_rooms)
            .bind::<Array<Jsonb>, _>(s.event_payload)
            .bind::<Array<SqlUuid>, _>(s.event_order)
            .bind::<Array<Timestamptz>, _>(s.event_at)
            .bind::<Array<Text>, _>(o.topic)
            .bind::<Array<Jsonb>, _>(s.event_push_to)
            .bind::<Array<SqlUuid>, _>(o.route_order)
            .bind::<Array<Integer>, _>(o.route_km)
            .bind::<Array<Text>, _>(o.route_source)
            .bind::<Array<Nullable<Integer>>, _>(t.client_price)
            .bind::<Array<Nullable<Integer>>, _>(t.server_price),
    )
    .get_result::<Created>(conn)
    .await?;
    Ok(batch
        .iter()
        .map(|item| created.created.contains(&item.order.id))
        .collect())
}
