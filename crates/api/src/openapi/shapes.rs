//! Small builders of the JSON Schemas written in the routes' [`super::Doc`]s
//! for answers assembled as JSON rather than from a type.

use serde_json::{Map, Value, json};

/// An object with these properties, each required; other properties may
/// appear (the apps ignore what they do not read).
pub fn obj(fields: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    for (name, schema) in fields {
        properties.insert((*name).to_owned(), schema.clone());
    }
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    json!({ "type": "object", "properties": properties, "required": required })
}

/// A string.
pub fn string() -> Value {
    json!({ "type": "string" })
}

/// A UUID.
pub fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

/// An ISO 8601 time.
pub fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

/// An integer.
pub fn int() -> Value {
    json!({ "type": "integer" })
}

/// A number.
pub fn number() -> Value {
    json!({ "type": "number" })
}

/// A boolean.
pub fn boolean() -> Value {
    json!({ "type": "boolean" })
}

/// One of these strings.
pub fn one_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// A list of `items`.
pub fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// Any object (its fields are described in docs/app-contract.md).
pub fn object() -> Value {
    json!({ "type": "object" })
}

/// Any JSON value.
pub fn any() -> Value {
    json!(true)
}

/// `schema`, or `null`.
pub fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

/// `{"message": string}`.
pub fn message() -> Value {
    obj(&[("message", string())])
}

/// A page of `items`: `{<items>: […], total, page, limit, hasMore}`.
pub fn page_of(items: &str) -> Value {
    obj(&[
        (items, array(object())),
        ("total", int()),
        ("page", int()),
        ("limit", int()),
        ("hasMore", boolean()),
    ])
}
