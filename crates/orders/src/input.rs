//! The create-order input: the body the customer app sends
//! (docs/app-contract.md §3.6), and its validation into a [`ValidOrder`].
//! Every refusal names the field, so the app can say what to fix.

use serde::Deserialize;

/// India's bounding box: pickups and drops outside it are refused.
pub const INDIA_LATITUDE: (f64, f64) = (6.0, 37.6);
/// India's bounding box, longitudes.
pub const INDIA_LONGITUDE: (f64, f64) = (68.0, 97.5);
/// Most trucks in one order.
pub const MAX_TRUCKS: i64 = 50;
/// Most intermediate stops.
pub const MAX_STOPS: usize = 2;
/// Pickup and drop closer than this are the same point.
pub const SAME_POINT_METRES: f64 = 50.0;

/// A place as sent: flat coordinates and an address.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PlaceDraft {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
}

/// A point of `routePoints`, sent only when there are stops.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoutePointDraft {
    /// `PICKUP`, `STOP` or `DROP`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The place.
    #[serde(flatten)]
    pub place: PlaceDraft,
}

/// One line of `vehicleRequirements`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct LineDraft {
    /// A catalogue type id (`open`, `container`…).
    pub vehicle_type: String,
    /// A display subtype (`17 Feet`).
    pub vehicle_subtype: String,
    /// Trucks of this kind.
    pub quantity: i64,
    /// Rupees per truck.
    pub price_per_truck: i64,
    /// A quote the server signed for this line (`pricing/estimate`), when
    /// the app sends one: the price it promised is honoured.
    pub quote_token: Option<String>,
}

/// The create-order body.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrderDraft {
    /// Where the goods are.
    pub pickup: PlaceDraft,
    /// Where they go.
    pub drop: PlaceDraft,
    /// Pickup, stops and drop, when there are stops.
    pub route_points: Option<Vec<RoutePointDraft>>,
    /// Road distance, whole kilometres.
    pub distance_km: i64,
    /// The trucks wanted.
    pub vehicle_requirements: Vec<LineDraft>,
    /// What is carried.
    pub goods_type: Option<String>,
    /// Cargo per truck, kg, when the app knows it (priced by its tonnage).
    pub cargo_weight_kg: Option<f64>,
    /// The quote of a one-line order, sent beside the line.
    pub quote_token: Option<String>,
}

/// Heaviest cargo per truck accepted, kg.
pub const MAX_CARGO_KG: f64 = 100_000.0;

/// A checked place.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Street address.
    pub address: String,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
}

/// A checked line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Catalogue type id, lower case.
    pub vehicle_type: String,
    /// Display subtype, trimmed.
    pub vehicle_subtype: String,
    /// Trucks.
    pub quantity: i32,
    /// Rupees per truck, in force (the client's until the server's price
    /// check replaces it).
    pub price_per_truck: i32,
    /// What the client offered per truck.
    pub client_price_per_truck: i32,
    /// What the server priced per truck, once checked.
    pub server_price_per_truck: Option<i32>,
    /// The quote the client showed, unverified.
    pub quote_token: Option<String>,
}

/// An order that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidOrder {
    /// Pickup.
    pub pickup: Place,
    /// Drop.
    pub drop: Place,
    /// Up to two stops, in order.
    pub stops: Vec<Place>,
    /// Whole kilometres.
    pub distance_km: i32,
    /// The lines.
    pub lines: Vec<Line>,
    /// What is carried.
    pub goods_type: Option<String>,
    /// Trucks in all.
    pub total_trucks: i32,
    /// Rupees in all.
    pub total_amount: i64,
    /// Cargo per truck, kg, when given.
    pub cargo_weight_kg: Option<f64>,
    /// The road distance the server measured, whole km.
    pub route_distance_km: Option<i32>,
    /// Whether a maps provider measured it (not an estimate): it then
    /// prices the order.
    pub route_measured: bool,
}

