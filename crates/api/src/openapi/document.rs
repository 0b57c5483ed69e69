//! The OpenAPI 3.1 document, built from the routes [`super::Router`]
//! mounted: for each, its access (bearer token and role), parameters,
//! body, answer inside the envelope, and the error codes it can answer
//! with, grouped by status through the one status table
//! ([`crate::error::status_of`]).

use std::collections::BTreeMap;

use schemars::SchemaGenerator;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value, json};
use weelo_dispatch::ErrorCode;

use super::router::{Access, Route, Shape};
use crate::error::status_of;

/// A generator of inline JSON Schema 2020-12 for `contract`.
pub fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
            settings.contract = contract;
        })
        .into_generator()
}

fn shape(shape: Shape, generator: &mut SchemaGenerator) -> Value {
    match shape {
        Shape::Written(schema) => schema(),
        Shape::Typed(schema) => schema(generator).to_value(),
    }
}

/// `/orders/{id}` and `/files/{key:.*}` as OpenAPI writes them, with the
/// parameter names in order.
pub fn template(path: &str) -> (String, Vec<String>) {
    let mut written = String::new();
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        written.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        let name = inner.split(':').next().unwrap_or(inner).to_owned();
        written.push('{');
        written.push_str(&name);
        written.push('}');
        names.push(name);
        rest = &rest[open + close + 1..];
    }
    written.push_str(rest);
    (written, names)
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    id.trim_end_matches('_').to_owned()
}

/// The error envelope, its code one of `codes`.
fn error_schema(codes: &[ErrorCode]) -> Value {
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    json!({
        "type": "object",
        "required": ["success", "error"],
        "properties": {
            "success": { "const": false },
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string", "enum": names },
                    "message": { "type": "string" },
                    "details": true,
                    "retryAfterMs": { "type": "integer" }
                }
            }
        }
    })
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// Every code the route can answer with, by status.
fn errors_of(route: &Route) -> BTreeMap<u16, Vec<ErrorCode>> {
    let signature = &route.signature;
    let mut codes = route.doc.errors.clone();
    let reads_input = signature.body.is_some()
        || signature.multipart
        || signature.query.is_some()
        || !signature.path.is_empty()
        || route.doc.idempotency_key;
    if reads_input {
        codes.push(ErrorCode::ValidationError);
    }
    if signature.body.is_some() || signature.multipart {
        codes.push(ErrorCode::PayloadTooLarge);
    }
    if signature.access != Access::Public {
        codes.extend([ErrorCode::Unauthorized, ErrorCode::TokenExpired]);
    }
    // A role's route refuses the others; a signed-in route may refuse a
    // role too (a customer asking for a driver's figures).
    if signature.access != Access::Public {
        codes.push(ErrorCode::Forbidden);
    }
    codes.push(ErrorCode::RateLimitExceeded);
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for code in codes {
        let listed = by_status.entry(status_of(code).as_u16()).or_default();
        if !listed.contains(&code) {
            listed.push(code);
        }
    }
    by_status
}

/// A query parameter is absent or a value, never `null`.
fn without_null(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(types) = schema["type"].as_array() {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = match kept.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(kept),
        };
    }
    schema
}

fn parameters(route: &Route, names: &[String], requests: &mut SchemaGenerator) -> Vec<Value> {
    let mut parameters: Vec<Value> = names
        .iter()
        .zip(&route.signature.path)
        .map(|(name, schema)| {
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    if let Some(query) = route.signature.query {
        let schema = query(requests).to_value();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                let property = without_null(property);
                parameters.push(json!({
                    "name": name,
                    "in": "query",
                    "required": required.contains(&name.as_str()),
                    "schema": property,
                }));
            }
        }
    }
    if route.doc.idempotency_key || route.signature.optional_idempotency_key {
        parameters.push(json!({
            "name": "X-Idempotency-Key",
            "in": "header",
            "required": route.doc.idempotency_key,
            "description": "One key per order the customer means to place: a retry with the same key and body replays the first answer.",
            "schema": { "type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$" }
        }));
    }
    parameters
}

