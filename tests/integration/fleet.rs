//! Vehicles and drivers of a transporter's fleet.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

fn truck(number: &str) -> Value {
    json!({
        "vehicleNumber": number, "vehicleType": "open", "vehicleSubtype": "17 Feet",
        "capacity": "7.5 MT", "model": null, "year": 2021, "rcNumber": null
    })
}

async fn upsert(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::PUT, "vehicles/upsert", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn a_vehicle_is_registered_normalised_listed_and_updated_in_place() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let (status, body) = upsert(&app, &token, truck("mh 12-ab 1234")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["isNew"], true);
    let vehicle = &body["data"]["vehicle"];
    assert_eq!(vehicle["vehicleNumber"], "MH12AB1234");
    assert_eq!(vehicle["vehicleKey"], "open_17_ft");
    assert_eq!(vehicle["status"], "available");

    let mut changed = truck("MH12AB1234");
    changed["vehicleSubtype"] = json!("Open 17 Feet");
    changed["model"] = json!("Tata 1109");
    let (status, body) = upsert(&app, &token, changed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["isNew"], false);
    assert_eq!(
        body["data"]["vehicle"]["vehicleKey"], "open_17_ft",
        "both spellings share a key"
    );

    let (status, body) = app.get_as("vehicles/list", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["total"], 1);
    assert_eq!(body["data"]["available"], 1);
    assert_eq!(body["data"]["onHold"], 0);
    assert_eq!(body["data"]["vehicles"][0]["model"], "Tata 1109");
}

#[tokio::test]
async fn another_transporters_vehicle_number_is_409_vehicle_exists() {
    let app = spawn_app().await;
    let a = app.token("9123456780", "transporter").await;
    let b = app.token("9123456781", "transporter").await;
    let (status, _) = upsert(&app, &a, truck("KA01AB1234")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = upsert(&app, &b, truck("ka01ab1234")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "VEHICLE_EXISTS");
    assert_eq!(app.count_rows("vehicles").await, 1);
}

#[tokio::test]
async fn transporter_a_reading_or_deleting_bs_vehicle_gets_404() {
    let app = spawn_app().await;
    let a = app.token("9123456780", "transporter").await;
    let b = app.token("9123456781", "transporter").await;
    let (_, body) = upsert(&app, &b, truck("KA01AB1234")).await;
    let id = body["data"]["vehicle"]["id"].as_str().unwrap().to_owned();

    let (status, body) = app.get_as(&format!("vehicles/{id}"), &a).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "VEHICLE_NOT_FOUND");
    let (status, _) = app
        .call(Method::DELETE, &format!("vehicles/{id}"), Some(&a), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = app.get_as(&format!("vehicles/{id}"), &b).await;
    assert_eq!(status, StatusCode::OK, "B still has it: {body}");
    let (status, _) = app
        .call(Method::DELETE, &format!("vehicles/{id}"), Some(&b), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get_as(&format!("vehicles/{id}"), &b).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_vehicle_on_a_trip_cannot_be_deleted() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let (_, body) = upsert(&app, &token, truck("KA01AB1234")).await;
    let id = body["data"]["vehicle"]["id"].as_str().unwrap().to_owned();
    let mut conn = app.db.connect().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE vehicles SET status = 'in_transit' WHERE id = '{id}'"
        )),
        &mut conn,
    )
    .await
    .unwrap();
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("vehicles/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "VEHICLE_IN_USE");
    let (_, body) = app.get_as("vehicles/list", &token).await;
    assert_eq!(body["data"]["inTransit"], 1);
}

#[tokio::test]
async fn invalid_vehicles_are_400_naming_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    let mut bad_type = truck("KA01AB1234");
    bad_type["vehicleType"] = json!("spaceship");
    let mut bad_year = truck("KA01AB1234");
    bad_year["year"] = json!(1800);
    let mut no_subtype = truck("KA01AB1234");
    no_subtype["vehicleSubtype"] = json!("  ");
    let cases = [
        (truck("not a number"), "vehicleNumber"),
        (bad_type, "vehicleType"),
        (bad_year, "year"),
        (no_subtype, "vehicleSubtype"),
    ];
    for (body, field) in cases {
        let (status, answer) = upsert(&app, &token, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
    }
    let (status, answer) = app.get_as("vehicles/not-a-uuid", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(app.count_rows("vehicles").await, 0);
}

#[tokio::test]
async fn the_vehicle_catalogue_is_public() {
    let app = spawn_app().await;
    let (status, body) = app.call(Method::GET, "vehicles/types", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let types = body["data"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| {
        t["id"] == "open"
            && t["subtypes"]
                .as_array()
                .is_some_and(|s| s.contains(&json!("17 Feet")))
    }));
}

#[tokio::test]
async fn onboarded_drivers_are_listed_with_the_counts_the_app_reads() {
    let app = spawn_app().await;
    let token = app.token("9123456780", "transporter").await;
    app.onboard_driver(&token, "8012345678", "Suresh").await;
    app.onboard_driver(&token, "8012345679", "Mahesh").await;
    let (status, body) = app.get_as("driver/list", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["total"], 2);
    assert_eq!(body["data"]["offline"], 2);
    let first = &body["data"]["drivers"][0];
    assert_eq!(first["name"], "Suresh");
    assert_eq!(first["isOnline"], false);
    assert_eq!(first["isOnTrip"], false);
    assert_eq!(first["licenseNumber"], "MH1420110012345");

    let other = app.token("9123456781", "transporter").await;
    let (_, body) = app.get_as("driver/list", &other).await;
    assert_eq!(
        body["data"]["total"], 0,
        "another fleet's drivers are not listed"
    );
}

#[tokio::test]
async fn a_driver_phone_cannot_be_onboarded_twice_nor_verified_by_another_transporter() {
    let app = spawn_app().await;
    let a = app.token("9123456780", "transporter").await;
    let b = app.token("9123456781", "transporter").await;
    let body = json!({ "phone": "8012345678", "name": "Suresh" });
    let (status, answer) = app
        .call(
            Method::POST,
            "driver/onboard/initiate",
            Some(&a),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let otp = answer["data"]["otp"].as_str().unwrap().to_owned();

    let verify = json!({ "phone": "8012345678", "otp": otp });
    let (status, answer) = app
        .call(
            Method::POST,
            "driver/onboard/verify",
            Some(&b),
            Some(verify.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_error(&answer, "ONBOARDING_NOT_FOUND");

    let (status, _) = app
        .call(
            Method::POST,
            "driver/onboard/verify",
            Some(&a),
            Some(verify),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = app
        .call(
            Method::POST,
            "driver/onboard/initiate",
            Some(&b),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&answer, "DRIVER_EXISTS");
    assert_eq!(app.count_rows("users WHERE role = 'driver'").await, 1);
}