impl ValidOrder {
    /// Puts `server` price on line `index` (and, when `replace`, in force),
    /// keeping the total in step.
    pub fn set_server_price(&mut self, index: usize, server: i32, replace: bool) {
        let Some(line) = self.lines.get_mut(index) else {
            return;
        };
        line.server_price_per_truck = Some(server);
        if replace {
            line.price_per_truck = server;
        }
        self.total_amount = self
            .lines
            .iter()
            .map(|l| i64::from(l.quantity) * i64::from(l.price_per_truck))
            .sum();
    }
}

/// Why an order was refused: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OrderInputError {
    /// The field's path (`vehicleRequirements[1].quantity`).
    pub field: String,
    /// For a person.
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> OrderInputError {
    OrderInputError {
        field: field.into(),
        message: message.into(),
    }
}

impl OrderDraft {
    /// Checks the draft; `is_known_type` says whether a vehicle type id is
    /// in the catalogue and returns its canonical id.
    pub fn validate(
        &self,
        is_known_type: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<ValidOrder, OrderInputError> {
        let pickup = place("pickup", &self.pickup)?;
        let drop = place("drop", &self.drop)?;
        if haversine_m(&pickup, &drop) < SAME_POINT_METRES {
            return Err(refuse("drop", "pickup and drop are the same point"));
        }
        let stops = self.stops()?;
        if !(0..=5_000).contains(&self.distance_km) {
            return Err(refuse(
                "distanceKm",
                "distanceKm must be between 0 and 5000",
            ));
        }
        if self.vehicle_requirements.is_empty() {
            return Err(refuse(
                "vehicleRequirements",
                "at least one vehicle is required",
            ));
        }
        let mut lines = Vec::with_capacity(self.vehicle_requirements.len());
        let (mut total_trucks, mut total_amount) = (0_i64, 0_i64);
        for (index, line) in self.vehicle_requirements.iter().enumerate() {
            let at = |name: &str| format!("vehicleRequirements[{index}].{name}");
            let vehicle_type = is_known_type(line.vehicle_type.trim()).ok_or_else(|| {
                refuse(
                    at("vehicleType"),
                    format!("unknown vehicle type `{}`", line.vehicle_type),
                )
            })?;
            let subtype = line.vehicle_subtype.trim();
            if subtype.is_empty() || subtype.chars().count() > 60 {
                return Err(refuse(
                    at("vehicleSubtype"),
                    "vehicleSubtype must be 1 to 60 characters",
                ));
            }
            if !(1..=MAX_TRUCKS).contains(&line.quantity) {
                return Err(refuse(
                    at("quantity"),
                    format!("quantity must be between 1 and {MAX_TRUCKS}"),
                ));
            }
            if !(0..=10_000_000).contains(&line.price_per_truck) {
                return Err(refuse(
                    at("pricePerTruck"),
                    "pricePerTruck must be between 0 and 10000000",
                ));
            }
            total_trucks += line.quantity;
            total_amount += line.quantity * line.price_per_truck;
            let price = i32::try_from(line.price_per_truck).unwrap_or(i32::MAX);
            lines.push(Line {
                vehicle_type: vehicle_type.to_owned(),
                vehicle_subtype: subtype.to_owned(),
                quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                price_per_truck: price,
                client_price_per_truck: price,
                server_price_per_truck: None,
                quote_token: token(&at("quoteToken"), line.quote_token.as_deref())?,
            });
        }
        if total_trucks > MAX_TRUCKS {
            return Err(refuse(
                "vehicleRequirements",
                format!("at most {MAX_TRUCKS} trucks in one order"),
            ));
        }
        let goods_type = text("goodsType", self.goods_type.as_deref(), 60)?;
        if let Some(order_quote) = token("quoteToken", self.quote_token.as_deref())? {
            match lines.as_mut_slice() {
                [only] if only.quote_token.is_none() => only.quote_token = Some(order_quote),
                _ => {
                    return Err(refuse(
                        "quoteToken",
                        "a quoteToken beside the lines fits an order of one line; send one per line",
                    ));
                }
            }
        }
        let cargo_weight_kg = match self.cargo_weight_kg {
            Some(kg) if !(kg.is_finite() && kg > 0.0 && kg <= MAX_CARGO_KG) => {
                return Err(refuse(
                    "cargoWeightKg",
                    format!("cargoWeightKg must be above 0 and at most {MAX_CARGO_KG}"),
                ));
            }
            kg => kg,
        };
        Ok(ValidOrder {
            pickup,
            drop,
            stops,
            distance_km: i32::try_from(self.distance_km).unwrap_or(i32::MAX),
            lines,
            goods_type,
            total_trucks: i32::try_from(total_trucks).unwrap_or(i32::MAX),
            total_amount,
            cargo_weight_kg,
            route_distance_km: None,
            route_measured: false,
        })
    }

    fn stops(&self) -> Result<Vec<Place>, OrderInputError> {
        let Some(points) = &self.route_points else {
            return Ok(Vec::new());
        };
        let mut stops = Vec::new();
        for (index, point) in points.iter().enumerate() {
            let field = format!("routePoints[{index}]");
            match point.kind.to_ascii_uppercase().as_str() {
                "STOP" => stops.push(place(&field, &point.place)?),
                "PICKUP" | "DROP" => {}
                _ => {
                    return Err(refuse(
                        format!("{field}.type"),
                        "type must be PICKUP, STOP or DROP",
                    ));
                }
            }
        }
        if stops.len() > MAX_STOPS {
            return Err(refuse("routePoints", format!("at most {MAX_STOPS} stops")));
        }
        Ok(stops)
    }
}

fn place(field: &str, draft: &PlaceDraft) -> Result<Place, OrderInputError> {
    let (lat, lng) = (draft.latitude, draft.longitude);
    if !lat.is_finite() || !(INDIA_LATITUDE.0..=INDIA_LATITUDE.1).contains(&lat) {
        return Err(refuse(
            format!("{field}.latitude"),
            "latitude is outside India",
        ));
    }
    if !lng.is_finite() || !(INDIA_LONGITUDE.0..=INDIA_LONGITUDE.1).contains(&lng) {
        return Err(refuse(
            format!("{field}.longitude"),
            "longitude is outside India",
        ));
    }
    let address = text(&format!("{field}.address"), draft.address.as_deref(), 300)?
        .ok_or_else(|| refuse(format!("{field}.address"), "address is required"))?;
    Ok(Place {
        latitude: lat,
        longitude: lng,
        address,
        city: text(&format!("{field}.city"), draft.city.as_deref(), 100)?,
        state: text(&format!("{field}.state"), draft.state.as_deref(), 100)?,
    })
}

/// A quote token as sent: short printable text, or nothing.
fn token(field: &str, raw: Option<&str>) -> Result<Option<String>, OrderInputError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > 2_048 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse(
            field,
            "quoteToken is not a quote this server issued",
        ));
    }
    Ok(Some(value.to_owned()))
}

