-- The server's price check on create: each truck request keeps what the
-- customer's app offered and what the server priced (the rate card now, or
-- a quote the server signed), beside `price_per_truck`, the price in force.
-- Both are NULL on rows written before the check existed; the server's is
-- NULL when the rate card has no line for the vehicle type.
ALTER TABLE truck_requests
    ADD COLUMN client_price_per_truck INTEGER CHECK (client_price_per_truck >= 0),
    ADD COLUMN server_price_per_truck INTEGER CHECK (server_price_per_truck >= 0);
