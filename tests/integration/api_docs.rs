//! The API's description as served: the OpenAPI document and its page,
//! the AsyncAPI document of the sockets (checked by the AsyncAPI project's
//! own parser), and a short Schemathesis pass from that document against the server
//! (`make fuzz` runs a longer one): any 5xx, an answer that does not match
//! its schema, or a request accepted that the schema forbids fails it.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_and_its_page_are_served() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap_or_default();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "/api/v1");
    let create = &document["paths"]["/bookings/orders"]["post"];
    assert_eq!(create["x-roles"][0], "customer", "{create}");
    assert!(document["paths"]["/profile/drivers/{id}"]["delete"].is_object());

    let page = app.get("/api/v1/docs").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap_or_default();
    assert!(
        html.contains("openapi.json") && !html.contains("https://"),
        "no outside asset"
    );
}

#[tokio::test]
async fn the_asyncapi_document_is_served_and_the_reference_parser_accepts_it() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/asyncapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap_or_default();
    assert_eq!(document["asyncapi"], "3.0.0");
    let messages = &document["components"]["messages"];
    assert!(messages["new_broadcast"]["payload"]["properties"]["orderId"].is_object());
    assert!(messages["driver_deleted"]["x-audience"].is_string());
    assert!(messages["client_update_location"]["payload"]["required"].is_array());

    let folder = weelo_test_support::TestFolder::new("asyncapi").unwrap_or_else(|e| panic!("{e}"));
    let file = folder.path().join("asyncapi.json");
    std::fs::write(&file, document.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let validator = concat!(env!("CARGO_MANIFEST_DIR"), "/node/asyncapi-validate.mjs");
    let run = tokio::process::Command::new("node")
        .arg(validator)
        .arg(&file)
        .output()
        .await
        .unwrap_or_else(|e| panic!("node does not run ({e}): make services installs it"));
    let output = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{output}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(output.contains(r#""valid":true"#), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_schemathesis_pass_finds_no_failure() {
    let app = spawn_app().await;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let venv = format!("{root}/tests/python/.venv/bin");
    let run = tokio::process::Command::new(format!("{venv}/python"))
        .arg(format!("{root}/scripts/fuzz.py"))
        .args(["--url", &app.address, "--max-time", "15", "--seed", "7"])
        .args(["--st", &format!("{venv}/st")])
        .output()
        .await
        .unwrap_or_else(|e| panic!("Schemathesis does not run ({e}): make services installs it"));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{output}");
    assert!(output.contains("no failure"), "{output}");
}
