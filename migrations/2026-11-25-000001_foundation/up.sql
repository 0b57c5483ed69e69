-- Foundation: the outbox every state change writes its events to, and the
-- idempotency keys the retried mutations of the apps are answered from.

-- Every domain event, written in the same transaction as the change it
-- describes. The relay publishes unpublished rows after commit; the id is the
-- sequence that replay pages through.
CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    topic        TEXT        NOT NULL,
    recipients   TEXT[]      NOT NULL,
    payload      JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_recipients_idx ON outbox USING GIN (recipients);

-- One stored answer per (user, scope, key): the same key and body replays it,
-- another body is a conflict.
CREATE TABLE idempotency_keys (
    user_id         UUID        NOT NULL,
    scope           TEXT        NOT NULL,
    idempotency_key TEXT        NOT NULL,
    request_hash    TEXT        NOT NULL,
    response_status SMALLINT    NOT NULL,
    response_body   JSONB       NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, scope, idempotency_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
