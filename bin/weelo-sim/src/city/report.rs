//! The run's report: fill and expiry rates, latencies, HTTP per route,
//! socket events, errors, the server's RSS, and the invariants, checked in
//! PostgreSQL (the source of truth) and against what customers heard.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use super::metrics::{Metrics, Series};
use super::plan::Plan;
use crate::stats::{ms, percentile};

pub fn summary(mut values: Vec<Duration>) -> Value {
    values.sort_unstable();
    json!({
        "count": values.len(),
        "p50Ms": ms(percentile(&values, 50.0)),
        "p99Ms": ms(percentile(&values, 99.0)),
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const LIVE: &str = "('pending','driver_accepted','en_route_pickup','at_pickup','loading_complete','in_transit','arrived_at_drop')";

/// Each invariant and how many rows break it (all must be 0).
pub async fn invariants(
    database_url: &str,
    orders: &[Uuid],
) -> anyhow::Result<BTreeMap<&'static str, i64>> {
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    let twice = |column: &str| {
        format!(
            "SELECT count(*) AS n FROM (SELECT {column} FROM assignments WHERE status IN {LIVE} GROUP BY {column} HAVING count(*) > 1) x"
        )
    };
    let checks: [(&'static str, String); 9] = [
        ("trucksAssignedTwice", twice("truck_request_id")),
        ("vehiclesOnTwoLiveAssignments", twice("vehicle_id")),
        ("driversOnTwoLiveAssignments", twice("driver_id")),
        (
            "ordersWhoseCountersDisagreeWithTheRows",
            "SELECT count(*) AS n FROM orders o WHERE o.id = ANY($1) AND o.status <> 'cancelled' AND o.trucks_filled <> \
             (SELECT count(*) FROM truck_requests t WHERE t.order_id = o.id AND t.status IN ('assigned','in_progress','completed'))"
                .to_owned(),
        ),
        (
            "ordersNotEnded",
            "SELECT count(*) AS n FROM orders WHERE id = ANY($1) AND status NOT IN ('completed','cancelled','expired')".to_owned(),
        ),
        (
            "driversWhoseAverageDisagreesWithTheirRatings",
            "SELECT count(*) AS n FROM driver_ratings d WHERE d.rating_count <> \
             (SELECT count(*) FROM ratings r WHERE r.driver_id = d.driver_id) OR d.stars_sum <> \
             (SELECT COALESCE(sum(r.stars), 0) FROM ratings r WHERE r.driver_id = d.driver_id)"
                .to_owned(),
        ),
        (
            "ordersCancelledWithoutALedgerRow",
            "SELECT count(*) AS n FROM orders o WHERE o.id = ANY($1) AND o.status = 'cancelled' \
             AND NOT EXISTS (SELECT 1 FROM cancellations c WHERE c.order_id = o.id)"
                .to_owned(),
        ),
        (
            "ratingsOfTripsNotCompleted",
            "SELECT count(*) AS n FROM ratings r JOIN assignments a ON a.id = r.assignment_id \
             WHERE a.status <> 'completed'"
                .to_owned(),
        ),
        (
            "busyVehiclesWithoutALiveAssignment",
            format!("SELECT count(*) AS n FROM vehicles v WHERE v.status IN ('on_hold','in_transit') AND NOT EXISTS \
                     (SELECT 1 FROM assignments a WHERE a.vehicle_id = v.id AND a.status IN {LIVE})"),
        ),
    ];
    let mut found = BTreeMap::new();
    for (name, sql) in checks {
        let query = diesel::sql_query(sql);
        let count: Count = if name.starts_with("orders") {
            query
                .bind::<Array<SqlUuid>, _>(orders.to_vec())
                .get_result(&mut conn)
                .await?
        } else {
            query.get_result(&mut conn).await?
        };
        found.insert(name, count.n);
    }
    Ok(found)
}

#[derive(QueryableByName)]
struct Trail {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// For orders the customer never heard end: the order's status and its
/// outbox events (topic, `(unpublished)`, `*` when addressed to the
/// customer), to find where the news stopped.
pub async fn trails(database_url: &str, orders: &[Uuid]) -> anyhow::Result<Vec<String>> {
    use diesel_async::RunQueryDsl;
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    let rows: Vec<Trail> = diesel::sql_query(
        "SELECT o.id::text || ' ' || o.status || ' filled ' || o.trucks_filled || '/' || o.total_trucks || ': ' || \
         coalesce(string_agg(e.topic || CASE WHEN e.published_at IS NULL THEN '(unpublished)' ELSE '' END || \
         CASE WHEN ('customer:' || o.customer_id::text) = ANY(e.recipients) THEN '*' ELSE '' END, ' ' ORDER BY e.id), '') AS line \
         FROM orders o LEFT JOIN outbox e ON e.order_id = o.id WHERE o.id = ANY($1) GROUP BY o.id",
    )
    .bind::<Array<SqlUuid>, _>(orders.to_vec())
    .load(&mut conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.line).collect())
}

/// The server's resident memory, MiB, from /proc.
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// Builds the report.
pub fn build(
    plan: &Plan,
    metrics: &Metrics,
    checks: &BTreeMap<&'static str, i64>,
    rss: Option<f64>,
    unheard_trails: &[String],
) -> Value {
    let traces = metrics.traces();
    let created = traces.len();
    let filled = traces.values().filter(|t| t.filled.is_some()).count();
    let mut ended: BTreeMap<String, usize> = BTreeMap::new();
    for how in traces.values().filter_map(|t| t.ended.clone()) {
        *ended.entry(how).or_insert(0) += 1;
    }
    let expired: usize = ended
        .iter()
        .filter(|(k, _)| k.starts_with("expired"))
        .map(|(_, v)| v)
        .sum();
    let unheard = traces.values().filter(|t| t.ended.is_none()).count();
    let timeline = metrics.timeline();
    let series = |s: Series| -> Vec<Duration> {
        timeline
            .iter()
            .filter(|x| x.series == s)
            .map(|x| Duration::from_secs_f64(x.ms / 1000.0))
            .collect()
    };
    let http: BTreeMap<&str, Value> = metrics
        .http()
        .into_iter()
        .map(|(route, values)| (route, summary(values)))
        .collect();
    let errors: BTreeMap<String, u64> = metrics.errors().into_iter().collect();
    let lost_holds: BTreeMap<String, u64> = metrics.lost_holds().into_iter().collect();
    let mut violations: Vec<String> = checks
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(|(name, n)| format!("{name}: {n}"))
        .collect();
    if unheard > 0 {
        violations.push(format!(
            "ordersWithoutATerminalEventForTheCustomer: {unheard}"
        ));
    }
    let ratio = |n: usize| {
        if created == 0 {
            0.0
        } else {
            (n as f64 / created as f64 * 1000.0).round() / 1000.0
        }
    };
    json!({
        "durationSecs": (metrics.elapsed() * 10.0).round() / 10.0,
        "city": {
            "transporters": plan.transporters,
            "customers": plan.customers(),
            "orderRatePerSecond": plan.order_rate,
            "bookingSecs": plan.seconds,
        },
        "orders": {
            "created": created,
            "filled": filled,
            "fillRate": ratio(filled),
            "expired": expired,
            "expiryRate": ratio(expired),
            "endedAs": ended,
            "partlyFilledThenExpired": traces.values().filter(|t| t.partly_expired).count(),
            "customersWhoBooked": traces.values().map(|t| t.customer).collect::<std::collections::BTreeSet<_>>().len(),
        },
        "latency": {
            "orderToFirstBroadcast": summary(series(Series::FirstBroadcast)),
            "orderToFilled": summary(series(Series::Filled)),
            "create": summary(series(Series::CreateHttp)),
        },
        "http": http,
        "socketEvents": metrics.socket_events.load(Ordering::Relaxed),
        "lostHolds": lost_holds,
        "errors": errors,
        "server5xx": metrics.server_errors.load(Ordering::Relaxed),
        "retries": metrics.retries.report(summary),
        "serverRssMiB": rss,
        "invariants": { "checked": checks, "violations": violations, "unheardOrders": unheard_trails },
    })
}
