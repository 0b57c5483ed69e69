//! The error envelope for bodies that never reach a handler's logic:
//! malformed JSON, a wrong field type, an oversize body. Mounted in-process
//! with the real route table plus one probe route that takes a JSON body.

use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, test, web};
use serde_json::{Value, json};
use weelo_api::json::MAX_BODY_BYTES;
use weelo_api::{ApiError, ApiJson};

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    pickup: Point,
    total_trucks: u32,
    note: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Point {
    latitude: f64,
}

async fn probe(ApiJson(probe): ApiJson<Probe>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": {
            "latitude": probe.pickup.latitude,
            "totalTrucks": probe.total_trucks,
            "note": probe.note,
        }
    })))
}

async fn call(body: impl Into<String>) -> (StatusCode, Value, bool) {
    let app = test::init_service(
        App::new()
            .wrap(from_fn(weelo_api::middleware::observe_request))
            .route("/probe", web::post().to(probe))
            .configure(weelo_api::configure),
    )
    .await;
    let request = test::TestRequest::post()
        .uri("/probe")
        .insert_header(("content-type", "application/json"))
        .set_payload(body.into())
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status();
    let has_request_id = response.headers().contains_key("x-request-id");
    let body: Value = test::read_body_json(response).await;
    (status, body, has_request_id)
}

fn assert_envelope(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[actix_web::test]
async fn a_valid_body_reaches_the_handler_with_nulls_and_unknown_fields_accepted() {
    let (status, body, _) =
        call(r#"{"pickup":{"latitude":12.9},"totalTrucks":2,"note":null,"extra":[1]}"#).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["totalTrucks"], 2);
}

#[actix_web::test]
async fn malformed_json_is_400_validation_error() {
    let (status, body, has_request_id) = call(r#"{"pickup": {"latitude": 12.9"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_envelope(&body, "VALIDATION_ERROR");
    assert!(has_request_id);
}

#[actix_web::test]
async fn a_wrong_field_type_is_400_naming_the_field() {
    let (status, body, _) = call(r#"{"pickup":{"latitude":"north"},"totalTrucks":2}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_envelope(&body, "VALIDATION_ERROR");
    assert_eq!(body["error"]["details"]["field"], "pickup.latitude");
}

#[actix_web::test]
async fn a_negative_count_is_400_naming_the_field() {
    let (status, body, _) = call(r#"{"pickup":{"latitude":1.0},"totalTrucks":-1}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"]["field"], "totalTrucks");
}

#[actix_web::test]
async fn a_body_over_one_mebibyte_is_413_payload_too_large() {
    let padding = "x".repeat(MAX_BODY_BYTES);
    let oversize = format!(r#"{{"pickup":{{"latitude":1.0}},"totalTrucks":1,"note":"{padding}"}}"#);
    let (status, body, _) = call(oversize).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_envelope(&body, "PAYLOAD_TOO_LARGE");
}

#[actix_web::test]
async fn a_body_just_under_the_limit_is_accepted() {
    let overhead = r#"{"pickup":{"latitude":1.0},"totalTrucks":1,"note":""}"#.len();
    let padding = "x".repeat(MAX_BODY_BYTES - overhead);
    let body = format!(r#"{{"pickup":{{"latitude":1.0}},"totalTrucks":1,"note":"{padding}"}}"#);
    let (status, _, _) = call(body).await;
    assert_eq!(status, StatusCode::OK);
}

async fn failing(kind: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let error = match kind.as_str() {
        "database-down" => weelo_persistence::PersistenceError::Unavailable(
            "pool timed out waiting for a connection to 10.0.0.7".to_owned(),
        ),
        _ => weelo_persistence::PersistenceError::Migration("secret cause".to_owned()),
    };
    Err(error.into())
}

async fn call_failing(kind: &str) -> (StatusCode, Value) {
    let app = test::init_service(
        App::new()
            .route("/fail/{kind}", web::get().to(failing))
            .configure(weelo_api::configure),
    )
    .await;
    let request = test::TestRequest::get()
        .uri(&format!("/fail/{kind}"))
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status();
    (status, test::read_body_json(response).await)
}

#[actix_web::test]
async fn an_unreachable_database_is_503_service_unavailable() {
    let (status, body) = call_failing("database-down").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_envelope(&body, "SERVICE_UNAVAILABLE");
    assert!(
        !body.to_string().contains("10.0.0.7"),
        "no cause leaks: {body}"
    );
}

#[actix_web::test]
async fn an_unexpected_error_is_an_opaque_500() {
    let (status, body) = call_failing("other").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_envelope(&body, "INTERNAL_ERROR");
    assert!(
        !body.to_string().contains("secret cause"),
        "no cause leaks: {body}"
    );
}
