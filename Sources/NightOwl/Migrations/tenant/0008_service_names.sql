-- Services are found by name without regard to case (webhooks, /oncall/{service}), so names are unique that way too.
CREATE UNIQUE INDEX services_lower_name_idx ON services (lower(name));
