-- Outbound HTTP calls of any service (Zammad, events for the other Owl services, ...): written in the transaction of
-- the change that causes them, so a committed change never loses its call, and delivered by the worker with a lease.
CREATE TABLE outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigserial NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    provider        text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('live', 'sandbox')),
    method          text NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
    url             text NOT NULL,
    headers         jsonb NOT NULL DEFAULT '{}',
    body            text NOT NULL DEFAULT '',
    auth            jsonb,
    -- Messages with the same key go out one at a time, in the order they were written (the events of one incident).
    ordering_key    text,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'sandboxed', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text,
    response_status integer,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_order_idx ON outbox (ordering_key, seq) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_recent_idx ON outbox (created_at DESC, id DESC);

CREATE TABLE outbox_attempts (
    id           bigserial PRIMARY KEY,
    message_id   uuid NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    outcome      text NOT NULL CHECK (outcome IN ('delivered', 'sandboxed', 'retryable', 'failed')),
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL DEFAULT 0,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX outbox_attempts_message_idx ON outbox_attempts (message_id, id);
