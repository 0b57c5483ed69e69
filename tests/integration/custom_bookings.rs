//! Custom long-term bookings end to end (the customer app's Custom tab):
//! a request stored once under its idempotency key, read back, listed,
//! withdrawn while undecided; bad input named and nothing written.

use chrono::{Duration, Utc};
use diesel_async::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

/// What the app reads of the create's answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    request_id: String,
    status: String,
}

fn day(from_now: i64) -> String {
    (Utc::now() + Duration::days(from_now))
        .format("%Y-%m-%d")
        .to_string()
}

fn request() -> Value {
    json!({
        "pickupCity": "Mumbai", "pickupState": "Maharashtra",
        "dropCity": "Pune", "dropState": "Maharashtra",
        "vehicleRequirements": [{ "type": "open", "subtype": "17 Feet", "quantity": 3 }],
        "startDate": day(2), "endDate": day(32), "isFlexible": true,
        "goodsType": "Steel", "estimatedWeight": 12.5,
        "specialRequests": "Night loading only", "companyName": "Asha Steels",
        "customerEmail": "ops@ashasteels.in"
    })
}

async fn post(app: &TestApp, token: &str, key: &str, body: &Value) -> (StatusCode, Value) {
    app.post_keyed("custom-booking", token, key, body.clone())
        .await
}

#[tokio::test]
async fn a_custom_request_is_stored_once_read_back_and_withdrawn() {
    let app = spawn_app().await;
    let customer = app.token("9876543210", "customer").await;
    let (status, body) = post(&app, &customer, "k-1", &request()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: Created = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!(created.status, "pending");
    let (status, again) = post(&app, &customer, "k-1", &request()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["data"]["requestId"], created.request_id.as_str());
    assert_eq!(
        app.count_rows("custom_bookings").await,
        1,
        "one request per key"
    );

    let id = created.request_id;
    let (status, one) = app.get_as(&format!("custom-booking/{id}"), &customer).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let stored = &one["data"];
    assert_eq!(stored["estimatedWeight"], "12.5");
    assert_eq!(stored["vehicleRequirements"][0]["quantity"], 3);
    assert_eq!(
        (stored["startDate"].clone(), stored["isFlexible"].clone()),
        (json!(day(2)), json!(true))
    );
    let (_, list) = app
        .get_as("custom-booking?page=1&limit=10", &customer)
        .await;
    assert_eq!(list["data"]["total"], 1);
    assert_eq!(list["data"]["requests"][0]["id"], id.as_str());

    let stranger = app.token("9876543299", "customer").await;
    let (status, body) = app.get_as(&format!("custom-booking/{id}"), &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "NOT_FOUND");
    let transporter = app.token("9123456780", "transporter").await;
    let (status, _) = app.get_as("custom-booking", &transporter).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let cancel = format!("custom-booking/{id}/cancel");
    let (status, gone) = app.call(Method::POST, &cancel, Some(&customer), None).await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["data"]["status"], "cancelled");
    let (_, twice) = app.call(Method::POST, &cancel, Some(&customer), None).await;
    assert_eq!(twice["data"]["alreadyCancelled"], true);

    // A decided request stays.
    let (_, second) = post(&app, &customer, "k-2", &request()).await;
    let decided = second["data"]["requestId"].as_str().unwrap().to_owned();
    let mut conn = app.db.connect().await.unwrap();
    diesel::sql_query(format!(
        "UPDATE custom_bookings SET status = 'approved' WHERE id = '{decided}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("custom-booking/{decided}/cancel"),
            Some(&customer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error(&body, "CANCEL_BLOCKED");
}

#[tokio::test]
async fn a_bad_request_names_its_field_and_stores_nothing() {
    let app = spawn_app().await;
    let customer = app.token("9876543210", "customer").await;
    let with = |key: &str, value: Value| {
        let mut body = request();
        body[key] = value;
        body
    };
    for (n, (body, field)) in [
        (with("pickupCity", json!("  ")), "pickupCity"),
        (
            with(
                "vehicleRequirements",
                json!([{ "type": "rocket", "quantity": 1 }]),
            ),
            "vehicleRequirements",
        ),
        (
            with(
                "vehicleRequirements",
                json!([{ "type": "open", "quantity": 0 }]),
            ),
            "vehicleRequirements",
        ),
        (
            with("vehicleRequirements", json!([])),
            "vehicleRequirements",
        ),
        (with("startDate", json!(day(-2))), "startDate"),
        (with("startDate", json!("12/01/2027")), "startDate"),
        (with("endDate", json!(day(1))), "endDate"),
        (with("endDate", json!(day(500))), "endDate"),
        (
            with("customerEmail", json!("not an email")),
            "customerEmail",
        ),
        (with("estimatedWeight", json!([1])), "estimatedWeight"),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, answer) = post(&app, &customer, &format!("bad-{n}"), &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
    }
    assert_eq!(app.count_rows("custom_bookings").await, 0);
}
