DROP TRIGGER users_deactivated_disconnect ON users;
DROP FUNCTION outbox_disconnect_deactivated();
