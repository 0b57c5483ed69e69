// @generated automatically by Diesel CLI.

diesel::table! {
    assignments (id) {
        id -> Uuid,
        trip_id -> Uuid,
        order_id -> Uuid,
        truck_request_id -> Uuid,
        hold_id -> Nullable<Uuid>,
        transporter_id -> Uuid,
        vehicle_id -> Uuid,
        driver_id -> Uuid,
        vehicle_number -> Text,
        status -> Text,
        driver_deadline -> Timestamptz,
        decline_reason -> Nullable<Text>,
        assigned_at -> Timestamptz,
        driver_accepted_at -> Nullable<Timestamptz>,
        declined_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        trip_started_at -> Nullable<Timestamptz>,
        silence_reported_at -> Nullable<Timestamptz>,
        approaching_sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    cancellations (id) {
        id -> Uuid,
        order_id -> Uuid,
        customer_id -> Uuid,
        stage -> Text,
        decision -> Text,
        reason -> Nullable<Text>,
        penalty_amount -> Int8,
        penalty_breakdown -> Jsonb,
        driver_compensation -> Jsonb,
        settlement_state -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    custom_bookings (id) {
        id -> Uuid,
        customer_id -> Uuid,
        pickup_city -> Text,
        pickup_state -> Nullable<Text>,
        drop_city -> Text,
        drop_state -> Nullable<Text>,
        vehicle_requirements -> Jsonb,
        start_date -> Date,
        end_date -> Date,
        is_flexible -> Bool,
        goods_type -> Nullable<Text>,
        estimated_weight -> Nullable<Text>,
        special_requests -> Nullable<Text>,
        company_name -> Nullable<Text>,
        customer_email -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
    }
}

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
    dispatch_schedule (order_id) {
        order_id -> Uuid,
        due_at -> Timestamptz,
    }
}

diesel::table! {
    disputes (id) {
        id -> Uuid,
        order_id -> Uuid,
        customer_id -> Uuid,
        stage -> Text,
        reason_code -> Nullable<Text>,
        notes -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    documents (id) {
        id -> Uuid,
        owner_id -> Uuid,
        kind -> Text,
        status -> Text,
        object_key -> Text,
        thumbnail_key -> Nullable<Text>,
        content_type -> Text,
        size_bytes -> Int8,
        sha256 -> Text,
        created_at -> Timestamptz,
        replaced_at -> Nullable<Timestamptz>,
        vehicle_id -> Nullable<Uuid>,
        expires_on -> Nullable<Date>,
        expiry_warned_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    driver_ratings (driver_id) {
        driver_id -> Uuid,
        stars_sum -> Int8,
        rating_count -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    holds (id) {
        id -> Uuid,
        transporter_id -> Uuid,
        order_id -> Uuid,
        vehicle_type -> Text,
        vehicle_subtype -> Text,
        vehicle_key -> Text,
        quantity -> Int4,
        status -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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
    kyc_decisions (id) {
        id -> Uuid,
        driver_id -> Uuid,
        decision -> Text,
        reason -> Nullable<Text>,
        actor -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_notifications (order_id, transporter_id) {
        order_id -> Uuid,
        transporter_id -> Uuid,
        step -> Int4,
        distance_m -> Float8,
        notified_at -> Timestamptz,
        declined_at -> Nullable<Timestamptz>,
        acked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_routes (order_id) {
        order_id -> Uuid,
        distance_km -> Int4,
        source -> Text,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        customer_id -> Uuid,
        pickup_latitude -> Float8,
        pickup_longitude -> Float8,
        pickup_address -> Text,
        pickup_city -> Nullable<Text>,
        pickup_state -> Nullable<Text>,
        drop_latitude -> Float8,
        drop_longitude -> Float8,
        drop_address -> Text,
        drop_city -> Nullable<Text>,
        drop_state -> Nullable<Text>,
        stops -> Jsonb,
        distance_km -> Int4,
        goods_type -> Nullable<Text>,
        total_trucks -> Int4,
        trucks_filled -> Int4,
        total_amount -> Int8,
        status -> Text,
        dispatch_state -> Text,
        dispatch_attempts -> Int4,
        online_candidates -> Int4,
        notified_transporters -> Int4,
        reason_code -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        expires_at -> Timestamptz,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        cancelled_at -> Nullable<Timestamptz>,
        expired_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
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
    otp_lockouts (phone) {
        phone -> Text,
        failures -> Int4,
        window_started_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
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
        order_id -> Nullable<Uuid>,
        seq -> Nullable<Int8>,
        push_to -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    push_jobs (id) {
        id -> Int8,
        outbox_id -> Int8,
        room -> Text,
        user_id -> Uuid,
        tokens -> Nullable<Array<Nullable<Text>>>,
        attempts -> Int4,
        due_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    rate_counters (key) {
        key -> Text,
        window_started_at -> Timestamptz,
        hits -> Int4,
    }
}

diesel::table! {
    ratings (id) {
        id -> Uuid,
        assignment_id -> Uuid,
        order_id -> Uuid,
        customer_id -> Uuid,
        driver_id -> Uuid,
        transporter_id -> Uuid,
        stars -> Int2,
        tags -> Array<Nullable<Text>>,
        comment -> Nullable<Text>,
        created_at -> Timestamptz,
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
    trip_points (trip_id, recorded_at) {
        trip_id -> Uuid,
        recorded_at -> Timestamptz,
        latitude -> Float8,
        longitude -> Float8,
        speed -> Nullable<Float8>,
        bearing -> Nullable<Float8>,
        accuracy -> Nullable<Float8>,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    truck_requests (id) {
        id -> Uuid,
        order_id -> Uuid,
        request_number -> Int4,
        vehicle_type -> Text,
        vehicle_subtype -> Text,
        vehicle_key -> Text,
        price_per_truck -> Int4,
        status -> Text,
        hold_id -> Nullable<Uuid>,
        transporter_id -> Nullable<Uuid>,
        vehicle_id -> Nullable<Uuid>,
        driver_id -> Nullable<Uuid>,
        assigned_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        client_price_per_truck -> Nullable<Int4>,
        server_price_per_truck -> Nullable<Int4>,
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
        is_available -> Bool,
        availability_changed_at -> Nullable<Timestamptz>,
        verification -> Text,
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

diesel::joinable!(assignments -> holds (hold_id));
diesel::joinable!(assignments -> orders (order_id));
diesel::joinable!(assignments -> truck_requests (truck_request_id));
diesel::joinable!(assignments -> vehicles (vehicle_id));
diesel::joinable!(cancellations -> orders (order_id));
diesel::joinable!(cancellations -> users (customer_id));
diesel::joinable!(custom_bookings -> users (customer_id));
diesel::joinable!(device_tokens -> users (user_id));
diesel::joinable!(dispatch_schedule -> orders (order_id));
diesel::joinable!(disputes -> orders (order_id));
diesel::joinable!(disputes -> users (customer_id));
diesel::joinable!(documents -> users (owner_id));
diesel::joinable!(documents -> vehicles (vehicle_id));
diesel::joinable!(driver_ratings -> users (driver_id));
diesel::joinable!(holds -> orders (order_id));
diesel::joinable!(holds -> users (transporter_id));
diesel::joinable!(kyc_decisions -> users (driver_id));
diesel::joinable!(order_notifications -> orders (order_id));
diesel::joinable!(order_notifications -> users (transporter_id));
diesel::joinable!(order_routes -> orders (order_id));
diesel::joinable!(orders -> users (customer_id));
diesel::joinable!(otp_challenges -> users (requested_by));
diesel::joinable!(push_jobs -> outbox (outbox_id));
diesel::joinable!(ratings -> assignments (assignment_id));
diesel::joinable!(ratings -> orders (order_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(truck_requests -> orders (order_id));
diesel::joinable!(truck_requests -> vehicles (vehicle_id));

diesel::allow_tables_to_appear_in_same_query!(
    assignments,
    cancellations,
    custom_bookings,
    device_tokens,
    dispatch_schedule,
    disputes,
    documents,
    driver_ratings,
    holds,
    idempotency_keys,
    kyc_decisions,
    order_notifications,
    order_routes,
    orders,
    otp_challenges,
    otp_lockouts,
    outbox,
    push_jobs,
    rate_counters,
    ratings,
    sessions,
    trip_points,
    truck_requests,
    users,
    vehicles,
);
