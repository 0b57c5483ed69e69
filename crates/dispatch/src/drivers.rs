//! A driver's figures as the captain app shows them: the dashboard (docs/app-contract.md
//! tier 1: today's trips, earnings and distance, the week's and month's
//! earnings, acceptance, the active trip and the latest trips), earnings
//! per period with a day-by-day breakdown, and performance. A driver sees
//! its own; a transporter sees its fleet's drivers' (`driverId`), and
//! another fleet's driver is `DRIVER_NOT_FOUND`. Days are India's days.
//!
//! `rating` and `totalRatings` are the customers' ratings of the driver's
//! trips. `onTimeDeliveryRate` is left out: no trip has a promised arrival
//! time to be on time for (the ETA work brings one).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::Role;
use weelo_persistence::driver_figures::{self, Answers, Totals};
use weelo_persistence::ratings::{self, Average};
use weelo_persistence::users::User;
use weelo_persistence::{orders, trips, users};

use crate::tracking::view::trip_data;
use crate::wire::{INDIA, iso};
use crate::{Dispatch, DispatchError, ErrorCode};

/// The periods of `driver/earnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Since midnight.
    Today,
    /// Today and the six days before.
    Week,
    /// Today and the 29 days before.
    Month,
}

impl Period {
    /// `today`, `week` or `month`.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "today" => Some(Self::Today),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    /// Its word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Today => "today",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// When it starts, for `now`: a midnight in India.
    pub fn since(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let days_before = match self {
            Self::Today => 0,
            Self::Week => 6,
            Self::Month => 29,
        };
        midnight_in_india(now) - Duration::days(days_before)
    }
}

/// The last midnight in India before `now`.
pub fn midnight_in_india(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = now.with_timezone(&INDIA).date_naive();
    INDIA
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map_or(now, |midnight| midnight.with_timezone(&Utc))
}

/// The driver whose figures `caller` (in `role`) asks for: its own, or
/// with `driver_id` one of its fleet's.
pub async fn subject(
    state: &Dispatch,
    role: Role,
    caller: Uuid,
    driver_id: Option<Uuid>,
) -> Result<User, DispatchError> {
    let not_found = || DispatchError::refused(ErrorCode::DriverNotFound, "driver not found");
    let wanted = match (role, driver_id) {
        (Role::Driver, None) => caller,
        (Role::Driver, Some(id)) if id == caller => caller,
        (Role::Transporter, Some(id)) => id,
        (Role::Transporter, None) => {
            return Err(DispatchError::invalid_field(
                "driverId",
                "driverId names one of your drivers",
            ));
        }
        (Role::Driver, Some(_)) => return Err(not_found()),
        (Role::Customer, _) => {
            return Err(DispatchError::refused(
                ErrorCode::Forbidden,
                "only drivers and their transporters see a driver's figures",
            ));
        }
    };
    let mut conn = state.conn().await?;
    let driver = users::find(&mut conn, wanted)
        .await?
        .ok_or_else(not_found)?;
    let fleet_ok = role == Role::Driver || driver.transporter_id == Some(caller);
    if Role::parse(&driver.role) != Some(Role::Driver) || !fleet_ok {
        return Err(not_found());
    }
    Ok(driver)
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

fn performance_of(answers: &Answers, total_distance: i64, rating: Average) -> Value {
    let answered = answers.accepted + answers.declined + answers.timed_out;
    let finished = answers.completed + answers.cancelled_after_accepting;
    json!({
        "rating": rating.stars,
        "totalRatings": rating.count,
        "acceptanceRate": percent(answers.accepted, answered),
        "completionRate": percent(answers.completed, finished),
        "totalTrips": answers.completed,
        "totalDistance": total_distance,
        "tripsOffered": answers.offered,
        "tripsDeclined": answers.declined,
        "tripsTimedOut": answers.timed_out,
    })
}

/// `GET driver/performance`.
pub async fn performance(state: &Dispatch, driver: &User) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let answers = driver_figures::answers(&mut conn, driver.id).await?;
    let all =
        driver_figures::completed_since(&mut conn, driver.id, DateTime::<Utc>::UNIX_EPOCH).await?;
    let rating = ratings::average_of(&mut conn, driver.id).await?;
    Ok(performance_of(&answers, all.distance_km, rating))
}

