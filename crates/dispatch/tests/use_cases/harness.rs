//! One instance's use cases over a test database and key prefix, a manual
//! clock, and the fleets the tests dispatch to (made through the use cases
//! the apps call).

#![expect(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::sync::Arc;

use chrono::Duration;
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_availability::{Point, VehicleKey};
use weelo_cache::{Cache, RedisSettings};
use weelo_dispatch::accounts::users;
use weelo_dispatch::assignments::Answer;
use weelo_dispatch::broadcast::DispatchJobs;
use weelo_dispatch::documents::{Storage, StorageSettings};
use weelo_dispatch::holds::{self, HoldRequest};
use weelo_dispatch::idempotent::Keyed;
use weelo_dispatch::orders::service;
use weelo_dispatch::places::PlacesMetrics;
use weelo_dispatch::presence::switch;
use weelo_dispatch::pricing::{Prices, QuoteSeal};
use weelo_dispatch::push::{LogSender, PushMetrics};
use weelo_dispatch::sockets::NoSockets;
use weelo_dispatch::{Dispatch, DispatchError, DispatchSettings, ErrorCode, Providers, fleet};
use weelo_orders::{ManualClock, Role};
use weelo_persistence::outbox::{self, StoredEvent};
use weelo_persistence::users::NewDriver;
use weelo_persistence::vehicles::VehicleInput;
use weelo_persistence::{DatabaseSettings, build_pool};
use weelo_test_support::{TestDb, TestFolder, TestRedis, config_section, rate_card};

/// Near the pickup of [`order_body`] (Andheri East, Mumbai).
pub const NEAR: (f64, f64) = (19.0800, 72.8800);

/// The handles of one instance and what the test needs to look inside.
pub struct Harness {
    pub dispatch: Dispatch,
    pub clock: Arc<ManualClock>,
    pub jobs: DispatchJobs,
    pub db: TestDb,
    pub redis: TestRedis,
    /// Removed (with the objects) when the harness drops.
    pub _objects: TestFolder,
}

/// A transporter with one open 17 ft truck and one online driver, online
/// and beating at a place.
pub struct Fleet {
    pub transporter: Uuid,
    pub vehicle: Uuid,
    pub driver: Uuid,
}

/// What [`Harness::assigned`] made.
pub struct Assigned {
    pub fleet: Fleet,
    pub customer: Uuid,
    pub order: Uuid,
    pub assignment: Uuid,
    pub trip: Uuid,
}

impl Harness {
    pub async fn start() -> Self {
        Self::start_tuned(|_| {}).await
    }

    /// [`Harness::start`] with the settings changed by `tune`.
    pub async fn start_tuned(tune: impl FnOnce(&mut DispatchSettings)) -> Self {
        let db = TestDb::new().await.unwrap();
        let redis = TestRedis::new().unwrap();
        let mut database: DatabaseSettings = config_section("database").unwrap();
        database.url = db.secret_url();
        let mut cache: RedisSettings = config_section("redis").unwrap();
        cache.url = redis.url().to_owned().into();
        cache.key_prefix = redis.prefix().to_owned();
        let mut settings = DispatchSettings {
            orders: config_section("orders").unwrap(),
            presence: config_section("presence").unwrap(),
            tracking: config_section("tracking").unwrap(),
            push: config_section("push").unwrap(),
            maps: config_section("maps").unwrap(),
            kyc: config_section("kyc").unwrap(),
        };
        tune(&mut settings);
        let clock = Arc::new(ManualClock::starting_now());
        let objects = TestFolder::new("objects").unwrap();
        let dispatch = Dispatch::build(
            build_pool(&database).unwrap(),
            Cache::connect(&cache).unwrap(),
            clock.clone(),
            settings,
            Arc::new(NoSockets),
            Providers {
                push_sender: Arc::new(LogSender),
                push_metrics: PushMetrics::new().unwrap(),
                places_metrics: PlacesMetrics::new().unwrap(),
                storage: Storage::open(
                    StorageSettings {
                        url: objects.url(),
                        ..config_section("storage").unwrap()
                    },
                    b"the use case tests' file secret",
                )
                .unwrap(),
            },
            Prices {
                catalogue: Arc::new(rate_card().unwrap()),
                seal: QuoteSeal::new(b"the use case tests' quote secret"),
            },
        );
        let jobs = DispatchJobs::new(dispatch.clone());
        Self {
            dispatch,
            clock,
            jobs,
            db,
            redis,
            _objects: objects,
        }
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        self.db.connect().await.unwrap()
    }

