//! `POST rating` and `GET rating/pending`: the customer's rating sheet
//! after `booking_completed`, and the trips still to rate.

use crate::openapi::shapes::*;
use crate::openapi::{Doc, Router};
use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;
use weelo_dispatch::ErrorCode;
use weelo_dispatch::ratings::{self, RatingInput};

use super::ok;
use crate::auth::{Authed, CustomerRole};
use crate::{ApiError, ApiJson, AppState};

/// Mounts the two routes.
pub fn configure(r: &mut Router) {
    use ErrorCode as E;
    r.area("ratings")
        .post(
            "/rating",
            rate,
            Doc::new("Rate a completed trip's driver", object)
                .status(201)
                .errors(&[E::AssignmentNotFound, E::AlreadyRated, E::TripNotCompleted]),
        )
        .get(
            "/rating/pending",
            pending,
            Doc::new("Completed trips the customer has not rated", || {
                array(object())
            }),
        );
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RatingBody {
    assignment_id: Uuid,
    stars: i64,
    #[serde(default)]
    tags: Vec<String>,
    comment: Option<String>,
}

async fn rate(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
    body: ApiJson<RatingBody>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(body) = body;
    let input = RatingInput {
        assignment_id: body.assignment_id,
        stars: body.stars,
        tags: body.tags,
        comment: body.comment,
    };
    Ok(ok(
        ratings::rate(&state.dispatch, caller.user_id(), &input).await?
    ))
}

async fn pending(
    state: web::Data<AppState>,
    caller: Authed<CustomerRole>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        ratings::pending(&state.dispatch, caller.user_id()).await?
    ))
}
