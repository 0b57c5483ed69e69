//! The geohash cell index and its exact k-nearest search.
//!
//! Each vehicle key has its own map from geohash cell (precision 6 by
//! default, about 1.2 km × 0.6 km) to the transporters in it. A search
//! visits rings of cells around the query's cell outward (ring `r` = the
//! cells `r` steps away in a uniform lat/lng grid, which is what geohash
//! cells of one precision form, so boundaries where neighbouring cells share
//! no prefix need no special case), and stops when the k-th best distance is
//! within the least distance any unvisited ring can have, or that least
//! distance exceeds the radius. Distances are haversine.

use std::collections::HashMap;

use geohash::Coord;
use uuid::Uuid;

use crate::geo::{Point, haversine_m, to_meridian_m, to_parallel_m};

/// A geohash cell, its characters packed (precision ≤ 12).
type Cell = [u8; 12];

/// Default cell precision: about 1.2 km × 0.6 km.
pub const DEFAULT_PRECISION: usize = 6;
/// Beyond this many rings a search gives up (a radius far larger than any city).
const MAX_RINGS: i64 = 4_096;

#[derive(Debug, Clone)]
struct Entry {
    id: Uuid,
    point: Point,
    beat_ms: i64,
}

#[derive(Debug, Clone)]
struct Member {
    point: Point,
    cell: Cell,
    beat_ms: i64,
    keys: Vec<String>,
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nearby {
    /// The transporter.
    pub id: Uuid,
    /// Where it last beat.
    pub point: Point,
    /// Metres from the query point.
    pub distance_m: f64,
}

/// A k-nearest query.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The vehicle key to search.
    pub key: &'a str,
    /// Around where.
    pub point: Point,
    /// How many at most.
    pub k: usize,
    /// No farther than this.
    pub radius_m: f64,
    /// "Now", milliseconds since the epoch.
    pub now_ms: i64,
    /// Entries whose last beat is older than this are stale and skipped.
    pub ttl_ms: i64,
}

/// Transporters by vehicle key and cell.
#[derive(Debug, Default)]
pub struct ProximityIndex {
    precision: usize,
    by_key: HashMap<String, HashMap<Cell, Vec<Entry>>>,
    members: HashMap<Uuid, Member>,
}

fn cell_of(point: Point, precision: usize) -> Option<Cell> {
    let hash = geohash::encode(
        Coord {
            x: point.longitude,
            y: point.latitude,
        },
        precision,
    )
    .ok()?;
    let mut cell = [0_u8; 12];
    cell.get_mut(..hash.len())?.copy_from_slice(hash.as_bytes());
    Some(cell)
}

impl ProximityIndex {
    /// An empty index with cells of `precision` characters (1–12).
    pub fn new(precision: usize) -> Self {
        Self {
            precision: precision.clamp(1, 12),
            ..Self::default()
        }
    }

    /// Transporters indexed.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether nobody is indexed.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `id` is indexed.
    pub fn contains(&self, id: Uuid) -> bool {
        self.members.contains_key(&id)
    }

    /// Places `id` at `point` under `keys` (its free vehicles' keys), beating
    /// at `beat_ms`. Keys it no longer has are dropped; with an empty `keys`
    /// no search finds it, but its position and beat are kept, so a vehicle
    /// freed later puts it back under its key at once (not at its next
    /// beat). Returns `false` for a point outside the geohash range.
    pub fn upsert(&mut self, id: Uuid, point: Point, keys: &[String], beat_ms: i64) -> bool {
        let Some(cell) = cell_of(point, self.precision) else {
            return false;
        };
        self.remove(id);
        for key in keys {
            self.by_key
                .entry(key.clone())
                .or_default()
                .entry(cell)
                .or_default()
                .push(Entry { id, point, beat_ms });
        }
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        self.members.insert(
            id,
            Member {
                point,
                cell,
                beat_ms,
                keys,
            },
        );
        true
    }

