//! A driver's figures: `driver/dashboard` (the driver's home),
//! `driver/earnings?period=` and `driver/performance`, for the driver and
//! for its transporter (`?driverId=`). Who may see whose is decided in
//! `weelo_dispatch::drivers`.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::drivers::{self, Period};

use super::ok;
use crate::auth::{Authed, Caller, DriverRole};
use crate::{ApiError, AppState};

/// Mounts the three routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("drivers")
        .get(
            "/driver/dashboard",
            dashboard,
            Doc::new(
                "The driver's day, week and month, active trip and latest trips",
                || {
                    obj(&[
                        ("driver", object()),
                        ("stats", object()),
                        ("activeTrip", any()),
                        ("recentTrips", array(object())),
                    ])
                },
            ),
        )
        .get(
            "/driver/earnings",
            earnings,
            Doc::new("A driver's earnings per period, day by day", || {
                obj(&[
                    ("period", string()),
                    ("totalEarnings", number()),
                    ("totalTrips", int()),
                    ("breakdown", array(object())),
                ])
            })
            .errors(&[E::DriverNotFound]),
        )
        .get(
            "/driver/performance",
            performance,
            Doc::new("A driver's acceptance, completion and rating", || {
                obj(&[
                    ("acceptanceRate", number()),
                    ("completionRate", number()),
                    ("totalTrips", int()),
                ])
            })
            .errors(&[E::DriverNotFound]),
        );
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Whose {
    driver_id: Option<String>,
    period: Option<String>,
}

/// `driverId`, when given, as a UUID.
pub(crate) fn driver_id(raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => Uuid::parse_str(text)
            .map(Some)
            .map_err(|_| ApiError::invalid_field("driverId", "driverId must be a UUID")),
    }
}

async fn dashboard(
    state: web::Data<AppState>,
    caller: Authed<DriverRole>,
) -> Result<HttpResponse, ApiError> {
    let driver = drivers::subject(
        &state.dispatch,
        weelo_orders::Role::Driver,
        caller.user_id(),
        None,
    )
    .await?;
    Ok(ok(drivers::dashboard(&state.dispatch, &driver).await?))
}

async fn earnings(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Whose>,
) -> Result<HttpResponse, ApiError> {
    let period = match query.period.as_deref().map(str::trim) {
        None | Some("") => Period::Month,
        Some(word) => Period::parse(word).ok_or_else(|| {
            ApiError::invalid_field("period", "period must be today, week or month")
        })?,
    };
    let wanted = driver_id(query.driver_id.as_deref())?;
    let driver = drivers::subject(&state.dispatch, caller.role, caller.user_id, wanted).await?;
    Ok(ok(
        drivers::earnings(&state.dispatch, &driver, period).await?
    ))
}

async fn performance(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<Whose>,
) -> Result<HttpResponse, ApiError> {
    let wanted = driver_id(query.driver_id.as_deref())?;
    let driver = drivers::subject(&state.dispatch, caller.role, caller.user_id, wanted).await?;
    Ok(ok(drivers::performance(&state.dispatch, &driver).await?))
}
