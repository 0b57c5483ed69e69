-- A user switched off (is_active false, however it is done: an admin
-- screen or an operator's UPDATE) loses its sockets on every instance: the
-- trigger writes a `$disconnect` event for the user's room to the outbox in
-- the same transaction, and the relay hands it to every instance's hub,
-- which disconnects the room's sockets instead of delivering to them.
CREATE FUNCTION outbox_disconnect_deactivated() RETURNS trigger AS $$
BEGIN
    INSERT INTO outbox (topic, recipients, payload, created_at)
    VALUES ('$disconnect', ARRAY['user:' || NEW.id::text], '{}'::jsonb, now());
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_deactivated_disconnect
    AFTER UPDATE OF is_active ON users
    FOR EACH ROW
    WHEN (OLD.is_active AND NOT NEW.is_active)
    EXECUTE FUNCTION outbox_disconnect_deactivated();