    /// Refreshes the beat of `id` without moving it; `false` if not indexed.
    pub fn touch(&mut self, id: Uuid, beat_ms: i64) -> bool {
        let Some(member) = self.members.get_mut(&id) else {
            return false;
        };
        member.beat_ms = beat_ms;
        for key in &member.keys {
            if let Some(entries) = self
                .by_key
                .get_mut(key)
                .and_then(|cells| cells.get_mut(&member.cell))
            {
                for entry in entries.iter_mut().filter(|e| e.id == id) {
                    entry.beat_ms = beat_ms;
                }
            }
        }
        true
    }

    /// Removes `id`; returns whether it was indexed.
    pub fn remove(&mut self, id: Uuid) -> bool {
        let Some(member) = self.members.remove(&id) else {
            return false;
        };
        for key in &member.keys {
            let Some(cells) = self.by_key.get_mut(key) else {
                continue;
            };
            if let Some(entries) = cells.get_mut(&member.cell) {
                entries.retain(|e| e.id != id);
                if entries.is_empty() {
                    cells.remove(&member.cell);
                }
            }
        }
        true
    }

    /// Where `id` last beat, and when.
    pub fn position(&self, id: Uuid) -> Option<(Point, i64)> {
        self.members.get(&id).map(|m| (m.point, m.beat_ms))
    }

    /// Removes everyone whose last beat is older than `ttl_ms`; returns them.
    pub fn sweep_stale(&mut self, now_ms: i64, ttl_ms: i64) -> Vec<Uuid> {
        let stale: Vec<Uuid> = self
            .members
            .iter()
            .filter(|(_, m)| now_ms - m.beat_ms > ttl_ms)
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            self.remove(*id);
        }
        stale
    }

    /// The `k` nearest fresh transporters of `query.key` within the radius,
    /// nearest first, leaving out those `exclude` names.
    pub fn nearest(&self, query: &Query<'_>, exclude: impl Fn(Uuid) -> bool) -> Vec<Nearby> {
        let mut best: Vec<Nearby> = Vec::with_capacity(query.k + 1);
        let (Some(cells), Some(center)) = (
            self.by_key.get(query.key),
            geohash::encode(
                Coord {
                    x: query.point.longitude,
                    y: query.point.latitude,
                },
                self.precision,
            )
            .ok(),
        ) else {
            return best;
        };
        let Ok(bbox) = geohash::decode_bbox(&center) else {
            return best;
        };
        if query.k == 0 || cells.is_empty() {
            return best;
        }
        let (min, max) = (bbox.min(), bbox.max());
        let (d_lat, d_lng) = (max.y - min.y, max.x - min.x);
        let (mid_lat, mid_lng) = ((min.y + max.y) / 2.0, (min.x + max.x) / 2.0);
        for ring in 0..MAX_RINGS {
            if ring > 0 {
                let reach = (ring - 1) as f64;
                let p = query.point;
                let bound = to_parallel_m(max.y + reach * d_lat - p.latitude)
                    .min(to_parallel_m(p.latitude - (min.y - reach * d_lat)))
                    .min(to_meridian_m(p, max.x + reach * d_lng - p.longitude))
                    .min(to_meridian_m(p, p.longitude - (min.x - reach * d_lng)));
                if bound > query.radius_m
                    || (best.len() == query.k && best[query.k - 1].distance_m <= bound)
                {
                    break;
                }
            }
            for (i, j) in ring_offsets(ring) {
                let lat = mid_lat + i as f64 * d_lat;
                if !(-90.0..=90.0).contains(&lat) {
                    continue;
                }
                let lng = wrap_longitude(mid_lng + j as f64 * d_lng);
                let Some(cell) = cell_of(Point::new(lat, lng), self.precision) else {
                    continue;
                };
                let Some(entries) = cells.get(&cell) else {
                    continue;
                };
                for entry in entries {
                    if query.now_ms - entry.beat_ms > query.ttl_ms || exclude(entry.id) {
                        continue;
                    }
                    let distance_m = haversine_m(query.point, entry.point);
                    if distance_m > query.radius_m
                        || (best.len() == query.k && distance_m >= best[query.k - 1].distance_m)
                    {
                        continue;
                    }
                    let at = best.partition_point(|b| b.distance_m <= distance_m);
                    best.insert(
                        at,
                        Nearby {
                            id: entry.id,
                            point: entry.point,
                            distance_m,
                        },
                    );
                    best.truncate(query.k);
                }
            }
        }
        best
    }
}

