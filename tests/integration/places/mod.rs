//! Places, routes and ETAs end to end: the embedded provider with nothing
//! configured, Google and Photon/OSRM through a stand-in that checks their
//! documented requests, the fallback when the provider is down or slow,
//! answers kept in Redis, the per-user limit and the trucks' ETAs.

mod stand_in;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use weelo_dispatch::places::polyline;

use crate::cancel_policy::taken;
use crate::dispatch::fleet_at;
use crate::helpers::{TestApp, assert_error, spawn_app, spawn_tuned};
use stand_in::MapsStandIn;
use weelo_server::Clock;

/// What the customer app reads of a search hit.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceHit {
    place_id: String,
    label: String,
    latitude: f64,
    longitude: f64,
    source: String,
}

/// What the app reads of a route (`route-multi`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteData {
    polyline: Vec<[f64; 2]>,
    distance_km: i64,
    duration_minutes: i64,
    duration_formatted: String,
    source: String,
    legs: Vec<Value>,
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, path, Some(token), Some(body)).await
}

fn three_points() -> Value {
    json!({ "points": [
        { "lat": 19.0760, "lng": 72.8777, "label": "Andheri" },
        { "lat": 18.7606, "lng": 73.8636, "label": "Chakan" },
        { "lat": 18.5204, "lng": 73.8567, "label": "Pune" }
    ], "truckMode": true, "includePolyline": true })
}

