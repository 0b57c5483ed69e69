//! The payloads of the fleet events that keep the captain app's lists and
//! counters live (docs/app-contract.md §4.4): vehicles added, changed, removed
//! or moved between jobs, drivers added and going on or offline.

use serde::Serialize;
use uuid::Uuid;
use weelo_persistence::fleet_stats::{DriverStats, FleetStats};
use weelo_persistence::users::User;
use weelo_persistence::vehicles::Vehicle;

use crate::wire::mask_phone;

/// A vehicle as the fleet events show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VehicleBrief {
    pub id: Uuid,
    pub vehicle_number: String,
    pub vehicle_type: String,
    pub vehicle_subtype: String,
    pub status: String,
}

impl VehicleBrief {
    /// `v` as it now stands.
    pub fn of(v: &Vehicle) -> Self {
        Self {
            id: v.id,
            vehicle_number: v.vehicle_number.clone(),
            vehicle_type: v.vehicle_type.clone(),
            vehicle_subtype: v.vehicle_subtype.clone(),
            status: v.status.as_str().to_owned(),
        }
    }
}

/// `vehicle_registered`: a vehicle joined the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VehicleRegistered {
    pub vehicle: VehicleBrief,
    pub message: &'static str,
    pub fleet_stats: FleetStats,
}

/// `vehicle_updated`, `vehicle_deleted`, `vehicle_status_changed` and
/// `fleet_updated`: what changed, and the counters now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct VehicleChange {
    /// `updated`, `deleted` or `status_changed`.
    pub action: &'static str,
    pub vehicle_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleBrief>,
    pub fleet_stats: FleetStats,
}

/// A driver as the fleet events show it (the phone masked: the list
/// screen has the full one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverBrief {
    pub id: Uuid,
    pub name: String,
    pub phone: String,
    pub license_number: Option<String>,
}

impl DriverBrief {
    /// `driver`, briefly.
    pub fn of(driver: &User) -> Self {
        Self {
            id: driver.id,
            name: driver.name.clone().unwrap_or_default(),
            phone: mask_phone(&driver.phone),
            license_number: driver.license_number.clone(),
        }
    }
}

/// `driver_added`: a driver joined the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverAdded {
    pub driver: DriverBrief,
    pub message: &'static str,
    pub driver_stats: DriverStats,
}

/// `driver_deleted`: a driver left the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverDeleted {
    /// `deleted`.
    pub action: &'static str,
    pub driver_id: Uuid,
    pub message: &'static str,
    pub driver_stats: DriverStats,
}

/// `driver_status_changed`: a driver went online or offline (the list of
/// drivers who can be assigned refreshes on it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DriverStatusChanged {
    pub driver_id: Uuid,
    pub driver_name: String,
    pub is_online: bool,
    /// `online` or `offline`.
    pub action: &'static str,
    pub timestamp: String,
    pub driver_stats: DriverStats,
}
