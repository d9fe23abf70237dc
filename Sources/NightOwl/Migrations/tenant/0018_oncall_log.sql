-- Who was on call, as it happened. A roster's past is otherwise computed from its current members, rotation and
-- overrides, so a change today (a member leaving, a new rotation length, a deleted override) would rewrite who was on
-- call last week. The worker records each roster's stretches as they pass (`OnCallRecorder`); the history reads this
-- log where it exists and computes only what came before it.
CREATE TABLE oncall_log (
    roster_id          uuid NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    started_at         timestamptz NOT NULL,
    ended_at           timestamptz NOT NULL CHECK (ended_at > started_at),
    primary_id         uuid NOT NULL REFERENCES users (id),
    secondary_id       uuid REFERENCES users (id),
    shift_index        integer,
    -- The override that put the primary on call; no reference, since overrides can be deleted afterwards.
    override_id        uuid,
    sub_roster         integer,
    in_coverage_window boolean NOT NULL DEFAULT true,
    PRIMARY KEY (roster_id, started_at)
);

-- How far each roster's log reaches (NULL before its first pass): its last row may go on past this instant until the
-- next pass says otherwise. Locked by a pass, so two workers never record a roster at once.
CREATE TABLE oncall_log_cursor (
    roster_id      uuid PRIMARY KEY REFERENCES rosters (id) ON DELETE CASCADE,
    recorded_until timestamptz
);
