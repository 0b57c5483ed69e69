//! Ratings: the customer rates each completed trip of its orders once
//! (1–5 stars, up to five tags from the apps' list, a comment with its
//! markup stripped); the driver's average moves in the same transaction and
//! the driver and its transporter hear `driver_rating_updated`. A second
//! rating of the same trip is answered as the first (`idempotent: true`)
//! when it says the same, and refused (`ALREADY_RATED`) when it does not.

use diesel_async::AsyncConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_persistence::ratings::{self, NewRating, Rate};
use weelo_persistence::{orders, users};

use crate::events::{self, DriverRatingUpdated, Event, Room};
use crate::wire::iso;
use crate::{Dispatch, DispatchError, ErrorCode};

/// The tags the customer app offers.
pub const TAGS: &[&str] = &[
    "polite",
    "on_time",
    "safe_driving",
    "good_vehicle_condition",
    "professional",
    "helpful",
    "rude",
    "late",
    "rash_driving",
];

/// The longest comment, in characters, after its markup is stripped.
pub const COMMENT_MAX: usize = 500;

/// A rating as the app sends it.
#[derive(Debug, Clone)]
pub struct RatingInput {
    /// The trip's assignment.
    pub assignment_id: Uuid,
    /// Stars.
    pub stars: i64,
    /// Tags.
    pub tags: Vec<String>,
    /// Comment.
    pub comment: Option<String>,
}

/// `text` without markup (`<…>` tags dropped), its whitespace collapsed;
/// `None` when nothing is left.
pub fn clean_comment(text: &str) -> Option<String> {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let collapsed = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    (!collapsed.is_empty()).then_some(collapsed)
}

/// The rating's checked parts: stars, tags (each once, in the app's order
/// of appearance), comment.
fn checked(input: &RatingInput) -> Result<(i16, Vec<String>, Option<String>), DispatchError> {
    let stars = i16::try_from(input.stars)
        .ok()
        .filter(|s| (1..=5).contains(s))
        .ok_or_else(|| DispatchError::invalid_field("stars", "stars must be 1 to 5"))?;
    let mut tags: Vec<String> = Vec::new();
    for tag in &input.tags {
        let tag = tag.trim();
        if !TAGS.contains(&tag) {
            return Err(DispatchError::invalid_field(
                "tags",
                format!("unknown tag; tags are {}", TAGS.join(", ")),
            ));
        }
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_owned());
        }
    }
    if tags.len() > 5 {
        return Err(DispatchError::invalid_field("tags", "at most 5 tags"));
    }
    let comment = input.comment.as_deref().and_then(clean_comment);
    if comment
        .as_deref()
        .is_some_and(|c| c.chars().count() > COMMENT_MAX)
    {
        return Err(DispatchError::invalid_field(
            "comment",
            format!("comment must be at most {COMMENT_MAX} characters"),
        ));
    }
    Ok((stars, tags, comment))
}

