-- Escalation policies: ordered tiers (timeout, targets, methods) and a repeat count. Tiers are a JSON array checked by
-- the API; a policy marked default covers services that name none.
CREATE TABLE escalation_policies (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description         text NOT NULL DEFAULT '',
    severity_threshold  text NOT NULL DEFAULT 'critical' CHECK (severity_threshold IN ('critical', 'major', 'warning', 'info')),
    repeat_count        integer NOT NULL DEFAULT 0 CHECK (repeat_count BETWEEN 0 AND 10),
    is_default          boolean NOT NULL DEFAULT false,
    tiers               jsonb NOT NULL CHECK (jsonb_typeof(tiers) = 'array' AND jsonb_array_length(tiers) BETWEEN 1 AND 10),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX escalation_policies_name_idx ON escalation_policies (lower(name));
CREATE UNIQUE INDEX escalation_policies_default_idx ON escalation_policies (is_default) WHERE is_default;

ALTER TABLE services ADD COLUMN escalation_policy_id uuid REFERENCES escalation_policies (id) ON DELETE SET NULL;

-- The engine's durable cursor per alert: the next step (tier + repeat × tiers) and when it is due.
CREATE TABLE escalation_state (
    alert_id     uuid PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    policy_id    uuid NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    next_step    integer NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL,
    finished_at  timestamptz,
    finish_reason text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalation_state_due_idx ON escalation_state (next_at) WHERE finished_at IS NULL;

-- Every step: who was to be told how, and what came of it. One row per (alert, step, recipient, method).
CREATE TABLE escalation_events (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_id     uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    policy_id    uuid NOT NULL,
    tier         integer NOT NULL,
    repeat       integer NOT NULL,
    target       jsonb NOT NULL,
    user_id      uuid,
    recipient    text NOT NULL,
    method       text NOT NULL,
    outcome      text NOT NULL,
    error        text,
    notification_id uuid,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalation_events_alert_idx ON escalation_events (alert_id, created_at);

-- What is (or would be) sent. Sandbox providers leave their messages here as `sandboxed`; live ones move rows from
-- `pending` through `sending` (leased) to `sent` or `failed`, retrying with backoff. The idempotency key makes each
-- (alert, step, recipient, method) one row however many workers run.
CREATE TABLE notification_outbox (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    idempotency_key  text NOT NULL UNIQUE,
    alert_id         uuid REFERENCES alerts (id) ON DELETE CASCADE,
    step             integer,
    provider         text NOT NULL CHECK (provider IN ('slack', 'mattermost', 'twilio', 'webhook')),
    method           text NOT NULL,
    mode             text NOT NULL CHECK (mode IN ('live', 'sandbox')),
    recipient        text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'sandboxed', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_error       text,
    provider_reference text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX notification_outbox_recent_idx ON notification_outbox (created_at DESC, id DESC);
CREATE INDEX notification_outbox_alert_idx ON notification_outbox (alert_id);
-- Rate limits and SMS replies look up the latest message to one recipient by one method.
CREATE INDEX notification_outbox_recipient_idx ON notification_outbox (method, recipient, sent_at DESC);

-- Where a posted Slack message lives, so later changes can update it.
ALTER TABLE alerts ADD COLUMN slack_channel text, ADD COLUMN slack_ts text;

-- Every delivery attempt of every message, with its outcome.
CREATE TABLE notification_attempts (
    id               bigserial PRIMARY KEY,
    notification_id  uuid NOT NULL REFERENCES notification_outbox (id) ON DELETE CASCADE,
    outcome          text NOT NULL CHECK (outcome IN ('delivered', 'sandboxed', 'retryable', 'failed')),
    error            text,
    attempted_at     timestamptz NOT NULL
);
CREATE INDEX notification_attempts_notification_idx ON notification_attempts (notification_id);
