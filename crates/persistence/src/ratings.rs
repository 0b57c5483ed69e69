//! Ratings of completed trips: one per assignment (the unique index
//! decides between two taps), written with the driver's running sum and
//! count in the same transaction; the customer's trips still to rate; how
//! many of an order's trips are rated.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use weelo_orders::AssignmentStatus;

use crate::rows::Assignment;
use crate::schema::{assignments, driver_ratings, orders, ratings};

/// A stored rating.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = ratings, check_for_backend(diesel::pg::Pg))]
pub struct Rating {
    /// Id.
    pub id: Uuid,
    /// The trip's assignment.
    pub assignment_id: Uuid,
    /// Its order.
    pub order_id: Uuid,
    /// Who rated.
    pub customer_id: Uuid,
    /// Who was rated.
    pub driver_id: Uuid,
    /// The driver's fleet.
    pub transporter_id: Uuid,
    /// 1 to 5.
    pub stars: i16,
    /// Tags from the apps' list.
    pub tags: Vec<Option<String>>,
    /// The comment, markup stripped.
    pub comment: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What the customer says of a trip.
#[derive(Debug, Clone, Copy)]
pub struct NewRating<'a> {
    /// The trip's assignment.
    pub assignment_id: Uuid,
    /// 1 to 5 (checked by the caller and by the table).
    pub stars: i16,
    /// Tags, checked by the caller.
    pub tags: &'a [String],
    /// Comment, cleaned by the caller.
    pub comment: Option<&'a str>,
}

/// A driver's average and how many ratings it rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Average {
    /// Mean stars, to two decimals (0 without ratings).
    pub stars: f64,
    /// Ratings.
    pub count: i64,
}

impl Average {
    fn of(sum: i64, count: i64) -> Self {
        if count <= 0 {
            return Self::default();
        }
        Self {
            stars: (sum as f64 * 100.0 / count as f64).round() / 100.0,
            count,
        }
    }
}

/// What a rating came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Rate {
    /// Stored; the driver's average now.
    Rated(Rating, Average),
    /// This trip was rated already (the first rating stands).
    AlreadyRated(Rating, Average),
    /// No such trip of this customer's.
    NotFound,
    /// The trip has not completed.
    NotCompleted,
}

/// Rates the trip of `rating.assignment_id` for `customer`, in the caller's
/// transaction.
pub async fn rate(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    rating: NewRating<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Rate> {
    let found: Option<(Assignment, Uuid)> = assignments::table
        .inner_join(orders::table.on(orders::id.eq(assignments::order_id)))
        .filter(assignments::id.eq(rating.assignment_id))
        .select((Assignment::as_select(), orders::customer_id))
        .first(conn)
        .await
        .optional()?;
    let Some((a, _)) = found.filter(|(_, owner)| *owner == customer) else {
        return Ok(Rate::NotFound);
    };
    if a.status != AssignmentStatus::Completed {
        return Ok(Rate::NotCompleted);
    }
    let inserted: Option<Rating> = diesel::insert_into(ratings::table)
        .values((
            ratings::assignment_id.eq(a.id),
            ratings::order_id.eq(a.order_id),
            ratings::customer_id.eq(customer),
            ratings::driver_id.eq(a.driver_id),
            ratings::transporter_id.eq(a.transporter_id),
            ratings::stars.eq(rating.stars),
            ratings::tags.eq(rating.tags.iter().cloned().map(Some).collect::<Vec<_>>()),
            ratings::comment.eq(rating.comment),
            ratings::created_at.eq(now),
        ))
        .on_conflict(ratings::assignment_id)
        .do_nothing()
        .returning(Rating::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    let Some(stored) = inserted else {
        let first = ratings::table
            .filter(ratings::assignment_id.eq(a.id))
            .select(Rating::as_select())
            .first(conn)
            .await?;
        let average = average_of(conn, a.driver_id).await?;
        return Ok(Rate::AlreadyRated(first, average));
    };
    let (sum, count): (i64, i64) = diesel::insert_into(driver_ratings::table)
        .values((
            driver_ratings::driver_id.eq(a.driver_id),
            driver_ratings::stars_sum.eq(i64::from(rating.stars)),
            driver_ratings::rating_count.eq(1_i64),
            driver_ratings::updated_at.eq(now),
        ))
        .on_conflict(driver_ratings::driver_id)
        .do_update()
        .set((
            driver_ratings::stars_sum.eq(driver_ratings::stars_sum + i64::from(rating.stars)),
            driver_ratings::rating_count.eq(driver_ratings::rating_count + 1),
            driver_ratings::updated_at.eq(now),
        ))
        .returning((driver_ratings::stars_sum, driver_ratings::rating_count))
        .get_result(conn)
        .await?;
    Ok(Rate::Rated(stored, Average::of(sum, count)))
}

/// `driver_id`'s average.
pub async fn average_of(conn: &mut AsyncPgConnection, driver_id: Uuid) -> QueryResult<Average> {
    Ok(averages_of(conn, &[driver_id])
        .await?
        .remove(&driver_id)
        .unwrap_or_default())
}

/// The averages of `drivers` (absent: no rating yet).
pub async fn averages_of(
    conn: &mut AsyncPgConnection,
    drivers: &[Uuid],
) -> QueryResult<HashMap<Uuid, Average>> {
    let rows: Vec<(Uuid, i64, i64)> = driver_ratings::table
        .filter(driver_ratings::driver_id.eq_any(drivers))
        .select((
            driver_ratings::driver_id,
            driver_ratings::stars_sum,
            driver_ratings::rating_count,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(driver, sum, count)| (driver, Average::of(sum, count)))
        .collect())
}

/// The customer's completed trips not rated yet, latest first.
pub async fn pending_of(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    limit: i64,
) -> QueryResult<Vec<Assignment>> {
    assignments::table
        .inner_join(orders::table.on(orders::id.eq(assignments::order_id)))
        .left_join(ratings::table.on(ratings::assignment_id.eq(assignments::id)))
        .filter(orders::customer_id.eq(customer))
        .filter(assignments::status.eq(AssignmentStatus::Completed.as_str()))
        .filter(ratings::id.is_null())
        .order(assignments::ended_at.desc())
        .limit(limit)
        .select(Assignment::as_select())
        .load(conn)
        .await
}

/// For each of `orders`, (completed trips, rated trips).
pub async fn rated_counts(
    conn: &mut AsyncPgConnection,
    order_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, (i64, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        order_id: Uuid,
        #[diesel(sql_type = BigInt)]
        completed: i64,
        #[diesel(sql_type = BigInt)]
        rated: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT a.order_id, count(*) AS completed, count(r.id) AS rated \
         FROM assignments a LEFT JOIN ratings r ON r.assignment_id = a.id \
         WHERE a.order_id = ANY($1) AND a.status = $2 GROUP BY a.order_id",
    )
    .bind::<Array<SqlUuid>, _>(order_ids)
    .bind::<diesel::sql_types::Text, _>(AssignmentStatus::Completed.as_str())
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.order_id, (r.completed, r.rated)))
        .collect())
}
