-- Two database roles. The role that owns the schema (it runs these migrations) may do anything;
-- the role that serves requests gets what serving needs and, on the audit trail, only reading
-- and appending. Appending goes through audit_append, which runs with its owner's rights
-- (security definer): the serving role can add a row at the head of the chain and nothing else.
-- It cannot update, delete, truncate, detach a partition, disable a trigger or move the head,
-- since those need a privilege it is never given or the table's ownership.
--
-- With one role for both (one DATABASE_URL) nothing changes: the owner keeps every right.

-- A security definer function runs with a search path of its own, so that no object the caller
-- creates can stand in for one it uses.
alter function audit_append(bigint, bigint, text, text, text, text, text, text, jsonb)
    security definer set search_path = pg_catalog, public;
-- Partitions are created ahead (by start-up) and on demand (by an append past the last one).
alter function audit_ensure_partitions()
    security definer set search_path = pg_catalog, public;
revoke execute on function audit_append(bigint, bigint, text, text, text, text, text, text, jsonb)
    from public;
revoke execute on function audit_ensure_partitions() from public;

-- Gives `serving` what serving needs; run by `server migrate` after every migration, since a new
-- table needs its grant too. Idempotent.
create function crossview_grant_serving(serving name) returns void
language plpgsql as $$
declare
    t record;
begin
    if serving = current_user then
        return;
    end if;
    execute format('grant usage on schema public, tower_sessions to %I', serving);
    -- Every table but the audit trail's (and sqlx's own): read and write.
    for t in
        select schemaname, tablename from pg_tables
        where schemaname in ('public', 'tower_sessions')
          and tablename not like 'audit\_%'
          and tablename <> '_sqlx_migrations'
    loop
        execute format('grant select, insert, update, delete on %I.%I to %I',
                       t.schemaname, t.tablename, serving);
    end loop;
    -- The audit trail, its head and its archives: read only, whatever was granted before (a
    -- partition is read through its parent, so partitions get nothing).
    for t in
        select schemaname, tablename from pg_tables
        where schemaname = 'public' and tablename like 'audit\_%'
    loop
        execute format('revoke all on %I.%I from %I', t.schemaname, t.tablename, serving);
    end loop;
    execute format('grant select on audit_events, audit_chain, audit_archives to %I', serving);
    -- Start-up reads which migrations are applied.
    execute format('grant select on _sqlx_migrations to %I', serving);
    execute format('grant usage, select on all sequences in schema public, tower_sessions to %I',
                   serving);
    execute format('grant execute on function audit_append(bigint, bigint, text, text, text, text,
                    text, text, jsonb), audit_ensure_partitions() to %I', serving);
end;
$$;
revoke execute on function crossview_grant_serving(name) from public;