fn text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, OrderInputError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(refuse(
            field,
            format!("{field} must be at most {max} printable characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Great-circle distance in metres.
pub fn haversine_m(a: &Place, b: &Place) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let d_lat = lat2 - lat1;
    let d_lng = (b.longitude - a.longitude).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(id: &str) -> Option<&'static str> {
        ["open", "container"]
            .into_iter()
            .find(|t| t.eq_ignore_ascii_case(id))
    }

    fn draft() -> OrderDraft {
        serde_json::from_value(serde_json::json!({
            "pickup": {"latitude": 19.07, "longitude": 72.87, "address": "Andheri, Mumbai"},
            "drop": {"latitude": 18.52, "longitude": 73.85, "address": "Hadapsar, Pune"},
            "distanceKm": 150,
            "vehicleRequirements": [
                {"vehicleType": "open", "vehicleSubtype": "17 Feet", "quantity": 2, "pricePerTruck": 9000},
                {"vehicleType": "Container", "vehicleSubtype": "20 Feet", "quantity": 1, "pricePerTruck": 9000}
            ],
            "goodsType": "General"
        }))
        .unwrap()
    }

    #[test]
    fn a_good_order_is_totalled() {
        let order = draft().validate(known).unwrap();
        assert_eq!(order.total_trucks, 3);
        assert_eq!(order.total_amount, 27_000);
        assert_eq!(order.lines[1].vehicle_type, "container");
    }

    fn field_of(edit: impl FnOnce(&mut OrderDraft)) -> String {
        let mut draft = draft();
        edit(&mut draft);
        draft.validate(known).unwrap_err().field
    }

    #[test]
    fn each_bad_input_names_its_field() {
        assert_eq!(field_of(|d| d.pickup.latitude = 51.5), "pickup.latitude");
        assert_eq!(field_of(|d| d.drop.longitude = f64::NAN), "drop.longitude");
        assert_eq!(field_of(|d| d.drop = d.pickup.clone()), "drop");
        assert_eq!(
            field_of(|d| d.pickup.address = Some(" ".into())),
            "pickup.address"
        );
        assert_eq!(field_of(|d| d.distance_km = -1), "distanceKm");
        assert_eq!(
            field_of(|d| d.vehicle_requirements.clear()),
            "vehicleRequirements"
        );
        assert_eq!(
            field_of(|d| d.vehicle_requirements[0].quantity = 0),
            "vehicleRequirements[0].quantity"
        );
        assert_eq!(
            field_of(|d| d.vehicle_requirements[1].price_per_truck = -5),
            "vehicleRequirements[1].pricePerTruck"
        );
        assert_eq!(
            field_of(|d| d.vehicle_requirements[0].vehicle_type = "rocket".into()),
            "vehicleRequirements[0].vehicleType"
        );
        assert_eq!(
            field_of(|d| d.vehicle_requirements[0].vehicle_subtype = "".into()),
            "vehicleRequirements[0].vehicleSubtype"
        );
        assert_eq!(
            field_of(|d| d.vehicle_requirements[0].quantity = 50),
            "vehicleRequirements"
        );
        assert_eq!(field_of(|d| d.cargo_weight_kg = Some(0.0)), "cargoWeightKg");
        assert_eq!(
            field_of(|d| d.vehicle_requirements[0].quote_token = Some("a b".into())),
            "vehicleRequirements[0].quoteToken"
        );
        assert_eq!(
            field_of(|d| d.quote_token = Some("q".into())),
            "quoteToken",
            "a quote beside two lines is ambiguous"
        );
    }

    #[test]
    fn a_quote_beside_a_single_line_goes_on_it() {
        let mut draft = draft();
        draft.vehicle_requirements.truncate(1);
        draft.quote_token = Some("signed.quote".into());
        let order = draft.validate(known).unwrap();
        assert_eq!(order.lines[0].quote_token.as_deref(), Some("signed.quote"));
        assert_eq!(order.lines[0].client_price_per_truck, 9000);
    }

    #[test]
    fn a_server_price_keeps_the_total_in_step() {
        let mut order = draft().validate(known).unwrap();
        order.set_server_price(0, 10_000, true);
        order.set_server_price(1, 8_000, false);
        assert_eq!(order.lines[0].price_per_truck, 10_000);
        assert_eq!(order.lines[0].client_price_per_truck, 9_000);
        assert_eq!(order.lines[1].price_per_truck, 9_000);
        assert_eq!(order.lines[1].server_price_per_truck, Some(8_000));
        assert_eq!(order.total_amount, 2 * 10_000 + 9_000);
    }

    #[test]
    fn at_most_two_stops() {
        let stop = RoutePointDraft {
            kind: "STOP".into(),
            place: PlaceDraft {
                latitude: 18.75,
                longitude: 73.40,
                address: Some("Lonavala".into()),
                city: None,
                state: None,
            },
        };
        let mut two = draft();
        two.route_points = Some(vec![stop.clone(), stop.clone()]);
        assert_eq!(two.validate(known).unwrap().stops.len(), 2);
        assert_eq!(
            field_of(|d| d.route_points = Some(vec![stop.clone(), stop.clone(), stop])),
            "routePoints"
        );
    }
}
