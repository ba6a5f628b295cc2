-- The privileges of cm-tracker's runtime role on PostgreSQL, granted by the role that owns the tables (the one the
-- migrations ran as). `flask --app wsgi db grant-runtime ROLE` runs this script after every `flask db upgrade`; it
-- starts from nothing each time, so running it twice grants the same, and a table a new migration adds is covered.
--
-- {role} is the runtime role, {database} this database, {append_only} the tables whose models are append-only (the
-- ledger, the audit trail and the record versions) and {working} the models' other tables. The runtime role owns
-- nothing, so it can neither ALTER, DROP nor TRUNCATE a table nor disable a trigger; on the append-only tables it
-- may only read and insert, and a table no model names (alembic_version, the migrations' own) it cannot touch.

-- PostgreSQL 14 and older let every role create tables in the public schema; 15 and newer already do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT CONNECT ON DATABASE {database} TO {role};

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON {working} TO {role};
GRANT SELECT, INSERT ON {append_only} TO {role};

-- Inserting takes ids from the sequences; `flask demo scale` moves them past the ids it writes itself. A sequence
-- moved back only makes later inserts collide with existing ids: it changes no row.
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role};
