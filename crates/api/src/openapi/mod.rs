//! The API's description: every route of `/api/v1` is mounted through
//! [`Router`] with a [`Doc`], and the OpenAPI 3.1 document is built from
//! that same list ([`document`]), so a route cannot exist undescribed.
//! Served at `GET /api/v1/openapi.json`, and readable at `GET /api/v1/docs`
//! (a page of this crate's own, no asset from elsewhere).
//!
//! - [`router`]: [`Router`], [`Doc`] and what a route records.
//! - [`describe`]: what each extractor of a handler's signature adds.
//! - [`shapes`]: builders of the schemas written in the docs.
//! - [`document`](mod@document): the document itself.
//! - [`asyncapi`](mod@asyncapi): the AsyncAPI 3 document of the sockets, from the event
//!   types (`GET /api/v1/asyncapi.json`).

pub mod asyncapi;
pub mod describe;
pub mod document;
pub mod router;
pub mod shapes;

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use serde_json::Value;

pub use router::{Access, Doc, Route, Router};

/// Every route of `/api/v1`, as the server mounts them.
pub fn routes() -> Vec<Route> {
    let mut router = Router::listing();
    crate::routes::mount_all(&mut router);
    router.mounted()
}

/// The OpenAPI document (built once).
pub fn openapi() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| document::document(&routes()))
}

/// The AsyncAPI document (built once).
pub fn asyncapi() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(asyncapi::document)
}

/// Mounts `openapi.json`, `asyncapi.json` and `docs`.
pub fn configure(r: &mut Router) {
    use shapes::*;
    r.area("api")
        .get(
            "/openapi.json",
            serve_openapi,
            Doc::new("This document (OpenAPI 3.1)", object).raw(),
        )
        .get(
            "/asyncapi.json",
            serve_asyncapi,
            Doc::new("The sockets' events both ways (AsyncAPI 3)", object).raw(),
        )
        .get(
            "/docs",
            serve_docs,
            Doc::new("A readable page of this document", object).raw(),
        );
}

async fn serve_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .json(openapi())
}

async fn serve_asyncapi() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .json(asyncapi())
}

async fn serve_docs() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::html())
        .body(include_str!("docs.html"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_mounted_route_is_described_once() {
        let routes = routes();
        let document = openapi();
        let mut seen = BTreeSet::new();
        for route in &routes {
            assert!(
                seen.insert((route.method.as_str(), route.path)),
                "{} {} is mounted twice",
                route.method,
                route.path
            );
            let (path, _) = document::template(route.path);
            let method = route.method.as_str().to_ascii_lowercase();
            let operation = &document["paths"][&path][&method];
            assert!(
                operation.is_object(),
                "{method} {path} is not in the document"
            );
            assert!(
                !route.doc.summary.is_empty(),
                "{method} {path} has no summary"
            );
            let answers = operation["responses"]
                .as_object()
                .map(|r| r.len())
                .unwrap_or(0);
            assert!(answers >= 2, "{method} {path}: an answer and its errors");
        }
        let described: usize = document["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .values()
                    .filter_map(Value::as_object)
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(
            described,
            routes.len(),
            "the document describes what is mounted, no more"
        );
        assert!(routes.len() > 90, "every area is mounted: {}", routes.len());
    }

    #[test]
    fn links_name_operations_that_exist() {
        let document = openapi();
        let operations: BTreeSet<&str> = document["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(Value::as_object)
            .flat_map(|methods| methods.values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let mut links = 0;
        for methods in document["paths"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for operation in methods.as_object().into_iter().flat_map(|m| m.values()) {
                for answer in operation["responses"]
                    .as_object()
                    .into_iter()
                    .flat_map(|r| r.values())
                {
                    for link in answer["links"]
                        .as_object()
                        .into_iter()
                        .flat_map(|l| l.values())
                    {
                        let target = link["operationId"].as_str().unwrap_or_default();
                        assert!(operations.contains(target), "a link to {target}");
                        links += 1;
                    }
                }
            }
        }
        assert!(links >= 10, "{links} links");
    }

    #[test]
    fn a_role_route_says_its_role_and_its_refusals() {
        let document = openapi();
        let create = &document["paths"]["/bookings/orders"]["post"];
        assert_eq!(create["x-roles"], serde_json::json!(["customer"]));
        assert_eq!(create["security"], serde_json::json!([{ "bearer": [] }]));
        let conflict = create["responses"]["409"]["content"]["application/json"]["schema"]
            ["properties"]["error"]["properties"]["code"]["enum"]
            .to_string();
        assert!(conflict.contains("ACTIVE_ORDER_EXISTS") && conflict.contains("PRICE_STALE"));
        let key = create["parameters"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "X-Idempotency-Key"));
        assert_eq!(
            key.map(|k| k["required"].clone()),
            Some(serde_json::json!(true))
        );
        let body = &create["requestBody"]["content"]["application/json"]["schema"];
        assert!(body["required"].to_string().contains("vehicleRequirements"));
        let health = &document["paths"]["/health"]["get"];
        assert_eq!(health["security"], serde_json::json!([]));
    }

    /// The source check behind "cannot be mounted undescribed": no route
    /// module reaches actix's own `route`/`service`/`resource`.
    #[test]
    fn only_the_router_mounts_api_routes() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
        let entries = std::fs::read_dir(&folder).map(|d| d.flatten().collect::<Vec<_>>());
        for entry in entries.unwrap_or_default() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "mod.rs" || name == "metrics.rs" {
                continue;
            }
            let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for forbidden in [
                "ServiceConfig",
                ".service(",
                "web::resource(",
                "web::scope(",
            ] {
                assert!(
                    !source.contains(forbidden),
                    "{name} mounts with {forbidden}"
                );
            }
        }
    }
}
