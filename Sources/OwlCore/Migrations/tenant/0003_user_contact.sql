-- What on-call needs to reach a person: their zone (for local times), a phone in E.164, a Slack member id.
ALTER TABLE users
    ADD COLUMN timezone      text NOT NULL DEFAULT 'UTC',
    ADD COLUMN phone         text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    ADD COLUMN slack_user_id text CHECK (slack_user_id ~ '^[UW][A-Z0-9]{2,20}$');
