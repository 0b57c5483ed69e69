//! An embedded gazetteer of Indian places: towns and cities with their
//! district and state (GeoNames, CC BY 4.0, built by `scripts/gazetteer.py`)
//! and a short list of well-known localities kept by the project
//! (`data/localities-in.tsv`). It answers place search by name prefix
//! (biased towards a position and towards bigger places) and reverse
//! look-up (the nearest place to any point), in memory, with no I/O.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::geo::{Point, haversine_m};

/// GeoNames' towns of India (see the module docs).
const TOWNS: &str = include_str!("../data/gazetteer-in.tsv");
/// Localities the project adds (neighbourhoods, industrial areas, ports).
const LOCALITIES: &str = include_str!("../data/localities-in.tsv");

/// Grid cell size of the reverse look-up, degrees.
const CELL_DEG: f64 = 0.5;
/// How many rings of cells reverse look-up widens to (≈ 550 km).
const MAX_RINGS: i32 = 10;

/// One place.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Its name.
    pub name: String,
    /// Its district.
    pub district: String,
    /// Its state or union territory.
    pub state: String,
    /// Where it is.
    pub point: Point,
    /// People living there (0 for a locality).
    pub population: u64,
}

impl Place {
    /// `name, district, state`, without repeats (`Pune, Maharashtra`).
    pub fn label(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.name];
        for part in [&self.district, &self.state] {
            if !part.is_empty() && !parts.iter().any(|p| p.eq_ignore_ascii_case(part)) {
                parts.push(part);
            }
        }
        parts.join(", ")
    }
}

/// A place found by [`Gazetteer::search`] or [`Gazetteer::nearest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    /// The place.
    pub place: &'a Place,
    /// Its index, stable for one gazetteer (a place id).
    pub index: usize,
    /// Metres from the bias or the point asked about, when there was one.
    pub distance_m: Option<f64>,
}

/// The places and their indexes.
#[derive(Debug)]
pub struct Gazetteer {
    places: Vec<Place>,
    /// Normalised names and alternate names, sorted, with their place.
    names: Vec<(String, usize)>,
    /// Places by grid cell.
    cells: HashMap<(i32, i32), Vec<usize>>,
}

/// `text` lower-cased, letters and digits only, single spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

fn cell_of(point: Point) -> (i32, i32) {
    // India's coordinates are small: the casts cannot overflow.
    #[expect(clippy::cast_possible_truncation, reason = "degrees / 0.5 fit in i32")]
    let cell = (
        (point.latitude / CELL_DEG).floor() as i32,
        (point.longitude / CELL_DEG).floor() as i32,
    );
    cell
}

