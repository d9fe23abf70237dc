-- Signed-in browsers. The cookie holds a random id; only its SHA-256 is stored, so a copy of this table signs no one
-- in. A session ends at its absolute expiry, after its idle timeout, at sign-out, or when its user signs out everywhere.
CREATE TABLE IF NOT EXISTS public.web_sessions (
    id_hash        text PRIMARY KEY,
    public_id      uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES public.tenants(id) ON DELETE CASCADE,
    user_id        uuid NOT NULL,
    csrf_token     text NOT NULL,
    method         text NOT NULL CHECK (method IN ('password', 'oidc', 'dev')),
    user_agent     text,
    ip_address     text,
    created_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_user_idx ON public.web_sessions (tenant_id, user_id);
CREATE INDEX IF NOT EXISTS web_sessions_expiry_idx ON public.web_sessions (expires_at);

-- Failed sign-ins, by source address (`address:<ip>`) and by account (`account:<tenant>:<email>`, whether or not the
-- account exists, so that a lockout tells nothing about which accounts exist).
CREATE TABLE IF NOT EXISTS public.sign_in_failures (
    key  text NOT NULL,
    at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_idx ON public.sign_in_failures (key, at);

-- Links that let a user set a password (an invitation, or a reset by an admin); single use, stored hashed.
CREATE TABLE IF NOT EXISTS public.password_links (
    token_hash  text PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES public.tenants(id) ON DELETE CASCADE,
    user_id     uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
