//! The k-nearest search on 100 000 transporters spread over a 40 km × 40 km
//! city (k = 10, radius 5 km). `make bench-geo` runs the same queries
//! against Redis GEOSEARCH for the comparison and the p99.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;
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
    for _ in 0..100_000 {
        index.upsert(
            Uuid::new_v4(),
            city(&mut rng),
            &["open_17_ft".to_owned()],
            0,
        );
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
}

criterion_group!(benches, nearby);
criterion_main!(benches);