impl Gazetteer {
    /// India's gazetteer, parsed once.
    pub fn india() -> &'static Gazetteer {
        static INDIA: OnceLock<Gazetteer> = OnceLock::new();
        INDIA.get_or_init(|| Gazetteer::parse(&[TOWNS, LOCALITIES]))
    }

    /// A gazetteer of tab-separated rows (`name, alternates, district,
    /// state, latitude, longitude, population`); malformed rows are skipped.
    pub fn parse(sources: &[&str]) -> Self {
        let mut places = Vec::new();
        let mut names = Vec::new();
        for line in sources.iter().flat_map(|s| s.lines()) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, alternates, district, state, lat, lng, population] = fields[..] else {
                continue;
            };
            let (Ok(latitude), Ok(longitude)) = (lat.parse::<f64>(), lng.parse::<f64>()) else {
                continue;
            };
            let index = places.len();
            names.push((normalise(name), index));
            names.extend(
                alternates
                    .split(',')
                    .map(normalise)
                    .filter(|a| !a.is_empty())
                    .map(|a| (a, index)),
            );
            places.push(Place {
                name: name.to_owned(),
                district: district.to_owned(),
                state: state.to_owned(),
                point: Point::new(latitude, longitude),
                population: population.parse().unwrap_or(0),
            });
        }
        names.sort_unstable();
        names.dedup();
        let mut cells: HashMap<(i32, i32), Vec<usize>> = HashMap::new();
        for (index, place) in places.iter().enumerate() {
            cells.entry(cell_of(place.point)).or_default().push(index);
        }
        Self {
            places,
            names,
            cells,
        }
    }

    /// How many places it holds.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The place at `index`.
    pub fn get(&self, index: usize) -> Option<&Place> {
        self.places.get(index)
    }

    /// Up to `limit` places whose name (or an alternate name) starts with
    /// `query` (or, for `Whitefield, Bengaluru`, its first part): exact
    /// names first, then the nearer to `bias` and the bigger.
    pub fn search(&self, query: &str, bias: Option<Point>, limit: usize) -> Vec<Found<'_>> {
        let whole = normalise(query);
        let mut found = self.prefixed(&whole);
        if found.is_empty()
            && let Some(first) = query.split(',').next()
        {
            found = self.prefixed(&normalise(first));
        }
        let score = |index: usize, exact: bool| {
            let place = &self.places[index];
            // Bigger places first: log of the population.
            #[expect(clippy::cast_precision_loss, reason = "a ranking weight")]
            let size = ((place.population + 10) as f64).ln();
            let near = bias.map_or(0.0, |b| {
                // A tenfold of distance costs one and a half tenfolds of size.
                1.5 * (haversine_m(b, place.point) / 1_000.0 + 1.0).ln()
            });
            (if exact { 100.0 } else { 0.0 }) + size - near
        };
        let mut scored: Vec<(f64, usize)> = found
            .into_iter()
            .map(|(index, exact)| (score(index, exact), index))
            .collect();
        let best_first = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0);
        if scored.len() > limit && limit > 0 {
            scored.select_nth_unstable_by(limit - 1, best_first);
            scored.truncate(limit);
        }
        scored.sort_by(best_first);
        scored
            .into_iter()
            .take(limit)
            .map(|(_, index)| Found {
                place: &self.places[index],
                index,
                distance_m: bias.map(|b| haversine_m(b, self.places[index].point)),
            })
            .collect()
    }

    /// Places with a name starting with `prefix`, each once, with whether
    /// the name matched whole.
    fn prefixed(&self, prefix: &str) -> Vec<(usize, bool)> {
        if prefix.is_empty() {
            return Vec::new();
        }
        let start = self
            .names
            .partition_point(|(name, _)| name.as_str() < prefix);
        // Position in `found` of each place seen (names of one place are
        // scattered through the sorted list).
        let mut seen: HashMap<usize, usize> = HashMap::new();
        let mut found: Vec<(usize, bool)> = Vec::new();
        for (name, index) in self.names[start..]
            .iter()
            .take_while(|(name, _)| name.starts_with(prefix))
        {
            let exact = name == prefix;
            match seen.get(index) {
                Some(&at) => found[at].1 |= exact,
                None => {
                    seen.insert(*index, found.len());
                    found.push((*index, exact));
                }
            }
        }
        found
    }

    /// The place nearest to `point`, if any lies within about 550 km.
    pub fn nearest(&self, point: Point) -> Option<Found<'_>> {
        let (row, col) = cell_of(point);
        let mut best: Option<(usize, f64)> = None;
        for ring in 0..=MAX_RINGS {
            for d_row in -ring..=ring {
                for d_col in -ring..=ring {
                    if d_row.abs() != ring && d_col.abs() != ring {
                        continue;
                    }
                    for &index in self
                        .cells
                        .get(&(row + d_row, col + d_col))
                        .into_iter()
                        .flatten()
                    {
                        let d = haversine_m(point, self.places[index].point);
                        if best.is_none_or(|(_, b)| d < b) {
                            best = Some((index, d));
                        }
                    }
                }
            }
            // Every place outside this ring is at least a ring's width away.
            if let Some((_, d)) = best
                && d <= f64::from(ring) * CELL_DEG * 111_000.0 * point.latitude.to_radians().cos()
            {
                break;
            }
        }
        best.map(|(index, d)| Found {
            place: &self.places[index],
            index,
            distance_m: Some(d),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[Found<'_>]) -> Vec<String> {
        found.iter().map(|f| f.place.name.clone()).collect()
    }

    #[test]
    fn india_is_loaded_with_districts_and_states() {
        let india = Gazetteer::india();
        assert!(india.len() > 7_000, "{}", india.len());
        let pune = &india.search("Pune", None, 1)[0];
        assert_eq!(
            (pune.place.district.as_str(), pune.place.state.as_str()),
            ("Pune", "Maharashtra")
        );
    }

    #[test]
    fn a_prefix_finds_the_city_by_any_of_its_names() {
        let india = Gazetteer::india();
        assert_eq!(names(&india.search("Bengaluru", None, 1)), ["Bengaluru"]);
        assert_eq!(names(&india.search("bangal", None, 1)), ["Bengaluru"]);
        assert_eq!(
            names(&india.search("  WHITEFIELD ", None, 1)),
            ["Whitefield"]
        );
        assert_eq!(
            names(&india.search("Whitefield, Bengaluru", None, 1)),
            ["Whitefield"]
        );
        assert!(india.search("qqqzzz", None, 5).is_empty());
    }

    #[test]
    fn a_district_headquarters_is_found_and_the_bias_decides_between_namesakes() {
        let india = Gazetteer::india();
        let hubli = &india.search("Hubl", None, 1)[0];
        assert_eq!(
            (hubli.place.district.as_str(), hubli.place.state.as_str()),
            ("Dharwad", "Karnataka")
        );
        // Aurangabad is a district seat in Maharashtra and in Bihar.
        let in_bihar = india.search("Aurangabad", Some(Point::new(25.6, 85.1)), 1);
        assert_eq!(in_bihar[0].place.state, "Bihar");
        let in_maharashtra = india.search("Aurangabad", Some(Point::new(19.9, 75.3)), 1);
        assert_eq!(in_maharashtra[0].place.state, "Maharashtra");
    }

    #[test]
    fn any_point_in_india_has_a_nearest_place() {
        let india = Gazetteer::india();
        let near_whitefield = india.nearest(Point::new(12.9700, 77.7490)).unwrap();
        assert_eq!(near_whitefield.place.name, "Whitefield");
        // The middle of the Thar desert and the far north-east.
        for point in [
            Point::new(26.9, 70.9),
            Point::new(27.9, 96.9),
            Point::new(8.1, 77.5),
        ] {
            let found = india.nearest(point).unwrap();
            assert!(
                found.distance_m.unwrap() < 100_000.0,
                "{point:?}: {found:?}"
            );
        }
        let brute = |p: Point| {
            (0..india.len())
                .min_by(|a, b| {
                    haversine_m(p, india.places[*a].point)
                        .total_cmp(&haversine_m(p, india.places[*b].point))
                })
                .unwrap()
        };
        for point in [
            Point::new(21.1, 79.0),
            Point::new(30.3, 78.0),
            Point::new(15.5, 73.8),
        ] {
            assert_eq!(
                india.nearest(point).unwrap().index,
                brute(point),
                "{point:?}"
            );
        }
    }

    #[test]
    fn a_label_names_the_district_and_state_once() {
        let place = Place {
            name: "Pune".into(),
            district: "Pune".into(),
            state: "Maharashtra".into(),
            point: Point::new(18.5, 73.8),
            population: 1,
        };
        assert_eq!(place.label(), "Pune, Maharashtra");
    }
}