    /// The `count` column of one row of `sql`.
    pub async fn count(&self, sql: &str) -> i64 {
        use diesel_async::RunQueryDsl;
        let counted: Count = diesel::sql_query(sql)
            .get_result(&mut self.conn().await)
            .await
            .unwrap();
        counted.count
    }

    pub async fn customer(&self, phone: &str) -> Uuid {
        users::find_or_create(&self.dispatch, phone, Role::Customer)
            .await
            .unwrap()
            .0
            .id
    }

    /// Fleet number `n` at `at`: a transporter online with one free truck
    /// and one online driver.
    pub async fn fleet_at(&self, n: u32, at: (f64, f64)) -> Fleet {
        let d = &self.dispatch;
        let (user, _) = users::find_or_create(d, &format!("91234567{n:02}"), Role::Transporter)
            .await
            .unwrap();
        let transporter = user.id;
        let number = format!("MH12AB12{n:02}");
        let key = VehicleKey::new("open", "17 Feet").unwrap();
        let input = VehicleInput {
            vehicle_number: &number,
            vehicle_type: "open",
            vehicle_subtype: "17 Feet",
            vehicle_key: key.as_str(),
            capacity: None,
            model: None,
            year: None,
            rc_number: None,
        };
        let (vehicle, _) = fleet::save_vehicle(d, transporter, &input).await.unwrap();
        let phone = format!("98765432{n:02}");
        let name = format!("Driver {n}");
        let driver = fleet::create_driver(
            d,
            &NewDriver {
                phone: &phone,
                role: "driver",
                name: Some(&name),
                email: None,
                license_number: None,
                transporter_id: transporter,
                is_verified: true,
            },
        )
        .await
        .unwrap();
        switch::switch_driver(d, driver.id, true).await.unwrap();
        switch::switch_transporter(d, transporter, true)
            .await
            .unwrap();
        switch::heartbeat(d, transporter, Point::new(at.0, at.1), false, None)
            .await
            .unwrap();
        Fleet {
            transporter,
            vehicle: vehicle.id,
            driver: driver.id,
        }
    }

    /// Creates `body` for `customer` under `key`; the answer's `data`.
    pub async fn create(
        &self,
        customer: Uuid,
        key: &str,
        body: Value,
    ) -> Result<Value, DispatchError> {
        let answer = service::create(&self.dispatch, customer, key, body).await?;
        Ok(serde_json::from_str(&answer.data).unwrap())
    }

    /// [`Harness::create`] of [`order_body`] with `trucks` trucks; the order id.
    pub async fn order(&self, customer: Uuid, trucks: u32) -> Uuid {
        let data = self
            .create(customer, &Uuid::new_v4().to_string(), order_body(trucks))
            .await
            .unwrap();
        data["order"]["id"].as_str().unwrap().parse().unwrap()
    }

    /// Holds `quantity` open 17 ft trucks of `order`.
    pub async fn hold(
        &self,
        fleet: &Fleet,
        order: Uuid,
        quantity: i32,
    ) -> Result<Value, DispatchError> {
        match self.hold_keyed(fleet, order, quantity, None).await? {
            Answer::Done(data) => Ok(data),
            Answer::Replay => panic!("no key, no replay"),
        }
    }

