//! `POST rating` and `GET rating/pending`: the customer's rating sheet
//! after `booking_completed`, and the trips still to rate.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;
use weelo_dispatch::ratings::{self, RatingInput};

use super::ok;
use crate::auth::{Authed, CustomerRole};
use crate::{ApiError, ApiJson, AppState};

/// Mounts the two routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/rating", web::post().to(rate))
        .route("/rating/pending", web::get().to(pending));
}

#[derive(Deserialize)]
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
