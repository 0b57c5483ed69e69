ALTER TABLE truck_requests
    DROP COLUMN server_price_per_truck,
    DROP COLUMN client_price_per_truck;
