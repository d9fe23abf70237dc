-- Local accounts: a bcrypt hash, never the password. The limits on failed sign-ins live in public.sign_in_failures.
ALTER TABLE users ADD COLUMN password_hash text;
ALTER TABLE users ADD COLUMN password_set_at timestamptz;
