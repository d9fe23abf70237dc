-- Messages a service renders when they are sent, not when they are queued (a page to a person: bundled with others
-- to the same number, dropped if the alert is acknowledged before it goes, posted to Slack as the alert's latest
-- state). They share the outbox with stored HTTP calls: one table, one claim with a lease, one retry rule, one record
-- of attempts. `handler` names who delivers a message: `http` (the outbox sends the stored request) or a handler the
-- service registers, which decides what goes out together and turns the payload into calls.
ALTER TABLE outbox
    ADD COLUMN handler text NOT NULL DEFAULT 'http',
    -- What the message is about (an alert, an incident, a ticket), so that its service can find or drop its messages.
    ADD COLUMN subject_id uuid,
    -- The step of the process that queued it (an escalation step), for a service that acts when a whole step fails.
    ADD COLUMN stage integer,
    -- How a handler's message goes (a Slack DM, an SMS, ...), to whom, and what it says.
    ADD COLUMN channel text,
    ADD COLUMN recipient text,
    ADD COLUMN payload jsonb,
    -- What the provider returned for a delivered message (a Slack `channel:ts`, a Twilio SID).
    ADD COLUMN provider_reference text,
    ALTER COLUMN method DROP NOT NULL,
    ALTER COLUMN url DROP NOT NULL,
    ADD CONSTRAINT outbox_http_request CHECK (handler <> 'http' OR (method IS NOT NULL AND url IS NOT NULL)),
    ADD CONSTRAINT outbox_handler_message CHECK (handler = 'http' OR (channel IS NOT NULL AND recipient IS NOT NULL AND payload IS NOT NULL));

-- A message no longer needed before it went (its alert was acknowledged) is cancelled.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'sandboxed', 'failed', 'cancelled'));

DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (handler, next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_subject_idx ON outbox (subject_id) WHERE subject_id IS NOT NULL;
-- Rate limits and replies look up the latest message to one recipient by one channel.
CREATE INDEX outbox_recipient_idx ON outbox (channel, recipient, sent_at DESC) WHERE channel IS NOT NULL;
