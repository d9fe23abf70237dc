CREATE TABLE runbooks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    content       text NOT NULL DEFAULT '' CHECK (length(content) <= 200000),
    category      text NOT NULL DEFAULT '' CHECK (length(category) <= 100),
    tags          text[] NOT NULL DEFAULT '{}',
    -- Shipped templates carry a stable key and are kept current by every migrate run.
    template_key  text UNIQUE,
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runbooks_title_idx ON runbooks (lower(title));