/// `POST rating`: `customer` rates a completed trip of theirs.
pub async fn rate(
    state: &Dispatch,
    customer: Uuid,
    input: &RatingInput,
) -> Result<Value, DispatchError> {
    let (stars, tags, comment) = checked(input)?;
    let now = state.clock.now();
    let rating = NewRating {
        assignment_id: input.assignment_id,
        stars,
        tags: &tags,
        comment: comment.as_deref(),
    };
    let mut conn = state.conn().await?;
    let rated = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let rated = ratings::rate(conn, customer, rating, now).await?;
            if let Rate::Rated(stored, average) = &rated {
                let trip = weelo_persistence::assignments::find(conn, stored.assignment_id)
                    .await?
                    .map_or(stored.assignment_id, |a| a.trip_id);
                let updated = Event::DriverRatingUpdated(DriverRatingUpdated {
                    driver_id: stored.driver_id,
                    assignment_id: stored.assignment_id,
                    trip_id: trip,
                    order_id: stored.order_id,
                    stars: stored.stars,
                    rating: average.stars,
                    total_ratings: average.count,
                    message: "A customer rated your trip",
                });
                let audience = [
                    Room::Driver(stored.driver_id),
                    Room::Transporter(stored.transporter_id),
                ];
                events::append(conn, &[updated.to(audience, stored.order_id)], now).await?;
            }
            Ok(rated)
        })
        .await?;
    let (stored, average, idempotent) = match rated {
        Rate::Rated(stored, average) => {
            state.wake_relay();
            (stored, average, false)
        }
        Rate::AlreadyRated(stored, average) => {
            let same = stored.stars == stars
                && stored.tags.iter().flatten().eq(tags.iter())
                && stored.comment == comment;
            if !same {
                return Err(DispatchError::refused(
                    ErrorCode::AlreadyRated,
                    "this trip was rated already",
                ));
            }
            (stored, average, true)
        }
        Rate::NotFound => {
            return Err(DispatchError::refused(
                ErrorCode::AssignmentNotFound,
                "no such trip of yours",
            ));
        }
        Rate::NotCompleted => {
            return Err(DispatchError::refused(
                ErrorCode::TripNotCompleted,
                "a trip is rated once it has completed",
            ));
        }
    };
    Ok(json!({
        "ratingId": stored.id,
        "assignmentId": stored.assignment_id,
        "stars": stored.stars,
        "tags": stored.tags.iter().flatten().collect::<Vec<_>>(),
        "comment": stored.comment,
        "driverAvgRating": average.stars,
        "driverTotalRatings": average.count,
        "message": if idempotent { "Already rated" } else { "Thank you for rating" },
        "idempotent": idempotent,
    }))
}

/// `GET rating/pending`: the customer's completed trips not rated yet,
/// latest first (a bare array, as the app reads it).
pub async fn pending(state: &Dispatch, customer: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let trips = ratings::pending_of(&mut conn, customer, 50).await?;
    let order_ids: Vec<Uuid> = trips.iter().map(|a| a.order_id).collect();
    let all_orders = orders::find_many(&mut conn, &order_ids).await?;
    let truck_ids: Vec<Uuid> = trips.iter().map(|a| a.truck_request_id).collect();
    let trucks = orders::trucks_by_ids(&mut conn, &truck_ids).await?;
    let driver_ids: Vec<Uuid> = trips.iter().map(|a| a.driver_id).collect();
    let drivers = users::find_many(&mut conn, &driver_ids).await?;
    let place = |lat: f64, lng: f64, address: &str| json!({ "latitude": lat, "longitude": lng, "address": address });
    Ok(Value::Array(
        trips
            .iter()
            .map(|a| {
                let order = all_orders.iter().find(|o| o.id == a.order_id);
                let truck = trucks.iter().find(|t| t.id == a.truck_request_id);
                let driver = drivers.iter().find(|d| d.id == a.driver_id);
                json!({
                    "assignmentId": a.id,
                    "tripId": a.trip_id,
                    "bookingId": a.order_id,
                    "orderId": a.order_id,
                    "driverName": driver.and_then(|d| d.name.clone()).unwrap_or_else(|| "Driver".to_owned()),
                    "vehicleNumber": a.vehicle_number,
                    "vehicleType": truck.map(|t| t.vehicle_type.clone()),
                    "pickup": order.map(|o| place(o.pickup_latitude, o.pickup_longitude, &o.pickup_address)),
                    "drop": order.map(|o| place(o.drop_latitude, o.drop_longitude, &o.drop_address)),
                    "completedAt": a.ended_at.map(iso),
                })
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_loses_its_markup_and_extra_space() {
        assert_eq!(
            clean_comment("  <b>Great</b>   driver <script>x()</script>!  "),
            Some("Great driver x()!".to_owned())
        );
        assert_eq!(clean_comment("<i></i>   "), None);
    }
}
