// @generated automatically by Diesel CLI.

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
    outbox (id) {
        id -> Int8,
        topic -> Text,
        recipients -> Array<Nullable<Text>>,
        payload -> Jsonb,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(idempotency_keys, outbox,);
