-- Resource ids that are UUIDs are written lower-case from now on (as the API shows them); older rows follow, so that
-- a search by id finds an entry's whole trail.
UPDATE audit_log SET resource_id = lower(resource_id)
 WHERE resource_id ~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' AND resource_id <> lower(resource_id);
