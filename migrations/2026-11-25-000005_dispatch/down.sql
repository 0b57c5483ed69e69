DROP TABLE order_notifications;
