//! Custom long-term bookings (the customer app's Custom tab): a request for
//! trucks between two cities over a period, checked like an order, stored
//! under the customer's `X-Idempotency-Key`, listed and read back, and
//! withdrawn while no decision was made on it. The operator's review
//! happens outside the instant flow.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_availability::vehicle_type;
use weelo_persistence::custom_bookings::{self, CustomBooking, NewCustomBooking};

use crate::assignments::Answer;
use crate::drivers::midnight_in_india;
use crate::idempotent::{self, Change, Keyed};
use crate::wire::iso;
use crate::{Dispatch, DispatchError, ErrorCode};

/// The longest period a request may cover.
const LONGEST_DAYS: i64 = 366;

/// A request as the app sends it (every field optional here: the checks
/// name what is missing).
#[derive(Debug, Clone, Default)]
#[expect(missing_docs, reason = "the app's fields, checked in `create`")]
pub struct CustomBookingInput {
    pub pickup_city: Option<String>,
    pub pickup_state: Option<String>,
    pub drop_city: Option<String>,
    pub drop_state: Option<String>,
    /// `[{type, subtype, quantity}]`.
    pub vehicle_requirements: Option<Value>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub is_flexible: Option<bool>,
    pub goods_type: Option<String>,
    pub estimated_weight: Option<String>,
    pub special_requests: Option<String>,
    pub company_name: Option<String>,
    pub customer_email: Option<String>,
}

fn text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, DispatchError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(DispatchError::invalid_field(
            field,
            format!("{field} must be at most {max} characters of text"),
        ));
    }
    Ok(Some(value.to_owned()))
}

fn required(field: &str, value: Option<&str>, max: usize) -> Result<String, DispatchError> {
    text(field, value, max)?
        .ok_or_else(|| DispatchError::invalid_field(field, format!("{field} is required")))
}

fn date(field: &str, value: Option<&str>) -> Result<NaiveDate, DispatchError> {
    let raw = required(field, value, 10)?;
    NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
        .map_err(|_| DispatchError::invalid_field(field, format!("{field} must be YYYY-MM-DD")))
}

fn requirements(value: Option<&Value>) -> Result<Value, DispatchError> {
    let field = "vehicleRequirements";
    let invalid = |message: &str| DispatchError::invalid_field(field, message.to_owned());
    let lines = value
        .and_then(Value::as_array)
        .filter(|lines| (1..=10).contains(&lines.len()))
        .ok_or_else(|| invalid("vehicleRequirements needs 1 to 10 lines"))?;
    let mut checked = Vec::with_capacity(lines.len());
    for line in lines {
        let kind = line["type"]
            .as_str()
            .or_else(|| line["vehicleType"].as_str())
            .and_then(vehicle_type)
            .ok_or_else(|| invalid("each line needs a known vehicle type"))?;
        let subtype = text(
            field,
            line["subtype"]
                .as_str()
                .or_else(|| line["vehicleSubtype"].as_str()),
            60,
        )?;
        let quantity = line["quantity"]
            .as_i64()
            .filter(|q| (1..=100).contains(q))
            .ok_or_else(|| invalid("each line needs a quantity of 1 to 100"))?;
        checked.push(json!({ "type": kind.id, "subtype": subtype, "quantity": quantity }));
    }
    Ok(Value::Array(checked))
}

fn email(value: Option<&str>) -> Result<Option<String>, DispatchError> {
    let Some(email) = text("customerEmail", value, 254)? else {
        return Ok(None);
    };
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
    }) && !email.contains(char::is_whitespace);
    if !well_formed {
        return Err(DispatchError::invalid_field(
            "customerEmail",
            "customerEmail is not an email address",
        ));
    }
    Ok(Some(email))
}

/// The request as the app reads it back.
pub fn view(b: &CustomBooking) -> Value {
    json!({
        "id": b.id,
        "requestId": b.id,
        "status": b.status,
        "pickupCity": b.pickup_city,
        "pickupState": b.pickup_state,
        "dropCity": b.drop_city,
        "dropState": b.drop_state,
        "vehicleRequirements": b.vehicle_requirements,
        "startDate": b.start_date.to_string(),
        "endDate": b.end_date.to_string(),
        "isFlexible": b.is_flexible,
        "goodsType": b.goods_type,
        "estimatedWeight": b.estimated_weight,
        "specialRequests": b.special_requests,
        "companyName": b.company_name,
        "customerEmail": b.customer_email,
        "createdAt": iso(b.created_at),
        "updatedAt": iso(b.updated_at),
        "cancelledAt": b.cancelled_at.map(iso),
    })
}

