-- Extensions live in public so that every tenant schema (search_path: tenant, public) can use them.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
