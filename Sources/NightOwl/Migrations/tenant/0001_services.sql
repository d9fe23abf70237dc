-- Services are what alerts belong to and what rosters and escalation policies cover.
CREATE TABLE services (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '',
    cluster      text,
    namespace    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX services_cluster_namespace_idx ON services (cluster, namespace);
