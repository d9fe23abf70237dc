-- Single sign-on in progress: what the browser was sent to the issuer with (state, stored hashed; nonce; the PKCE
-- verifier) and where it goes afterwards. Each is used once and lives ten minutes.
CREATE TABLE IF NOT EXISTS public.oidc_sign_ins (
    state_hash  text PRIMARY KEY,
    nonce       text NOT NULL,
    verifier    text NOT NULL,
    return_to   text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
