-- The re-fire function is now one for all tenants (public.alerts_refire, global migration 0002).
DROP FUNCTION IF EXISTS alerts_refire(text[], bigint[], timestamptz[], text[], text[], text[], text[], text[], text[]);
