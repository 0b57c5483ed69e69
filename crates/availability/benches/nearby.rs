//! The k-nearest search on 100 000 transporters spread over a 40 km × 40 km
//! city (k = 10, radius 5 km), beside a brute-force scan of every point
//! (haversine to each, the k closest inside the radius) on the same data.
//! `make bench-geo` runs the same queries against Redis GEOSEARCH for the
//! comparison and the p99.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;
use weelo_availability::geo::haversine_m;
use weelo_availability::{Point, ProximityIndex, Query};

fn city(rng: &mut StdRng) -> Point {
    Point::new(
        28.6139 + rng.random_range(-0.1799..0.1799),
        77.2090 + rng.random_range(-0.2048..0.2048),
    )
}

fn nearby(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(40);
    let mut index = ProximityIndex::new(6);
    let mut everyone = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let (id, point) = (Uuid::new_v4(), city(&mut rng));
        index.upsert(id, point, &["open_17_ft".to_owned()], 0);
        everyone.push((id, point));
    }
    let queries: Vec<Point> = (0..4_096).map(|_| city(&mut rng)).collect();
    let mut next = 0;
    c.bench_function("nearest k=10 r=5km of 100k", |b| {
        b.iter(|| {
            next = (next + 1) % queries.len();
            let query = Query {
                key: "open_17_ft",
                point: queries[next],
                k: 10,
                radius_m: 5_000.0,
                now_ms: 0,
                ttl_ms: 60_000,
            };
            black_box(index.nearest(&query, |_| false))
        });
    });
    c.bench_function("brute-force k=10 r=5km of 100k", |b| {
        b.iter(|| {
            next = (next + 1) % queries.len();
            black_box(brute_force(&everyone, queries[next], 10, 5_000.0))
        });
    });
}

/// Every point's distance, the `k` closest inside `radius_m`.
fn brute_force(everyone: &[(Uuid, Point)], at: Point, k: usize, radius_m: f64) -> Vec<(Uuid, f64)> {
    let mut inside: Vec<(Uuid, f64)> = everyone
        .iter()
        .map(|(id, point)| (*id, haversine_m(at, *point)))
        .filter(|(_, distance)| *distance <= radius_m)
        .collect();
    inside.sort_by(|a, b| a.1.total_cmp(&b.1));
    inside.truncate(k);
    inside
}

criterion_group!(benches, nearby);
criterion_main!(benches);