/// `POST custom-booking`: checks and stores the request under `keyed`.
pub async fn create(
    state: &Dispatch,
    customer: Uuid,
    input: &CustomBookingInput,
    keyed: Option<&Keyed>,
) -> Result<Answer, DispatchError> {
    let now = state.clock.now();
    let pickup_city = required("pickupCity", input.pickup_city.as_deref(), 100)?;
    let drop_city = required("dropCity", input.drop_city.as_deref(), 100)?;
    let pickup_state = text("pickupState", input.pickup_state.as_deref(), 100)?;
    let drop_state = text("dropState", input.drop_state.as_deref(), 100)?;
    let lines = requirements(input.vehicle_requirements.as_ref())?;
    let start = date("startDate", input.start_date.as_deref())?;
    let end = date("endDate", input.end_date.as_deref())?;
    let today = (midnight_in_india(now) + Duration::hours(6)).date_naive();
    if start < today {
        return Err(DispatchError::invalid_field(
            "startDate",
            "startDate cannot be in the past",
        ));
    }
    if end < start || end - start > Duration::days(LONGEST_DAYS) {
        return Err(DispatchError::invalid_field(
            "endDate",
            format!("endDate must be on or after startDate, within {LONGEST_DAYS} days"),
        ));
    }
    let goods_type = text("goodsType", input.goods_type.as_deref(), 100)?;
    let weight = text("estimatedWeight", input.estimated_weight.as_deref(), 50)?;
    let special = text("specialRequests", input.special_requests.as_deref(), 1000)?;
    let company = text("companyName", input.company_name.as_deref(), 200)?;
    let email = email(input.customer_email.as_deref())?;
    let request = NewCustomBooking {
        customer_id: customer,
        pickup_city: &pickup_city,
        pickup_state: pickup_state.as_deref(),
        drop_city: &drop_city,
        drop_state: drop_state.as_deref(),
        vehicle_requirements: &lines,
        start_date: start,
        end_date: end,
        is_flexible: input.is_flexible.unwrap_or(false),
        goods_type: goods_type.as_deref(),
        estimated_weight: weight.as_deref(),
        special_requests: special.as_deref(),
        company_name: company.as_deref(),
        customer_email: email.as_deref(),
        created_at: now,
        updated_at: now,
    };
    let ran = idempotent::run::<_, DispatchError, _>(state, keyed, customer, async |conn| {
        let stored = custom_bookings::create(conn, &request).await?;
        let mut answer = view(&stored);
        answer["message"] = json!("Your request was received; we will contact you");
        Ok(Change {
            outcome: stored.id,
            answer,
            events: Vec::new(),
        })
    })
    .await?;
    Ok(match ran {
        Some((id, data)) => {
            tracing::info!(custom_booking.id = %id, customer.id = %customer, "custom booking requested");
            Answer::Done(data)
        }
        None => Answer::Replay,
    })
}

/// `GET custom-booking?page&limit`.
pub async fn list(
    state: &Dispatch,
    customer: Uuid,
    page: i64,
    limit: i64,
) -> Result<Value, DispatchError> {
    let offset = (page - 1).saturating_mul(limit);
    let mut conn = state.conn().await?;
    let (rows, total) = custom_bookings::of_customer(&mut conn, customer, limit, offset).await?;
    let shown = offset.saturating_add(i64::try_from(rows.len()).unwrap_or(0));
    Ok(json!({
        "requests": rows.iter().map(view).collect::<Vec<_>>(),
        "total": total,
        "page": page,
        "limit": limit,
        "hasMore": shown < total,
    }))
}

fn not_found() -> DispatchError {
    DispatchError::refused(ErrorCode::NotFound, "custom booking request not found")
}

/// `GET custom-booking/{id}`.
pub async fn one(state: &Dispatch, customer: Uuid, id: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let found = custom_bookings::find(&mut conn, customer, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(view(&found))
}

/// `POST custom-booking/{id}/cancel`: withdraws a request no decision was
/// made on; a cancelled one answers as it stands; a decided one is 409.
pub async fn cancel(state: &Dispatch, customer: Uuid, id: Uuid) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let (booking, changed) = custom_bookings::cancel(&mut conn, customer, id, now)
        .await?
        .ok_or_else(not_found)?;
    let already = booking.status == weelo_orders::CustomBookingStatus::Cancelled && !changed;
    if !changed && !already {
        return Err(DispatchError::refused(
            ErrorCode::CancelBlocked,
            format!(
                "this request is {} and can no longer be cancelled",
                booking.status.as_str()
            ),
        ));
    }
    let mut answer = view(&booking);
    answer["alreadyCancelled"] = json!(already);
    Ok(answer)
}
