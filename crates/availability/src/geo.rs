//! Points on the Earth and the distances the index works with.

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

impl Point {
    /// A point; no checks (callers validate input at the edge).
    pub const fn new(latitude: f64, longitude: f64) -> Self {
        Self {
            latitude,
            longitude,
        }
    }
}

/// Great-circle (haversine) distance in metres.
pub fn haversine_m(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let d_lat = lat2 - lat1;
    let d_lng = (b.longitude - a.longitude).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The least distance from `p` to any point whose latitude differs from it
/// by at least `d_lat` degrees.
pub fn to_parallel_m(d_lat: f64) -> f64 {
    EARTH_RADIUS_M * d_lat.max(0.0).to_radians()
}

/// The least distance from `p` to the meridian `d_lng` degrees east or west
/// of it (any point at least that far in longitude is at least this far).
pub fn to_meridian_m(p: Point, d_lng: f64) -> f64 {
    if d_lng <= 0.0 {
        return 0.0;
    }
    if d_lng >= 90.0 {
        return to_parallel_m(90.0 - p.latitude.abs());
    }
    let sine = p.latitude.to_radians().cos() * d_lng.to_radians().sin();
    EARTH_RADIUS_M * sine.clamp(0.0, 1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mumbai_to_pune_is_about_120_km() {
        let d = haversine_m(Point::new(19.0760, 72.8777), Point::new(18.5204, 73.8567));
        assert!((118_000.0..122_000.0).contains(&d), "{d}");
    }

    #[test]
    fn the_meridian_bound_never_exceeds_a_real_distance() {
        let p = Point::new(28.6, 77.2);
        for step in 1..50 {
            let d_lng = f64::from(step) * 0.01;
            let bound = to_meridian_m(p, d_lng);
            for lat_step in -20..20 {
                let q = Point::new(p.latitude + f64::from(lat_step) * 0.05, p.longitude + d_lng);
                assert!(bound <= haversine_m(p, q) + 1e-6);
            }
        }
    }
}