#[tokio::test]
async fn with_nothing_configured_the_embedded_provider_answers_every_endpoint() {
    let app = spawn_app().await;
    let customer = app.token("9876543210", "customer").await;

    let (status, found) = post(
        &app,
        &customer,
        "geocoding/search",
        json!({ "query": "Whitefield", "biasLat": 12.97, "biasLng": 77.59, "maxResults": 5 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let hits: Vec<PlaceHit> = serde_json::from_value(found["data"].clone()).unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5);
    assert!(hits[0].label.starts_with("Whitefield"), "{}", hits[0].label);
    assert!(hits[0].place_id.starts_with("gz:"));
    assert_eq!(hits[0].source, "embedded");
    assert!((hits[0].latitude - 12.97).abs() < 0.1 && (hits[0].longitude - 77.75).abs() < 0.1);

    let (status, address) = post(
        &app,
        &customer,
        "geocoding/reverse",
        json!({ "latitude": 12.9700, "longitude": 77.7490 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{address}");
    assert_eq!(address["data"]["city"], "Whitefield");
    assert_eq!(address["data"]["state"], "Karnataka");
    assert_eq!(address["data"]["latitude"], 12.97);
    assert_eq!(address["data"]["source"], "embedded");

    let (status, route) = post(&app, &customer, "geocoding/route-multi", three_points()).await;
    assert_eq!(status, StatusCode::OK, "{route}");
    let route: RouteData = serde_json::from_value(route["data"].clone()).unwrap();
    assert_eq!((route.polyline.len(), route.legs.len()), (3, 2));
    assert!(
        route.distance_km > 150 && route.distance_km < 250,
        "{}",
        route.distance_km
    );
    assert!(route.duration_minutes > 60 && route.duration_formatted.contains(" h"));
    assert_eq!(route.source, "embedded");
    assert_eq!(route.legs[0]["fromLabel"], "Andheri");

    let (status, single) = post(
        &app,
        &customer,
        "geocoding/route",
        json!({ "from": { "latitude": 19.07, "longitude": 72.87 }, "to": { "latitude": 18.52, "longitude": 73.85 }, "truckMode": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{single}");
    assert!(single["data"]["distanceKm"].as_i64().unwrap() > 100);
    assert!(single["data"].get("polyline").is_none(), "not asked for");

    let (status, state) = app.get_as("geocoding/status", &customer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["data"]["provider"], "embedded");
}

#[tokio::test]
async fn bad_geocoding_input_is_400_naming_the_field() {
    let app = spawn_app().await;
    let customer = app.token("9876543210", "customer").await;
    for (path, body, field) in [
        ("geocoding/search", json!({}), "query"),
        (
            "geocoding/search",
            json!({ "query": "pune", "maxResults": 11 }),
            "maxResults",
        ),
        (
            "geocoding/search",
            json!({ "query": "pune", "biasLat": 12.0 }),
            "biasLat",
        ),
        (
            "geocoding/reverse",
            json!({ "latitude": 100.0, "longitude": 77.0 }),
            "latitude",
        ),
        (
            "geocoding/route",
            json!({ "from": { "lat": 19.0, "lng": 72.8 } }),
            "to",
        ),
        (
            "geocoding/route-multi",
            json!({ "points": [{ "lat": 19.0, "lng": 72.8 }] }),
            "points",
        ),
        (
            "geocoding/route-multi",
            json!({ "points": [{ "lat": 19.0, "lng": 72.8 }, { "lat": 19.0 }] }),
            "points[1]",
        ),
    ] {
        let (status, body) = post(&app, &customer, path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
        assert_eq!(body["error"]["details"]["field"], field, "{path}: {body}");
    }
    let (status, _) = app
        .call(
            Method::POST,
            "geocoding/search",
            None,
            Some(json!({ "query": "pune" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

fn google_fixtures() -> Vec<(&'static str, Value)> {
    let line = [
        [19.0760, 72.8777],
        [18.9, 73.3],
        [18.7606, 73.8636],
        [18.5204, 73.8567],
    ];
    vec![
        (
            "/v1/places:searchText",
            json!({ "places": [{
                "id": "ChIJ-whitefield",
                "displayName": { "text": "Whitefield", "languageCode": "en" },
                "formattedAddress": "Whitefield, Bengaluru, Karnataka 560066, India",
                "location": { "latitude": 12.9698, "longitude": 77.75 },
                "addressComponents": [
                    { "longText": "Bengaluru", "shortText": "Bengaluru", "types": ["locality", "political"] },
                    { "longText": "Karnataka", "shortText": "KA", "types": ["administrative_area_level_1", "political"] }
                ]
            }]}),
        ),
        (
            "/maps/api/geocode/json",
            json!({ "status": "OK", "results": [{
                "formatted_address": "ITPL Main Rd, Whitefield, Bengaluru, Karnataka 560066, India",
                "place_id": "ChIJ-itpl",
                "address_components": [
                    { "long_name": "Bengaluru", "short_name": "Bengaluru", "types": ["locality", "political"] },
                    { "long_name": "Karnataka", "short_name": "KA", "types": ["administrative_area_level_1", "political"] },
                    { "long_name": "India", "short_name": "IN", "types": ["country", "political"] },
                    { "long_name": "560066", "short_name": "560066", "types": ["postal_code"] }
                ]
            }]}),
        ),
        (
            "/directions/v2:computeRoutes",
            json!({ "routes": [{
                "distanceMeters": 171_400,
                "duration": "13260s",
                "polyline": { "encodedPolyline": polyline::encode(&line) },
                "legs": [
                    { "distanceMeters": 98_000, "duration": "7600s" },
                    { "distanceMeters": 73_400, "duration": "5660s" }
                ]
            }]}),
        ),
    ]
}

#[tokio::test]
async fn google_answers_in_the_apps_shape_and_a_repeat_is_served_from_the_cache() {
    let google = MapsStandIn::start(&google_fixtures()).await;
    let app = spawn_tuned(|s| google.as_google(s)).await;
    let customer = app.token("9876543210", "customer").await;

    let search =
        json!({ "query": "Whitefield", "biasLat": 12.97, "biasLng": 77.59, "maxResults": 5 });
    let (status, found) = post(&app, &customer, "geocoding/search", search.clone()).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let hits: Vec<PlaceHit> = serde_json::from_value(found["data"].clone()).unwrap();
    assert_eq!(
        (
            hits[0].place_id.as_str(),
            hits[0].label.as_str(),
            hits[0].source.as_str()
        ),
        ("ChIJ-whitefield", "Whitefield", "google")
    );
    assert_eq!(found["data"][0]["state"], "Karnataka");
    let (_, again) = post(&app, &customer, "geocoding/search", search).await;
    assert_eq!(again["data"], found["data"]);

    let (status, address) = post(
        &app,
        &customer,
        "geocoding/reverse",
        json!({ "latitude": 12.9850, "longitude": 77.7280 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{address}");
    assert_eq!(address["data"]["postalCode"], "560066");
    assert_eq!(address["data"]["source"], "google");

    let (status, route) = post(&app, &customer, "geocoding/route-multi", three_points()).await;
    assert_eq!(status, StatusCode::OK, "{route}");
    let route: RouteData = serde_json::from_value(route["data"].clone()).unwrap();
    assert_eq!((route.distance_km, route.duration_minutes), (171, 221));
    assert_eq!(route.polyline.len(), 4);
    assert_eq!(route.polyline[2], [18.7606, 73.8636]);
    assert_eq!(route.legs[1]["distanceKm"], 73);
    assert_eq!(route.source, "google");

    let seen = google.seen();
    let searches: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/v1/places:searchText")
        .collect();
    assert_eq!(searches.len(), 1, "the repeat came from the cache");
    assert_eq!(searches[0].body["textQuery"], "Whitefield");
    assert_eq!(searches[0].body["regionCode"], "IN");
    assert_eq!(
        searches[0].body["locationBias"]["circle"]["center"]["latitude"],
        12.97
    );
    assert!(
        searches[0]
            .field_mask
            .as_deref()
            .unwrap()
            .contains("places.location")
    );
    let geocode = seen
        .iter()
        .find(|s| s.path == "/maps/api/geocode/json")
        .unwrap();
    assert!(
        geocode.query.contains("latlng=12.985%2C77.728"),
        "{}",
        geocode.query
    );
    let routes = seen
        .iter()
        .find(|s| s.path == "/directions/v2:computeRoutes")
        .unwrap();
    assert_eq!(routes.body["travelMode"], "DRIVE");
    assert_eq!(
        routes.body["intermediates"][0]["location"]["latLng"]["latitude"],
        18.7606
    );
    assert_eq!(
        routes.body["destination"]["location"]["latLng"]["longitude"],
        73.8567
    );
}

#[tokio::test]
async fn a_provider_down_or_slow_gives_the_embedded_answer_and_says_so() {
    let google = MapsStandIn::start(&google_fixtures()).await;
    let app = spawn_tuned(|s| google.as_google(s)).await;
    let customer = app.token("9876543210", "customer").await;

    google.fail_with(503);
    let (status, found) = post(
        &app,
        &customer,
        "geocoding/search",
        json!({ "query": "Pune" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["data"][0]["source"], "embedded");
    assert_eq!(found["data"][0]["city"], "Pune");

    google.fail_with(0);
    google.delay(Duration::from_secs(3));
    let started = std::time::Instant::now();
    let (status, route) = post(&app, &customer, "geocoding/route-multi", three_points()).await;
    assert_eq!(status, StatusCode::OK, "{route}");
    assert_eq!(route["data"]["source"], "embedded");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered within the timeout"
    );

    // The fallback is not kept: once the provider answers again, it serves.
    google.delay(Duration::ZERO);
    google.fail_with(429);
    let (_, quota) = post(
        &app,
        &customer,
        "geocoding/search",
        json!({ "query": "Nagpur" }),
    )
    .await;
    assert_eq!(quota["data"][0]["source"], "embedded");
    let (status, state) = app.get_as("geocoding/status", &customer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["data"]["provider"], "google");
    assert_eq!(
        state["data"]["available"], false,
        "a quota answer pauses it"
    );
}

#[tokio::test]
async fn photon_and_osrm_answer_as_the_open_provider() {
    let line = [[19.0760, 72.8777], [18.5204, 73.8567]];
    let open = MapsStandIn::start(&[
        ("/api", json!({ "type": "FeatureCollection", "features": [{
            "type": "Feature",
            "geometry": { "type": "Point", "coordinates": [73.8567, 18.5204] },
            "properties": { "osm_type": "R", "osm_id": 1_640_141, "name": "Pune", "city": "Pune",
                            "county": "Pune", "state": "Maharashtra", "country": "India" }
        }]})),
        ("/route/v1/driving/", json!({ "code": "Ok", "routes": [{
            "distance": 148_900.0, "duration": 10_800.0, "geometry": polyline::encode(&line),
            "legs": [{ "distance": 148_900.0, "duration": 10_800.0 }]
        }]})),
    ])
    .await;
    let app = spawn_tuned(|s| open.as_open(s)).await;
    let customer = app.token("9876543210", "customer").await;
    let (status, found) = post(
        &app,
        &customer,
        "geocoding/search",
        json!({ "query": "Pune", "biasLat": 19.0, "biasLng": 73.0 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["data"][0]["placeId"], "osm:R1640141");
    assert_eq!(found["data"][0]["source"], "open");
    let (status, route) = post(
        &app,
        &customer,
        "geocoding/route",
        json!({ "from": { "latitude": 19.076, "longitude": 72.8777 }, "to": { "latitude": 18.5204, "longitude": 73.8567 }, "includePolyline": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{route}");
    assert_eq!(route["data"]["distanceKm"], 149);
    assert_eq!(route["data"]["durationMinutes"], 180);
    assert_eq!(route["data"]["source"], "open");
    let seen = open.seen();
    let photon = seen.iter().find(|s| s.path == "/api").unwrap();
    assert!(
        photon.query.contains("q=Pune") && photon.query.contains("lat=19"),
        "{}",
        photon.query
    );
    let osrm = seen.iter().find(|s| s.path.starts_with("/route")).unwrap();
    assert_eq!(
        osrm.path,
        "/route/v1/driving/72.877700,19.076000;73.856700,18.520400"
    );
    assert!(osrm.query.contains("geometries=polyline"));
}

#[tokio::test]
async fn the_sixty_first_call_in_a_minute_is_429() {
    let app = spawn_tuned(|s| s.maps.calls_per_minute = 3).await;
    let customer = app.token("9876543210", "customer").await;
    for _ in 0..3 {
        let (status, _) = post(
            &app,
            &customer,
            "geocoding/search",
            json!({ "query": "Pune" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, limited) = post(
        &app,
        &customer,
        "geocoding/search",
        json!({ "query": "Pune" }),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{limited}");
    assert_error(&limited, "RATE_LIMIT_EXCEEDED");
    let other = app.token("9876543211", "customer").await;
    let (status, _) = post(&app, &other, "geocoding/search", json!({ "query": "Pune" })).await;
    assert_eq!(status, StatusCode::OK, "each user has their own minute");
}

#[tokio::test]
async fn each_truck_on_its_way_has_an_eta_to_the_pickup() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (customer, order, trip) = taken(&app, &t1, true).await;
    let (status, empty) = app
        .get_as(&format!("tracking/booking/{order}/eta"), &customer)
        .await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty["data"]["etas"], json!({}), "no fix yet");

    // 10 km north of the pickup.
    let (status, _) = app
        .call(
            Method::POST,
            "tracking/batch",
            Some(&t1.driver_token),
            Some(json!({ "tripId": trip, "points": [{ "latitude": 19.1660, "longitude": 72.8777, "timestamp": app.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true) }] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, eta) = app
        .get_as(&format!("tracking/booking/{order}/eta"), &customer)
        .await;
    assert_eq!(status, StatusCode::OK, "{eta}");
    let this = &eta["data"]["etas"][&trip];
    assert_eq!(this["target"], "pickup", "{eta}");
    assert_eq!(this["distanceKm"], 13, "10 km × the road factor");
    assert_eq!(this["durationMinutes"], 28, "13 km at 28 km/h");
    assert!(this["durationText"].as_str().unwrap().ends_with("min"));

    let stranger = app.token("9876543219", "customer").await;
    let (status, _) = app
        .get_as(&format!("tracking/booking/{order}/eta"), &stranger)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_order_keeps_the_road_distance_its_provider_measured() {
    let google = MapsStandIn::start(&google_fixtures()).await;
    let app = spawn_tuned(|s| google.as_google(s)).await;
    let customer = app.token("9876543210", "customer").await;
    let (status, created) = app
        .create_order(&customer, "key-1", &crate::dispatch::two_trucks())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let check = &created["data"]["priceCheck"];
    assert_eq!(
        (
            check["distanceKm"].clone(),
            check["routeDistanceKm"].clone()
        ),
        (json!(150), json!(171)),
        "{check}"
    );
    assert_eq!(check["pricedOnRouteDistance"], true);
    assert_eq!(
        app.count_rows("order_routes WHERE distance_km = 171 AND source = 'google'")
            .await,
        1
    );
    let routed = google.seen();
    let asked = routed
        .iter()
        .find(|s| s.path == "/directions/v2:computeRoutes")
        .unwrap();
    assert_eq!(
        asked.body["origin"]["location"]["latLng"]["latitude"],
        19.076
    );

    // With nothing configured the estimate is kept, and the client's
    // distance prices the order.
    let app = spawn_app().await;
    let customer = app.token("9876543210", "customer").await;
    let (_, created) = app
        .create_order(&customer, "key-1", &crate::dispatch::two_trucks())
        .await;
    let check = &created["data"]["priceCheck"];
    assert_eq!(check["pricedOnRouteDistance"], false);
    let estimated = check["routeDistanceKm"].as_i64().unwrap();
    assert!((140..=175).contains(&estimated), "{estimated}");
    assert_eq!(
        app.count_rows(&format!(
            "order_routes WHERE distance_km = {estimated} AND source = 'embedded'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn driver_approaching_goes_to_the_customer_once_per_trip_on_a_drive() {
    let app = spawn_app().await;
    let t1 = fleet_at(&app, 1, (19.0800, 72.8800)).await;
    let (_, order, trip) = taken(&app, &t1, true).await;
    let counted = format!("outbox WHERE topic = 'driver_approaching' AND order_id = '{order}'");
    let approaching = || app.count_rows(&counted);
    // From 10 km north of the pickup (19.0760, 72.8777) towards it: 10 km,
    // 4 km and 2.5 km are too far; 1.5 km is under five minutes at a
    // truck's speed; then 0.5 km and at the pickup.
    for (km, expected) in [(10.0, 0), (4.0, 0), (2.5, 0), (1.5, 1), (0.5, 1), (0.0, 1)] {
        // A fix every five minutes: a truck's pace, never a jump.
        app.clock.advance(chrono::Duration::minutes(5));
        let at = app.clock.now();
        let (status, sent) = app
            .call(
                Method::POST,
                "tracking/batch",
                Some(&t1.driver_token),
                Some(json!({ "tripId": trip, "points": [{
                    "latitude": 19.0760 + km / 111.2, "longitude": 72.8777,
                    "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                }] })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["data"]["accepted"], 1, "{sent}");
        assert_eq!(approaching().await, expected, "at {km} km");
    }
    #[derive(diesel::QueryableByName)]
    struct Payload {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        payload: Value,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await.unwrap();
    let row: Payload =
        diesel::sql_query("SELECT payload FROM outbox WHERE topic = 'driver_approaching'")
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(row.payload["tripId"], trip.as_str());
    assert_eq!(row.payload["durationMinutes"], 4, "{}", row.payload);
    assert_eq!(row.payload["distanceKm"], 1.9, "1.5 km × the road factor");
    assert!(row.payload["driverName"].is_string());
}

#[tokio::test]
async fn concurrent_misses_of_one_query_ask_the_provider_once() {
    let google = MapsStandIn::start(&google_fixtures()).await;
    google.delay(Duration::from_millis(150));
    let app = spawn_tuned(|s| google.as_google(s)).await;
    let customer = app.token("9876543210", "customer").await;
    let asks = (0..8).map(|_| {
        post(
            &app,
            &customer,
            "geocoding/search",
            json!({ "query": "Whitefield", "maxResults": 3 }),
        )
    });
    for (status, found) in futures_util::future::join_all(asks).await {
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found["data"][0]["source"], "google");
    }
    let searches = google
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/places:searchText")
        .count();
    assert_eq!(searches, 1, "the other seven waited for the first's answer");
}
