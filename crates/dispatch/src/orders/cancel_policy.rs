//! The cancel policy at work: prices a cancel from the order's running
//! trucks (read under lock in the caller's transaction), writes the ledger
//! row of a cancel, the penalties still due, and disputes. The rules
//! themselves are `weelo_orders::cancel_policy`.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use uuid::Uuid;
use weelo_orders::cancel_policy::{Decision, Evaluation, LiveTruck, evaluate};
use weelo_persistence::assignments::Assignment;
use weelo_persistence::cancellations::{self, Cancellation};
use weelo_persistence::orders;

use crate::wire::iso;
use crate::{Dispatch, DispatchError, ErrorCode};

/// A priced cancel: the evaluation and the trucks it rests on.
#[derive(Debug, Clone)]
pub struct Priced {
    /// What the rules say.
    pub evaluation: Evaluation,
    /// The running trucks.
    pub running: Vec<Assignment>,
}

/// Prices a cancel of `order_id` now, its running trucks locked.
pub async fn price(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Priced> {
    let running = cancellations::running_of_order(conn, order_id).await?;
    let ids: Vec<Uuid> = running.iter().map(|a| a.truck_request_id).collect();
    let trucks = orders::trucks_by_ids(conn, &ids).await?;
    let live: Vec<LiveTruck> = running
        .iter()
        .map(|a| LiveTruck {
            status: a.status,
            fare: trucks
                .iter()
                .find(|t| t.id == a.truck_request_id)
                .map_or(0, |t| i64::from(t.price_per_truck)),
            secs_in_status: (now - a.updated_at).num_seconds().max(0),
        })
        .collect();
    Ok(Priced {
        evaluation: evaluate(&live),
        running,
    })
}

impl Priced {
    /// `none`, `pending` (money due) or `waived` (blocked).
    pub fn settlement(&self) -> &'static str {
        match self.evaluation.decision {
            Decision::BlockedDisputeOnly => "waived",
            _ if self.evaluation.penalty > 0 => "pending",
            _ => "none",
        }
    }

    /// Each running driver's share of the compensation.
    fn compensation(&self) -> Vec<Value> {
        let drivers = i64::try_from(self.running.len()).unwrap_or(1).max(1);
        let share = self.evaluation.driver_compensation / drivers;
        self.running
            .iter()
            .filter(|_| share > 0)
            .map(|a| json!({ "assignmentId": a.id, "driverId": a.driver_id, "amount": share }))
            .collect()
    }

    fn breakdown(&self) -> Value {
        let mut parts = serde_json::Map::new();
        for (name, amount) in &self.evaluation.penalty_parts {
            parts.insert((*name).to_owned(), json!(amount));
        }
        parts.insert("total".to_owned(), json!(self.evaluation.penalty));
        Value::Object(parts)
    }

    /// The policy's fields of a cancel or a preview answer.
    pub fn fields(&self) -> Value {
        let e = &self.evaluation;
        json!({
            "cancelDecision": e.decision.as_str(),
            "policyStage": e.stage.as_str(),
            "reasonRequired": e.reason_required,
            "pendingPenaltyAmount": e.penalty,
            "penaltyBreakdown": self.breakdown(),
            "driverCompensationBreakdown": self.compensation(),
            "driverCompensationTotal": e.driver_compensation,
            "settlementState": self.settlement(),
            "currency": "INR",
        })
    }

    /// The ledger row of the cancel of `order_id` by `customer_id`.
    pub fn ledger(
        &self,
        order_id: Uuid,
        customer_id: Uuid,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Cancellation {
        Cancellation {
            id: Uuid::new_v4(),
            order_id,
            customer_id,
            stage: self.evaluation.stage.as_str().to_owned(),
            decision: self.evaluation.decision.as_str().to_owned(),
            reason: reason.map(str::to_owned),
            penalty_amount: self.evaluation.penalty,
            penalty_breakdown: self.breakdown(),
            driver_compensation: Value::Array(self.compensation()),
            settlement_state: self.settlement().to_owned(),
            created_at: now,
        }
    }
}

/// `GET orders/pending-settlements`: penalties the customer still owes,
/// shown before its next order.
pub async fn pending_settlements(state: &Dispatch, customer: Uuid) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let due = cancellations::pending_of(&mut conn, customer).await?;
    let total: i64 = due.iter().map(|c| c.penalty_amount).sum();
    Ok(json!({
        "totalPending": total,
        "count": due.len(),
        "currency": "INR",
        "items": due.iter().map(|c| json!({
            "id": c.id,
            "orderId": c.order_id,
            "stage": c.stage,
            "amount": c.penalty_amount,
            "penaltyBreakdown": c.penalty_breakdown,
            "reason": c.reason,
            "settlementState": c.settlement_state,
            "createdAt": iso(c.created_at),
        })).collect::<Vec<_>>(),
    }))
}

/// `POST bookings/orders/{id}/cancel/dispute`: the customer disputes an
/// order it cannot cancel (or the charge of one it did).
pub async fn open_dispute(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
    reason_code: Option<&str>,
    notes: Option<&str>,
) -> Result<Value, DispatchError> {
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let order = orders::find(&mut conn, order_id)
        .await?
        .filter(|o| o.customer_id == customer)
        .ok_or_else(|| DispatchError::refused(ErrorCode::OrderNotFound, "order not found"))?;
    let priced = price(&mut conn, order.id, now).await?;
    let stage = priced.evaluation.stage.as_str();
    let dispute = cancellations::open_dispute(
        &mut conn,
        order.id,
        customer,
        stage,
        reason_code,
        notes,
        now,
    )
    .await?;
    tracing::info!(order.id = %order.id, dispute.id = %dispute.id, "dispute opened");
    Ok(json!({
        "disputeId": dispute.id,
        "orderId": order.id,
        "stage": stage,
        "status": dispute.status,
        "message": "Your dispute is recorded; our team will get back to you",
        "createdAt": iso(dispute.created_at),
    }))
}

/// The customer's disputes of one order.
pub async fn disputes(
    state: &Dispatch,
    customer: Uuid,
    order_id: Uuid,
) -> Result<Value, DispatchError> {
    let mut conn = state.conn().await?;
    let found = cancellations::disputes_of(&mut conn, customer, order_id).await?;
    Ok(json!({
        "orderId": order_id,
        "disputes": found.iter().map(|d| json!({
            "disputeId": d.id,
            "stage": d.stage,
            "reasonCode": d.reason_code,
            "notes": d.notes,
            "status": d.status,
            "createdAt": iso(d.created_at),
        })).collect::<Vec<_>>(),
    }))
}
