//! The apps' JSON shapes of users, drivers and vehicles
//! (docs/app-contract.md §3.1–3.3). Optional fields are sent as
//! `null` rather than left out, and timestamps carry milliseconds.

use serde::Serialize;
use uuid::Uuid;
use weelo_availability::VehicleStatus;
use weelo_persistence::driver_figures::DriverWork;
use weelo_persistence::users::User;
use weelo_persistence::vehicles::Vehicle;

use crate::wire::iso;

/// A user as `GET profile` returns it (`data.profile` and `data.user`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto {
    id: Uuid,
    phone: String,
    role: String,
    name: Option<String>,
    email: Option<String>,
    profile_photo: Option<String>,
    company: Option<String>,
    business_name: Option<String>,
    business_address: Option<String>,
    gst_number: Option<String>,
    pan_number: Option<String>,
    address: Option<String>,
    city: Option<String>,
    state: Option<String>,
    license_number: Option<String>,
    preferred_language: Option<String>,
    transporter_id: Option<Uuid>,
    is_verified: bool,
    is_active: bool,
    is_profile_complete: bool,
    created_at: String,
    updated_at: String,
}

/// Whether the app may skip its profile form: a name is all every role needs.
pub fn is_profile_complete(user: &User) -> bool {
    let named = user
        .name
        .as_deref()
        .is_some_and(|name| !name.trim().is_empty());
    // A driver's profile is complete once its KYC form and documents are
    // in (`driver/complete-profile` moves it out of `unverified`).
    named && (user.role != "driver" || user.verification != "unverified")
}

impl From<&User> for ProfileDto {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            phone: user.phone.clone(),
            role: user.role.clone(),
            name: user.name.clone(),
            email: user.email.clone(),
            profile_photo: user.profile_photo.clone(),
            company: user.company.clone(),
            business_name: user.company.clone(),
            business_address: user.address.clone(),
            gst_number: user.gst_number.clone(),
            pan_number: user.pan_number.clone(),
            address: user.address.clone(),
            city: user.city.clone(),
            state: user.state.clone(),
            license_number: user.license_number.clone(),
            preferred_language: user.preferred_language.clone(),
            transporter_id: user.transporter_id,
            is_verified: user.is_verified,
            is_active: user.is_active,
            is_profile_complete: is_profile_complete(user),
            created_at: iso(user.created_at),
            updated_at: iso(user.updated_at),
        }
    }
}

/// A driver as the driver app reads it (`data.driver`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriverDto {
    id: Uuid,
    name: Option<String>,
    phone: String,
    transporter_id: Option<Uuid>,
    transporter_name: Option<String>,
    license_number: Option<String>,
    profile_photo: Option<String>,
    preferred_language: Option<String>,
    /// The same, under the profile screen's name.
    language: Option<String>,
    email: Option<String>,
    address: Option<String>,
    /// A driver drives whatever truck it is assigned: none of its own.
    vehicle_type: Option<String>,
    /// `DriverProfileWithPhotos.photos`: the licence photos arrive with the
    /// documents work; until then only the profile photo can be set.
    photos: DriverPhotos,
    is_verified: bool,
    /// KYC: `unverified`, `pending`, `approved`, `rejected`.
    verification: String,
    is_profile_completed: bool,
    created_at: String,
    updated_at: String,
}

/// A driver's photos as the profile screen reads them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DriverPhotos {
    profile_photo: Option<String>,
    license_front: Option<String>,
    license_back: Option<String>,
}

impl DriverDto {
    /// The driver with its transporter's display name.
    pub fn new(driver: &User, transporter: Option<&User>) -> Self {
        Self {
            id: driver.id,
            name: driver.name.clone(),
            phone: driver.phone.clone(),
            transporter_id: driver.transporter_id,
            transporter_name: transporter
                .and_then(|t| t.company.clone().or_else(|| t.name.clone())),
            license_number: driver.license_number.clone(),
            profile_photo: driver.profile_photo.clone(),
            preferred_language: driver.preferred_language.clone(),
            language: driver.preferred_language.clone(),
            email: driver.email.clone(),
            address: driver.address.clone(),
            vehicle_type: None,
            photos: DriverPhotos {
                profile_photo: driver.profile_photo.clone(),
                license_front: None,
                license_back: None,
            },
            is_verified: driver.is_verified,
            verification: driver.verification.clone(),
            is_profile_completed: is_profile_complete(driver),
            created_at: iso(driver.created_at),
            updated_at: iso(driver.updated_at),
        }
    }
}

