-- The audit chain in shards: one head row per shard instead of one for the whole deployment.
-- Every append locked the single head until its transaction committed, so every instance took
-- turns on one row and the trail capped the deployment near that row's rate. Now an append
-- locks only its shard's head, picked by a stable key (the connection, else the actor), and
-- each shard is a hash chain exactly as the single chain was: same canonical form, same hash.
--
-- Ids come from a sequence taken under the shard's lock: unique, increasing along each shard,
-- no longer gapless across the trail (a rolled-back append leaves a gap). What is gapless is a
-- row's `seq`, its position in its shard; a missing row shows as a gap in it. Rows written
-- before this migration are shard 0 with `seq` null, read as their id (they were gapless).
-- `shard` and `seq` are outside the hash: moving a row to another shard or renumbering it
-- breaks the walk of both shards, which is what verify reports.

create table audit_settings (
    only_row boolean primary key default true check (only_row),
    -- appends go to shards 0 .. shards-1; heads above stay, closed, and are still verified
    shards smallint not null check (shards between 1 and 256),
    -- every month before this has its partition (was on the single head)
    partitions_until timestamptz not null
);
insert into audit_settings (shards, partitions_until)
select 4, partitions_until from audit_chain;

alter table audit_chain drop constraint audit_chain_pkey;
alter table audit_chain drop column only_row;
alter table audit_chain drop column partitions_until;
alter table audit_chain add column shard smallint not null default 0;
alter table audit_chain add column last_seq bigint;
update audit_chain set last_seq = last_id;
alter table audit_chain alter column last_seq set not null;
alter table audit_chain alter column shard drop default;
alter table audit_chain add primary key (shard);
-- The other three of the default four, from the genesis.
insert into audit_chain (shard, last_seq, last_id, last_hash, last_at)
select s, 0, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
       '-infinity'
from generate_series(1, 3) s;

alter table audit_events add column shard smallint not null default 0;
alter table audit_events add column seq bigint;

-- Archived months: one row per month and shard that had rows in it.
alter table audit_archives drop constraint audit_archives_pkey;
alter table audit_archives add column shard smallint not null default 0;
alter table audit_archives add column last_seq bigint;
alter table audit_archives add primary key (month, shard);

create sequence audit_event_ids;
select setval('audit_event_ids', greatest(max(last_id), 1), max(last_id) > 0) from audit_chain;

create or replace function audit_ensure_partitions() returns void
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
    v_first timestamptz := date_trunc('month', now(), 'UTC');
    ahead int;
begin
    -- instances starting together create each partition once; no shard's head is touched, so
    -- an append holding its head can call this while another holds the lock
    perform pg_advisory_xact_lock(hashtext('audit_partitions'));
    for ahead in 0..2 loop
        perform audit_partition(v_first + make_interval(months => ahead));
    end loop;
    update audit_settings
    set partitions_until = greatest(partitions_until, v_first + interval '3 months');
end;
$$;

-- Appends one row to its shard's chain, in the caller's transaction: the shard's head is locked
-- until it commits, so the shard's rows are chained in the order they become visible and its
-- `seq` stays gapless. Time is taken under the lock: it never decreases along a shard.
create or replace function audit_append(
    p_actor_id bigint, p_connection_id bigint, p_action text, p_bucket text, p_key text,
    p_outcome text, p_class text, p_aws_request_id text, p_detail jsonb
) returns bigint
language plpgsql security definer set search_path = pg_catalog, public as $$
declare
    settings audit_settings%rowtype;
    head audit_chain%rowtype;
    v_id bigint;
    v_at timestamptz;
    v_account text;
    v_hash bytea;
begin
    -- before the lock: nothing that does not need the chain waits in turn for it
    if p_connection_id is not null then
        select account_id into v_account from connections where id = p_connection_id;
    end if;
    select * into strict settings from audit_settings;
    select * into strict head from audit_chain
    where shard = mod(coalesce(p_connection_id, p_actor_id, 0), settings.shards)
    for update;
    v_id := nextval('audit_event_ids');
    v_at := greatest(clock_timestamp(), head.last_at);
    if v_at >= settings.partitions_until then
        perform audit_ensure_partitions();
    end if;
    v_hash := sha256(head.last_hash || audit_canonical(
        v_id, v_at, p_actor_id, p_connection_id, v_account, p_action, p_bucket, p_key,
        p_outcome, p_class, p_aws_request_id, p_detail));
    insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket, key,
                              outcome, class, aws_request_id, detail, prev_hash, hash, shard, seq)
    values (v_id, v_at, p_actor_id, p_connection_id, v_account, p_action, p_bucket, p_key,
            p_outcome, p_class, p_aws_request_id, p_detail, head.last_hash, v_hash,
            head.shard, head.last_seq + 1);
    update audit_chain
    set last_seq = head.last_seq + 1, last_id = v_id, last_hash = v_hash, last_at = v_at
    where shard = head.shard;
    return v_id;
end;
$$;

-- Sets how many shards appends spread over (`server audit shards N`): heads that do not exist
-- yet start from the genesis; heads above N keep their chain and take no more rows until N
-- grows again. Shards are never dropped, so nothing already chained leaves the walk.
create function audit_set_shards(n smallint) returns void
language plpgsql as $$
begin
    insert into audit_chain (shard, last_seq, last_id, last_hash, last_at)
    select s, 0, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
           '-infinity'
    from generate_series(0, n - 1) s
    on conflict (shard) do nothing;
    update audit_settings set shards = n;
end;
$$;
revoke execute on function audit_set_shards(smallint) from public;

-- The serving role reads the settings like the rest of the trail; the ids' sequence is the
-- append's alone (the generic grant on sequences below would let it burn ids).
create or replace function crossview_grant_serving(serving name) returns void
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
    -- The audit trail, its heads, settings and archives: read only, whatever was granted
    -- before (a partition is read through its parent, so partitions get nothing).
    for t in
        select schemaname, tablename from pg_tables
        where schemaname = 'public' and tablename like 'audit\_%'
    loop
        execute format('revoke all on %I.%I from %I', t.schemaname, t.tablename, serving);
    end loop;
    execute format('grant select on audit_events, audit_chain, audit_archives, audit_settings
                    to %I', serving);
    -- Start-up reads which migrations are applied.
    execute format('grant select on _sqlx_migrations to %I', serving);
    execute format('grant usage, select on all sequences in schema public, tower_sessions to %I',
                   serving);
    execute format('revoke all on sequence audit_event_ids from %I', serving);
    execute format('grant execute on function audit_append(bigint, bigint, text, text, text, text,
                    text, text, jsonb), audit_ensure_partitions() to %I', serving);
end;
$$;
revoke execute on function crossview_grant_serving(name) from public;
