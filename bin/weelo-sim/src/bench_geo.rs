//! `bench-geo`: the nearby search of `weelo-availability` against Redis
//! `GEOSEARCH` on the same 100 000 points and the same queries, one core
//! each (the index on this thread; Redis is single-threaded), and the p99
//! of single index searches. Redis queries are pipelined 64 at a time so
//! its rate is its own, not the loopback round trip's.

use std::time::{Duration, Instant};

use deadpool_redis::redis::{self, Pipeline};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;
use weelo_availability::{Point, ProximityIndex, Query};

use crate::stats::{ms, percentile};

const CENTER: (f64, f64) = (28.6139, 77.2090);
/// Half of 40 km in degrees of latitude, and of longitude at Delhi.
const HALF_LAT: f64 = 0.1799;
const HALF_LNG: f64 = 0.2048;
const K: usize = 10;
const RADIUS_M: f64 = 5_000.0;
const KEY: &str = "open_17_ft";

/// Options of the comparison.
#[derive(clap::Parser)]
#[command(about = "The k-nearest search against Redis GEOSEARCH")]
pub struct Options {
    /// Transporters in the city.
    #[arg(long, default_value_t = 100_000)]
    points: usize,
    /// Searches.
    #[arg(long, default_value_t = 20_000)]
    queries: usize,
    /// Redis to compare with.
    #[arg(long = "redis", default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
}

impl Options {
    /// `--points`, `--queries`, `--redis`.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        Ok(crate::flags::parse("bench-geo", args))
    }
}

fn random_point(rng: &mut StdRng) -> Point {
    Point::new(
        CENTER.0 + rng.random_range(-HALF_LAT..HALF_LAT),
        CENTER.1 + rng.random_range(-HALF_LNG..HALF_LNG),
    )
}

/// Runs both and prints the summary line `make bench-geo` ends with.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(40);
    let points: Vec<(Uuid, Point)> = (0..options.points)
        .map(|_| (Uuid::new_v4(), random_point(&mut rng)))
        .collect();
    let queries: Vec<Point> = (0..options.queries)
        .map(|_| random_point(&mut rng))
        .collect();

    let mut index = ProximityIndex::new(6);
    for (id, point) in &points {
        index.upsert(*id, *point, &[KEY.to_owned()], 0);
    }
    let query = |point: Point| Query {
        key: KEY,
        point,
        k: K,
        radius_m: RADIUS_M,
        now_ms: 0,
        ttl_ms: 60_000,
    };
    // Warm up, then time each search.
    let mut found = 0_usize;
    for point in queries.iter().take(1_000) {
        found += index.nearest(&query(*point), |_| false).len();
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let started = Instant::now();
    for point in &queries {
        let one = Instant::now();
        found += index.nearest(&query(*point), |_| false).len();
        latencies.push(one.elapsed());
    }
    let ours_secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let ours_qps = queries.len() as f64 / ours_secs;

    let geosearch_qps = geosearch(&options, &points, &queries).await?;
    let ratio = ours_qps / geosearch_qps;
    let report = json!({
        "profile": "bench-geo",
        "points": options.points,
        "queries": options.queries,
        "k": K,
        "radiusM": RADIUS_M,
        "oursQps": ours_qps.round(),
        "oursP50Us": ms(percentile(&latencies, 50.0)) * 1000.0,
        "oursP99Us": ms(percentile(&latencies, 99.0)) * 1000.0,
        "geosearchQps": geosearch_qps.round(),
        "ratio": (ratio * 10.0).round() / 10.0,
        "resultsChecksum": found,
    });
    println!("{report}");
    println!(
        "nearby_search ours_qps={:.0} geosearch_qps={:.0} ratio={:.1}",
        ours_qps, geosearch_qps, ratio
    );
    Ok(())
}

async fn geosearch(
    options: &Options,
    points: &[(Uuid, Point)],
    queries: &[Point],
) -> anyhow::Result<f64> {
    let client = redis::Client::open(options.redis_url.as_str())?;
    // GEOSEARCH over a dense city is real work for Redis: no client timeout.
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let key = format!("weelo-bench-geo:{}", Uuid::new_v4());
    for chunk in points.chunks(1_000) {
        let mut add = redis::cmd("GEOADD");
        add.arg(&key);
        for (id, point) in chunk {
            add.arg(point.longitude)
                .arg(point.latitude)
                .arg(id.to_string());
        }
        add.query_async::<()>(&mut conn).await?;
    }
    // Gone by itself even if this run dies before its DEL.
    let _: i64 = redis::cmd("EXPIRE")
        .arg(&key)
        .arg(600)
        .query_async(&mut conn)
        .await?;
    let search = |pipe: &mut Pipeline, point: &Point| {
        pipe.cmd("GEOSEARCH")
            .arg(&key)
            .arg("FROMLONLAT")
            .arg(point.longitude)
            .arg(point.latitude)
            .arg("BYRADIUS")
            .arg(RADIUS_M / 1000.0)
            .arg("km")
            .arg("ASC")
            .arg("COUNT")
            .arg(K)
            .ignore();
    };
    let started = Instant::now();
    let mut elapsed = Duration::ZERO;
    for chunk in queries.chunks(64) {
        let mut pipe = Pipeline::new();
        for point in chunk {
            search(&mut pipe, point);
        }
        pipe.query_async::<()>(&mut conn).await?;
        elapsed = started.elapsed();
    }
    let _: i64 = redis::cmd("DEL").arg(&key).query_async(&mut conn).await?;
    Ok(queries.len() as f64 / elapsed.as_secs_f64())
}