fn request_body(route: &Route, requests: &mut SchemaGenerator) -> Option<Value> {
    if route.signature.multipart {
        let mut properties = Map::new();
        for (name, is_file) in &route.doc.multipart {
            let schema = if *is_file {
                json!({ "type": "string", "contentMediaType": "application/octet-stream" })
            } else {
                json!({ "type": "string" })
            };
            properties.insert((*name).to_owned(), schema);
        }
        return Some(json!({
            "required": true,
            "content": { "multipart/form-data": { "schema": { "type": "object", "properties": properties } } }
        }));
    }
    let (signature_shape, required) = route.signature.body?;
    let schema = shape(route.doc.body.unwrap_or(signature_shape), requests);
    Some(json!({ "required": required, "content": json_content(schema) }))
}

fn operation(
    route: &Route,
    names: &[String],
    requests: &mut SchemaGenerator,
    answers: &mut SchemaGenerator,
) -> Value {
    let doc = &route.doc;
    let mut responses = Map::new();
    let success = if doc.raw_answer {
        json!({
            "description": "The file's bytes.",
            "content": { "application/octet-stream": { "schema": { "type": "string" } } }
        })
    } else {
        let data = shape(doc.answer, answers);
        let body = if doc.flat_answer {
            json!({ "allOf": [
                { "type": "object", "required": ["success"], "properties": { "success": { "const": true } } },
                data
            ] })
        } else {
            json!({
                "type": "object",
                "required": ["success", "data"],
                "properties": { "success": { "const": true }, "data": data }
            })
        };
        let mut success = json!({ "description": doc.summary, "content": json_content(body) });
        if !doc.links.is_empty() {
            let mut links = Map::new();
            for link in &doc.links {
                let (method, path) = link.to;
                let target = operation_id(method, path);
                links.insert(
                    target.clone(),
                    json!({ "operationId": target, "parameters": { link.parameter: link.from } }),
                );
            }
            success["links"] = Value::Object(links);
        }
        success
    };
    responses.insert(doc.status.to_string(), success);
    for (status, codes) in errors_of(route) {
        let listed: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        responses.insert(
            status.to_string(),
            json!({
                "description": listed.join(", "),
                "content": json_content(error_schema(&codes)),
            }),
        );
    }
    responses.insert(
        "default".to_owned(),
        json!({
            "description": "SERVICE_UNAVAILABLE (503) or INTERNAL_ERROR (500)",
            "content": json_content(error_schema(&[ErrorCode::ServiceUnavailable, ErrorCode::InternalError])),
        }),
    );
    let (security, roles) = match route.signature.access {
        Access::Public => (json!([]), json!([])),
        Access::SignedIn => (
            json!([{ "bearer": [] }]),
            json!(["customer", "transporter", "driver"]),
        ),
        Access::Role(role) => (json!([{ "bearer": [] }]), json!([role.as_str()])),
    };
    let mut operation = json!({
        "operationId": operation_id(route.method.as_str(), route.path),
        "summary": doc.summary,
        "tags": [route.area],
        "security": security,
        "x-roles": roles,
        "parameters": parameters(route, names, requests),
        "responses": responses,
    });
    if let Some(body) = request_body(route, requests) {
        operation["requestBody"] = body;
    }
    operation
}

/// The document for `routes`.
pub fn document(routes: &[Route]) -> Value {
    let mut requests = generator(Contract::Deserialize);
    let mut answers = generator(Contract::Serialize);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags: Vec<&str> = Vec::new();
    for route in routes {
        let (path, names) = template(route.path);
        let operation = operation(route, &names, &mut requests, &mut answers);
        paths
            .entry(path)
            .or_default()
            .insert(route.method.as_str().to_ascii_lowercase(), operation);
        if !tags.contains(&route.area) {
            tags.push(route.area);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "weelo-rs",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP API of weelo-rs, as the customer and captain apps call it. Every answer is an envelope: {\"success\": true, \"data\": …} or {\"success\": false, \"error\": {\"code\", \"message\", \"details\"?}}. Sign in with auth/send-otp and auth/verify-otp (driver-auth/… for drivers), then send the access token as a bearer token. The realtime events are described at /api/v1/asyncapi.json.",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" }
        },
        "servers": [{ "url": "/api/v1" }],
        "tags": tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_take_openapis_form() {
        assert_eq!(
            template("/orders/{id}/cancel"),
            ("/orders/{id}/cancel".to_owned(), vec!["id".to_owned()])
        );
        assert_eq!(
            template("/files/{key:.*}"),
            ("/files/{key}".to_owned(), vec!["key".to_owned()])
        );
        assert_eq!(
            operation_id("GET", "/orders/{id}/status"),
            "get_orders_id_status"
        );
    }
}