    /// [`Harness::hold`] under an idempotency key.
    pub async fn hold_keyed(
        &self,
        fleet: &Fleet,
        order: Uuid,
        quantity: i32,
        keyed: Option<&Keyed>,
    ) -> Result<Answer, DispatchError> {
        let request = HoldRequest {
            order_id: order,
            vehicle_type: "open".to_owned(),
            vehicle_subtype: "17 Feet".to_owned(),
            key: VehicleKey::new("open", "17 Feet").unwrap(),
            quantity,
        };
        holds::place(&self.dispatch, fleet.transporter, &request, keyed).await
    }

    /// Fleet 1 near the pickup, a customer's one-truck order, and that
    /// truck held and confirmed by the fleet.
    pub async fn assigned(&self) -> Assigned {
        let fleet = self.fleet_at(1, NEAR).await;
        let customer = self.customer("9876543210").await;
        let order = self.order(customer, 1).await;
        let confirmed = self.take_one(&fleet, order).await;
        let first = |name: &str| -> Uuid { confirmed[name][0].as_str().unwrap().parse().unwrap() };
        Assigned {
            assignment: first("assignmentIds"),
            trip: first("tripIds"),
            fleet,
            customer,
            order,
        }
    }

    /// Holds one truck and confirms it with the fleet's pair; the confirm's data.
    pub async fn take_one(&self, fleet: &Fleet, order: Uuid) -> Value {
        let held = self.hold(fleet, order, 1).await.unwrap();
        let hold_id: Uuid = held["holdId"].as_str().unwrap().parse().unwrap();
        let pair = weelo_persistence::assignments::Pair {
            vehicle_id: fleet.vehicle,
            driver_id: fleet.driver,
        };
        match weelo_dispatch::assignments::confirm(
            &self.dispatch,
            fleet.transporter,
            hold_id,
            &[pair],
            None,
        )
        .await
        .unwrap()
        {
            Answer::Done(data) => data,
            Answer::Replay => panic!("no key, no replay"),
        }
    }

    /// The order's events, oldest first.
    pub async fn events(&self, order: Uuid) -> Vec<StoredEvent> {
        outbox::of_order(&mut self.conn().await, order)
            .await
            .unwrap()
    }

    /// Every event sent to `room` (fleet events included), oldest first.
    pub async fn events_of_room(&self, room: &str) -> Vec<StoredEvent> {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(
            "SELECT id, seq, topic, recipients, payload, order_id, created_at FROM outbox \
             WHERE $1 = ANY(recipients) ORDER BY id",
        )
        .bind::<diesel::sql_types::Text, _>(room)
        .load(&mut self.conn().await)
        .await
        .unwrap()
    }

    /// The names of the order's events sent to `room`.
    pub async fn events_to(&self, order: Uuid, room: &str) -> Vec<String> {
        self.events(order)
            .await
            .into_iter()
            .filter(|e| e.recipients.iter().flatten().any(|r| r == room))
            .map(|e| e.topic)
            .collect()
    }
}

/// An order of `trucks` open 17 ft trucks from Andheri to Pune.
pub fn order_body(trucks: u32) -> Value {
    json!({
        "pickup": { "latitude": 19.0760, "longitude": 72.8777, "address": "Andheri East, Mumbai", "city": "Mumbai" },
        "drop": { "latitude": 18.5204, "longitude": 73.8567, "address": "Hadapsar, Pune", "city": "Pune" },
        "distanceKm": 150,
        "vehicleRequirements": [
            { "vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": trucks, "pricePerTruck": 9000 }
        ],
        "goodsType": "General"
    })
}

/// The code a refusal carries.
pub fn code_of<T: std::fmt::Debug>(result: Result<T, DispatchError>) -> ErrorCode {
    result.unwrap_err().code()
}

/// The id field `name` of a JSON answer.
pub fn id(value: &Value, name: &str) -> Uuid {
    value[name].as_str().unwrap().parse().unwrap()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}
