//! `custom-booking`: the customer app's Custom tab, a long-term request
//! (`POST`, with `X-Idempotency-Key`), its list, one request, and its
//! cancel.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::assignments::Answer;
use weelo_dispatch::custom_bookings::{self, CustomBookingInput};

use super::ok;
use crate::auth::{Authed, CustomerRole};
use crate::idempotent::{self, KeyedJson, Scoped};
use crate::{ApiError, AppState};

/// Mounts the four routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("custom bookings")
        .post(
            "/custom-booking",
            create,
            Doc::new("Ask for a long-term booking", || {
                obj(&[("requestId", uuid())])
            })
            .status(201)
            .links(
                "id",
                "$response.body#/data/requestId",
                &[
                    ("GET", "/custom-booking/{id}"),
                    ("POST", "/custom-booking/{id}/cancel"),
                ],
            ),
        )
        .get(
            "/custom-booking",
            list,
            Doc::new("The customer's long-term booking requests", || {
                page_of("requests")
            }),
        )
        .get(
            "/custom-booking/{id}",
            one,
            Doc::new("One long-term booking request", object).errors(&[E::NotFound]),
        )
        .post(
            "/custom-booking/{id}/cancel",
            cancel,
            Doc::new("Withdraw a long-term booking request", object).errors(&[E::NotFound]),
        );
}

/// The body as the app sends it; each field is checked in the use case,
/// which names what is wrong.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Body {
    pickup_city: Option<String>,
    pickup_state: Option<String>,
    drop_city: Option<String>,
    drop_state: Option<String>,
    vehicle_requirements: Option<Value>,
    start_date: Option<String>,
    end_date: Option<String>,
    is_flexible: Option<bool>,
    goods_type: Option<String>,
    /// A number or a text (`"12 tons"`).
    estimated_weight: Option<Value>,
    special_requests: Option<String>,
    company_name: Option<String>,
    customer_email: Option<String>,
}

impl Scoped for Body {
    const SCOPE: &'static str = "custom-booking";
}

async fn create(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    keyed_body: KeyedJson<Body>,
) -> Result<HttpResponse, ApiError> {
    let KeyedJson { body, keyed } = keyed_body;
    let estimated_weight = match body.estimated_weight {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(number)) => Some(number.to_string()),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "estimatedWeight",
                "estimatedWeight is a number or a text",
            ));
        }
    };
    let input = CustomBookingInput {
        pickup_city: body.pickup_city,
        pickup_state: body.pickup_state,
        drop_city: body.drop_city,
        drop_state: body.drop_state,
        vehicle_requirements: body.vehicle_requirements,
        start_date: body.start_date,
        end_date: body.end_date,
        is_flexible: body.is_flexible,
        goods_type: body.goods_type,
        estimated_weight,
        special_requests: body.special_requests,
        company_name: body.company_name,
        customer_email: body.customer_email,
    };
    let customer = caller.user_id();
    match custom_bookings::create(&state.dispatch, customer, &input, keyed.as_ref()).await? {
        Answer::Done(data) => Ok(HttpResponse::Created().json(serde_json::json!({
            "success": true,
            "data": data,
        }))),
        Answer::Replay => idempotent::replay(&state, keyed.as_ref(), customer).await,
    }
}

#[derive(Deserialize, JsonSchema)]
struct Page {
    page: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let number = super::bounded("page", page.page.unwrap_or(1), 1..=100_000)?;
    let limit = super::bounded("limit", page.limit.unwrap_or(20), 1..=100)?;
    let data = custom_bookings::list(&state.dispatch, caller.user_id(), number, limit).await?;
    Ok(ok(data))
}

async fn one(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(custom_bookings::one(
        &state.dispatch,
        caller.user_id(),
        *id,
    )
    .await?))
}

async fn cancel(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(custom_bookings::cancel(
        &state.dispatch,
        caller.user_id(),
        *id,
    )
    .await?))
}