/// A driver in the transporter's `GET driver/list`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetDriverDto {
    id: Uuid,
    transporter_id: Option<Uuid>,
    phone: String,
    name: Option<String>,
    license_number: Option<String>,
    /// Its availability toggle.
    pub is_online: bool,
    /// Online and not on a trip.
    pub is_available: bool,
    /// On a live assignment.
    pub is_on_trip: bool,
    status: &'static str,
    assigned_vehicle_id: Option<Uuid>,
    assigned_vehicle_number: Option<String>,
    current_trip_id: Option<Uuid>,
    rating: Option<f64>,
    total_trips: i64,
    is_verified: bool,
    /// KYC: `unverified`, `pending`, `approved`, `rejected`.
    verification: String,
    last_seen_at: Option<String>,
    created_at: String,
}

impl FleetDriverDto {
    /// A driver with its live state: online from its toggle, on a trip
    /// while an assignment of its has not ended (waiting for its answer
    /// or running), with that trip's vehicle, and its completed trips.
    pub fn new(driver: &User, is_online: bool, work: Option<&DriverWork>) -> Self {
        let current_trip_id = work.and_then(|w| w.current_trip_id);
        let is_on_trip = current_trip_id.is_some();
        let status = match (is_on_trip, is_online) {
            (true, _) => "on_trip",
            (false, true) => "available",
            (false, false) => "offline",
        };
        Self {
            id: driver.id,
            transporter_id: driver.transporter_id,
            phone: driver.phone.clone(),
            name: driver.name.clone(),
            license_number: driver.license_number.clone(),
            is_online,
            is_available: is_online && !is_on_trip,
            is_on_trip,
            status,
            assigned_vehicle_id: work.and_then(|w| w.vehicle_id),
            assigned_vehicle_number: work.and_then(|w| w.vehicle_number.clone()),
            current_trip_id,
            rating: None,
            total_trips: work.map_or(0, |w| w.total_trips),
            is_verified: driver.is_verified,
            verification: driver.verification.clone(),
            last_seen_at: driver.last_seen_at.map(iso),
            created_at: iso(driver.created_at),
        }
    }

    /// With the customers' average rating of the driver, when it has one.
    pub fn rated(mut self, rating: Option<f64>) -> Self {
        self.rating = rating;
        self
    }
}

/// A vehicle as the captain app reads it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VehicleDto {
    id: Uuid,
    transporter_id: Uuid,
    vehicle_number: String,
    vehicle_type: String,
    vehicle_subtype: String,
    vehicle_key: String,
    capacity: Option<String>,
    status: String,
    assigned_driver_id: Option<Uuid>,
    current_trip_id: Option<Uuid>,
    model: Option<String>,
    year: Option<i32>,
    rc_number: Option<String>,
    is_verified: bool,
    is_active: bool,
    created_at: String,
    updated_at: String,
}

impl From<&Vehicle> for VehicleDto {
    fn from(vehicle: &Vehicle) -> Self {
        Self {
            id: vehicle.id,
            transporter_id: vehicle.transporter_id,
            vehicle_number: vehicle.vehicle_number.clone(),
            vehicle_type: vehicle.vehicle_type.clone(),
            vehicle_subtype: vehicle.vehicle_subtype.clone(),
            vehicle_key: vehicle.vehicle_key.clone(),
            capacity: vehicle.capacity.clone(),
            status: vehicle.status.as_str().to_owned(),
            assigned_driver_id: vehicle.assigned_driver_id,
            current_trip_id: vehicle.current_trip_id,
            model: vehicle.model.clone(),
            year: vehicle.year,
            rc_number: vehicle.rc_number.clone(),
            is_verified: vehicle.is_verified,
            is_active: vehicle.status != VehicleStatus::Inactive,
            created_at: iso(vehicle.created_at),
            updated_at: iso(vehicle.updated_at),
        }
    }
}
