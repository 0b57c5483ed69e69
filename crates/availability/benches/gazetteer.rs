//! The embedded places provider in process: search by prefix (with and
//! without a bias) and reverse look-up at random points in India, each
//! query timed alone, printing p50, p99 and the worst.
//! `cargo bench -p weelo-availability --bench gazetteer`

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use weelo_availability::Point;
use weelo_availability::gazetteer::Gazetteer;

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<32} n={:<6} p50={:>9.1?} p99={:>9.1?} max={:>9.1?}",
        times.len(),
        at(0.50),
        at(0.99),
        at(1.0)
    );
}

fn timed(runs: usize, mut f: impl FnMut(usize)) -> Vec<Duration> {
    (0..runs)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed()
        })
        .collect()
}

fn main() {
    let start = Instant::now();
    let india = Gazetteer::india();
    println!("loaded {} places in {:?}", india.len(), start.elapsed());
    let mut rng = StdRng::seed_from_u64(22);
    let queries = [
        "Bengaluru",
        "ban",
        "Whitefield",
        "pune",
        "a",
        "Aurangabad",
        "Dharwad",
        "kol",
        "sri",
        "Nhava Sheva",
        "m",
        "Hyderabad, Telangana",
        "zzz",
    ];
    let points: Vec<Point> = (0..10_000)
        .map(|_| Point::new(rng.random_range(8.0..34.0), rng.random_range(69.0..96.0)))
        .collect();
    report(
        "search (no bias)",
        timed(10_000, |i| {
            black_box(india.search(queries[i % queries.len()], None, 10));
        }),
    );
    report(
        "search (biased)",
        timed(10_000, |i| {
            black_box(india.search(queries[i % queries.len()], Some(points[i]), 10));
        }),
    );
    report(
        "reverse (nearest place)",
        timed(10_000, |i| {
            black_box(india.nearest(points[i]));
        }),
    );
}
