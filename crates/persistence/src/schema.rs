// @generated automatically by Diesel CLI.

diesel::table! {
    device_tokens (token) {
        token -> Text,
        user_id -> Uuid,
        device_type -> Nullable<Text>,
        device_id -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (user_id, scope, idempotency_key) {
        user_id -> Uuid,
        scope -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        response_status -> Int2,
        response_body -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    otp_challenges (phone, purpose) {
        phone -> Text,
        purpose -> Text,
        otp_hash -> Nullable<Text>,
        attempts -> Int4,
        expires_at -> Timestamptz,
        last_sent_at -> Timestamptz,
        window_started_at -> Timestamptz,
        sends_in_window -> Int4,
        requested_by -> Nullable<Uuid>,
        pending_profile -> Nullable<Jsonb>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        topic -> Text,
        recipients -> Array<Nullable<Text>>,
        payload -> Jsonb,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        refresh_token_hash -> Text,
        device_id -> Nullable<Text>,
        device_name -> Nullable<Text>,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        phone -> Text,
        role -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        company -> Nullable<Text>,
        gst_number -> Nullable<Text>,
        pan_number -> Nullable<Text>,
        address -> Nullable<Text>,
        city -> Nullable<Text>,
        state -> Nullable<Text>,
        profile_photo -> Nullable<Text>,
        license_number -> Nullable<Text>,
        preferred_language -> Nullable<Text>,
        transporter_id -> Nullable<Uuid>,
        is_verified -> Bool,
        is_active -> Bool,
        last_seen_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    vehicles (id) {
        id -> Uuid,
        transporter_id -> Uuid,
        vehicle_number -> Text,
        vehicle_type -> Text,
        vehicle_subtype -> Text,
        vehicle_key -> Text,
        capacity -> Nullable<Text>,
        model -> Nullable<Text>,
        year -> Nullable<Int4>,
        rc_number -> Nullable<Text>,
        status -> Text,
        current_trip_id -> Nullable<Uuid>,
        assigned_driver_id -> Nullable<Uuid>,
        is_verified -> Bool,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(device_tokens -> users (user_id));
diesel::joinable!(otp_challenges -> users (requested_by));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    device_tokens,
    idempotency_keys,
    otp_challenges,
    outbox,
    sessions,
    users,
    vehicles,
);