/// `GET driver/earnings?period=`: the period's fares with a day-by-day
/// breakdown.
pub async fn earnings(
    state: &Dispatch,
    driver: &User,
    period: Period,
) -> Result<Value, DispatchError> {
    let since = period.since(state.clock.now());
    let mut conn = state.conn().await?;
    let days = driver_figures::by_day_since(&mut conn, driver.id, since).await?;
    let total = days.iter().fold(Totals::default(), |sum, day| Totals {
        trips: sum.trips + day.totals.trips,
        earnings: sum.earnings + day.totals.earnings,
        distance_km: sum.distance_km + day.totals.distance_km,
    });
    let average = if total.trips > 0 {
        (total.earnings as f64 * 100.0 / total.trips as f64).round() / 100.0
    } else {
        0.0
    };
    Ok(json!({
        "period": period.as_str(),
        "from": iso(since),
        "totalEarnings": total.earnings,
        "totalTrips": total.trips,
        "totalDistance": total.distance_km,
        "averagePerTrip": average,
        "currency": "INR",
        "breakdown": days.iter().map(|day| json!({
            "date": day.date.to_string(),
            "earnings": day.totals.earnings,
            "trips": day.totals.trips,
            "distance": day.totals.distance_km,
        })).collect::<Vec<_>>(),
    }))
}

/// `GET driver/dashboard`: the driver, today's and the period figures, the
/// active trip and the five latest trips.
pub async fn dashboard(state: &Dispatch, driver: &User) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let today =
        driver_figures::completed_since(&mut conn, driver.id, Period::Today.since(now)).await?;
    let week =
        driver_figures::completed_since(&mut conn, driver.id, Period::Week.since(now)).await?;
    let month =
        driver_figures::completed_since(&mut conn, driver.id, Period::Month.since(now)).await?;
    let all =
        driver_figures::completed_since(&mut conn, driver.id, DateTime::<Utc>::UNIX_EPOCH).await?;
    let answers = driver_figures::answers(&mut conn, driver.id).await?;
    let active = trips::active_of_driver(&mut conn, driver.id).await?;
    let (recent, _) =
        weelo_persistence::assignments::of_driver(&mut conn, driver.id, None, 5, 0).await?;
    let mut shown: Vec<_> = active.iter().chain(recent.iter()).cloned().collect();
    shown.dedup_by_key(|a| a.id);
    let order_ids: Vec<Uuid> = shown.iter().map(|a| a.order_id).collect();
    let all_orders = orders::find_many(&mut conn, &order_ids).await?;
    let truck_ids: Vec<Uuid> = shown.iter().map(|a| a.truck_request_id).collect();
    let trucks = orders::trucks_by_ids(&mut conn, &truck_ids).await?;
    let customer_ids: Vec<Uuid> = all_orders.iter().map(|o| o.customer_id).collect();
    let customers = users::find_many(&mut conn, &customer_ids).await?;
    let as_trip = |a: &weelo_persistence::assignments::Assignment| {
        let order = all_orders.iter().find(|o| o.id == a.order_id)?;
        Some(trip_data(
            a,
            order,
            trucks.iter().find(|t| t.id == a.truck_request_id),
            customers.iter().find(|c| c.id == order.customer_id),
        ))
    };
    let rating = ratings::average_of(&mut conn, driver.id).await?;
    let performance = performance_of(&answers, all.distance_km, rating);
    Ok(json!({
        "driver": {
            "id": driver.id,
            "transporterId": driver.transporter_id,
            "phone": driver.phone,
            "name": driver.name,
            "email": driver.email,
            "licenseNumber": driver.license_number,
            "isOnline": driver.is_available,
            "isOnTrip": active.is_some(),
            "status": match (active.is_some(), driver.is_available) {
                (true, _) => "on_trip",
                (false, true) => "available",
                (false, false) => "offline",
            },
            "currentTripId": active.as_ref().map(|a| a.trip_id),
            "assignedVehicleId": active.as_ref().map(|a| a.vehicle_id),
            "assignedVehicleNumber": active.as_ref().map(|a| a.vehicle_number.clone()),
            "totalTrips": all.trips,
            "createdAt": iso(driver.created_at),
            "updatedAt": iso(driver.updated_at),
        },
        "stats": {
            "todayTrips": today.trips,
            "todayEarnings": today.earnings,
            "todayDistance": today.distance_km,
            "weekEarnings": week.earnings,
            "monthEarnings": month.earnings,
            "totalTrips": all.trips,
            "totalDistance": all.distance_km,
            "rating": performance["rating"],
            "totalRatings": performance["totalRatings"],
            "acceptanceRate": performance["acceptanceRate"],
        },
        "activeTrip": active.as_ref().and_then(as_trip),
        "recentTrips": recent.iter().filter_map(as_trip).collect::<Vec<_>>(),
    }))
}
