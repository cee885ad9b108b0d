-- The team-mode projection of the library: scrubbed traffic, services, modes
-- and library entries, per tenant. Owned by the migrating (owner) role; the
-- application role `ghost migrate` creates owns nothing here.
--
-- Tenancy is enforced by the database, not by the queries: every tenant table
-- has tenant_id, row-level security enabled AND forced, and a policy that
-- admits only rows of the tenant named by the per-transaction setting
-- `ghost.tenant` (set_config('ghost.tenant', $1, true)). With no tenant set,
-- ghost_tenant() is NULL and a query sees, inserts, updates and deletes nothing.

CREATE FUNCTION ghost_tenant() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('ghost.tenant', true), '') $$;

CREATE TABLE services (
    tenant_id     text   NOT NULL,
    name          text   NOT NULL,
    upstream      text   NOT NULL DEFAULT '',
    first_seen_us bigint NOT NULL,
    last_seen_us  bigint NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Scrubbed exchanges, one row per capture id. Every row carries the
-- scrubber's seal (scrubbed_at_us > 0): the CHECK holds whatever the SQL, so
-- no INSERT or UPDATE can store an unsealed row, and the trigger below keeps a
-- newer seal from being replaced by an older one.
CREATE TABLE traffic (
    tenant_id        text     NOT NULL,
    capture_id       text     NOT NULL,
    service          text     NOT NULL,
    session_id       text     NOT NULL,
    method           text     NOT NULL,
    uri              text     NOT NULL,
    status           integer  NOT NULL,
    request_headers  jsonb    NOT NULL,
    request_body     bytea    NOT NULL,
    response_headers jsonb    NOT NULL,
    response_body    bytea    NOT NULL,
    started_at_us    bigint   NOT NULL,
    duration_us      bigint   NOT NULL,
    upstream         text     NOT NULL,
    http_version     text     NOT NULL,
    body_truncated   boolean  NOT NULL,
    scrubbed_at_us   bigint   NOT NULL CONSTRAINT traffic_sealed CHECK (scrubbed_at_us > 0),
    scrub_config_id  text     NOT NULL,
    findings         jsonb    NOT NULL,
    PRIMARY KEY (tenant_id, capture_id)
);
CREATE INDEX traffic_by_service_time ON traffic (tenant_id, service, started_at_us DESC);

CREATE FUNCTION traffic_seal_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.scrubbed_at_us < OLD.scrubbed_at_us THEN
        RAISE EXCEPTION 'traffic %: a scrub sealed at % cannot replace one sealed at %',
            OLD.capture_id, NEW.scrubbed_at_us, OLD.scrubbed_at_us
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER traffic_seal_guard BEFORE UPDATE ON traffic
    FOR EACH ROW EXECUTE FUNCTION traffic_seal_guard();

CREATE TABLE modes (
    tenant_id     text   NOT NULL,
    -- `global` or `service:<name>`, as the modes topic keys them.
    scope         text   NOT NULL,
    mode          text   NOT NULL CHECK (mode IN ('LEARN', 'MOCK', 'PASSTHROUGH')),
    change_id     text   NOT NULL,
    changed_at_us bigint NOT NULL,
    actor         text   NOT NULL,
    PRIMARY KEY (tenant_id, scope)
);

CREATE TABLE library_entries (
    tenant_id     text   NOT NULL,
    entry_id      text   NOT NULL,
    service       text   NOT NULL,
    source        text   NOT NULL,
    request       jsonb  NOT NULL,
    response      jsonb  NOT NULL,
    changed_at_us bigint NOT NULL,
    PRIMARY KEY (tenant_id, entry_id)
);

-- Where the projector is in each topic partition, written in the same
-- transaction as the rows it projected (effectively-once). Not tenant data.
CREATE TABLE projector_offsets (
    topic       text    NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['services', 'traffic', 'modes', 'library_entries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = ghost_tenant()) WITH CHECK (tenant_id = ghost_tenant())',
            t);
    END LOOP;
END
$$;