fn wrap_longitude(lng: f64) -> f64 {
    let wrapped = (lng + 180.0).rem_euclid(360.0) - 180.0;
    if wrapped >= 180.0 {
        wrapped - 360.0
    } else {
        wrapped
    }
}

/// The grid offsets `(lat, lng)` of the cells exactly `ring` steps away:
/// the top and bottom rows whole, the rows between only at both ends.
fn ring_offsets(ring: i64) -> impl Iterator<Item = (i64, i64)> {
    (-ring..=ring).flat_map(move |i| {
        let step = if i.abs() == ring {
            1
        } else {
            usize::try_from(2 * ring).unwrap_or(1)
        };
        (-ring..=ring).step_by(step.max(1)).map(move |j| (i, j))
    })
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn brute(points: &[(Uuid, Point)], query: &Query<'_>) -> Vec<(Uuid, f64)> {
        let mut all: Vec<(Uuid, f64)> = points
            .iter()
            .map(|(id, p)| (*id, haversine_m(query.point, *p)))
            .filter(|(_, d)| *d <= query.radius_m)
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        all.truncate(query.k);
        all
    }

    #[test]
    fn ring_offsets_cover_each_ring_once() {
        assert_eq!(ring_offsets(0).collect::<Vec<_>>(), vec![(0, 0)]);
        for ring in 1..6 {
            let cells: Vec<_> = ring_offsets(ring).collect();
            assert_eq!(cells.len(), usize::try_from(8 * ring).unwrap());
            assert!(cells.iter().all(|(i, j)| i.abs().max(j.abs()) == ring));
        }
    }

    /// Random points around places where geohash cells change at every
    /// level: longitude 90° (top-level cells `t` / `w` meet) and an ordinary
    /// city; random queries, k and radii; the answer must equal a full scan.
    #[test]
    fn nearest_equals_a_brute_force_scan() {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        for (center_lat, center_lng) in [(26.0, 90.0), (28.61, 77.21), (22.5, 78.75)] {
            for precision in [5, 6] {
                let mut index = ProximityIndex::new(precision);
                let points: Vec<(Uuid, Point)> = (0..1500)
                    .map(|_| {
                        let p = Point::new(
                            center_lat + rng.random_range(-0.2..0.2),
                            center_lng + rng.random_range(-0.2..0.2),
                        );
                        (Uuid::new_v4(), p)
                    })
                    .collect();
                for (id, p) in &points {
                    index.upsert(*id, *p, &["open_17_ft".to_owned()], 1_000);
                }
                for _ in 0..300 {
                    let query = Query {
                        key: "open_17_ft",
                        point: Point::new(
                            center_lat + rng.random_range(-0.25..0.25),
                            center_lng + rng.random_range(-0.25..0.25),
                        ),
                        k: rng.random_range(1..40),
                        radius_m: rng.random_range(100.0..30_000.0),
                        now_ms: 1_000,
                        ttl_ms: 60_000,
                    };
                    let got: Vec<(Uuid, f64)> = index
                        .nearest(&query, |_| false)
                        .iter()
                        .map(|n| (n.id, n.distance_m))
                        .collect();
                    let want = brute(&points, &query);
                    assert_eq!(got.len(), want.len(), "{query:?}");
                    for (g, w) in got.iter().zip(&want) {
                        assert!((g.1 - w.1).abs() < 1e-6, "{query:?}: {got:?} vs {want:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn points_exactly_on_cell_edges_are_found() {
        let mut index = ProximityIndex::new(6);
        let bbox = geohash::decode_bbox("tsq4bc").unwrap();
        let corners = [
            Point::new(bbox.min().y, bbox.min().x),
            Point::new(bbox.max().y, bbox.max().x),
            Point::new(bbox.min().y, bbox.max().x),
            Point::new(bbox.max().y, bbox.min().x),
            Point::new(26.0, 90.0),
        ];
        let ids: Vec<Uuid> = corners.iter().map(|_| Uuid::new_v4()).collect();
        for (id, p) in ids.iter().zip(corners) {
            index.upsert(*id, p, &["k".to_owned()], 0);
        }
        for p in corners {
            let query = Query {
                key: "k",
                point: p,
                k: 1,
                radius_m: 1.0,
                now_ms: 0,
                ttl_ms: 1,
            };
            let found = index.nearest(&query, |_| false);
            assert_eq!(found.len(), 1, "{p:?}");
            assert!(found[0].distance_m < 1e-6);
        }
    }

    #[test]
    fn stale_excluded_and_removed_entries_are_not_returned() {
        let mut index = ProximityIndex::new(6);
        let (fresh, stale, busy) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let here = Point::new(19.07, 72.87);
        index.upsert(fresh, here, &["k".to_owned()], 100_000);
        index.upsert(stale, here, &["k".to_owned()], 10_000);
        index.upsert(busy, here, &["k".to_owned()], 100_000);
        let query = Query {
            key: "k",
            point: here,
            k: 10,
            radius_m: 5_000.0,
            now_ms: 100_000,
            ttl_ms: 60_000,
        };
        let found: Vec<Uuid> = index
            .nearest(&query, |id| id == busy)
            .iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(found, vec![fresh]);
        assert!(index.touch(stale, 100_000));
        assert_eq!(index.nearest(&query, |_| false).len(), 3);
        index.remove(fresh);
        index.upsert(busy, here, &[], 100_000);
        assert_eq!(
            index
                .nearest(&query, |_| false)
                .iter()
                .map(|n| n.id)
                .collect::<Vec<_>>(),
            vec![stale]
        );
        // All its vehicles busy, it is found by no search but keeps its
        // place, and comes back under a key without a new beat.
        assert_eq!(index.position(busy), Some((here, 100_000)));
        index.upsert(busy, here, &["k".to_owned()], 100_000);
        assert_eq!(index.nearest(&query, |id| id == stale).len(), 1);
        let mut swept = index.sweep_stale(200_000, 60_000);
        swept.sort();
        let mut expected = vec![stale, busy];
        expected.sort();
        assert_eq!(swept, expected);
        assert!(index.is_empty());
    }

    #[test]
    fn moving_and_changing_keys_reindexes() {
        let mut index = ProximityIndex::new(6);
        let id = Uuid::new_v4();
        index.upsert(
            id,
            Point::new(19.07, 72.87),
            &["a".to_owned(), "b".to_owned()],
            0,
        );
        index.upsert(id, Point::new(18.52, 73.85), &["b".to_owned()], 0);
        let near_pune = Query {
            key: "b",
            point: Point::new(18.52, 73.85),
            k: 5,
            radius_m: 1_000.0,
            now_ms: 0,
            ttl_ms: 10,
        };
        assert_eq!(index.nearest(&near_pune, |_| false).len(), 1);
        let a = Query {
            key: "a",
            ..near_pune
        };
        assert!(index.nearest(&a, |_| false).is_empty());
        let mumbai = Query {
            point: Point::new(19.07, 72.87),
            ..near_pune
        };
        assert!(index.nearest(&mumbai, |_| false).is_empty());
    }
}
