-- On-call rosters. A follow-the-sun roster has sub-rosters (rows with parent_id) that each cover a local window of the
-- day; a standard roster rotates through its own members.
CREATE TABLE rosters (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id            uuid REFERENCES rosters (id) ON DELETE CASCADE,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description          text NOT NULL DEFAULT '',
    timezone             text NOT NULL,
    rotation_type        text NOT NULL CHECK (rotation_type IN ('daily', 'weekly', 'custom')),
    rotation_length_days integer NOT NULL CHECK (rotation_length_days BETWEEN 1 AND 365),
    handoff_minute       integer NOT NULL CHECK (handoff_minute BETWEEN 0 AND 1439),
    start_date           date NOT NULL,
    end_date             date CHECK (end_date IS NULL OR end_date >= start_date),
    is_follow_the_sun    boolean NOT NULL DEFAULT false,
    coverage_start_minute integer CHECK (coverage_start_minute BETWEEN 0 AND 1439),
    coverage_end_minute  integer CHECK (coverage_end_minute BETWEEN 0 AND 1439),
    slack_channel        text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- A sub-roster has a window and no sub-rosters of its own; a top-level roster has no window.
    CHECK ((parent_id IS NULL) = (coverage_start_minute IS NULL) AND (parent_id IS NULL) = (coverage_end_minute IS NULL)),
    CHECK (parent_id IS NULL OR NOT is_follow_the_sun)
);
CREATE UNIQUE INDEX rosters_name_idx ON rosters (COALESCE(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));
CREATE INDEX rosters_parent_idx ON rosters (parent_id);

CREATE TABLE roster_members (
    roster_id  uuid NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id),
    position   integer NOT NULL CHECK (position >= 0),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (roster_id, user_id),
    UNIQUE (roster_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX roster_members_user_idx ON roster_members (user_id);

CREATE TABLE roster_overrides (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    roster_id   uuid NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason      text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX roster_overrides_window_idx ON roster_overrides (roster_id, ends_at, starts_at);
CREATE INDEX roster_overrides_user_idx ON roster_overrides (user_id, ends_at);

-- Secret calendar feed URLs (calendar apps cannot send headers). Only a hash of the token is kept.
CREATE TABLE calendar_feeds (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind IN ('roster', 'user')),
    subject_id  uuid NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, subject_id)
);

ALTER TABLE services ADD COLUMN roster_id uuid REFERENCES rosters (id) ON DELETE SET NULL;
