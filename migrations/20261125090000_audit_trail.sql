-- The audit trail at scale: monthly partitions, a SHA-256 hash chain, counted anonymous junk,
-- and what the admin console needs (admin-disabled connections, last sign-in).

alter table users add column last_sign_in_at timestamptz;

-- An administrator's switch, apart from the verification status: enabling restores whatever
-- the connection was before.
alter table connections
    add column disabled_at timestamptz,
    add column disabled_by bigint references users (id) on delete set null;
create index connections_account on connections (account_id, id);

-- Unknown share tokens and failed sign-ins: a count per day and kind, never a row each.
create table anonymous_counts (
    day date not null,
    kind text not null,
    n bigint not null,
    primary key (day, kind)
);

-- The chain's head: one row, locked by every append, so that concurrent writers take turns and
-- each row's hash covers the row before it. It holds the last row's id, hash and time.
create table audit_chain (
    only_row boolean primary key default true check (only_row),
    last_id bigint not null,
    last_hash bytea not null,
    last_at timestamptz not null,
    -- every month before this has its partition
    partitions_until timestamptz not null
);

-- Months exported by `server audit archive` and dropped: where the remaining chain starts.
create table audit_archives (
    month date primary key,
    first_id bigint not null,
    last_id bigint not null,
    last_hash bytea not null,
    rows bigint not null,
    file text not null,
    file_sha256 text not null,
    archived_at timestamptz not null default now()
);

-- One field of a row's canonical form: its UTF-8 length, a colon and the text, or "-" for
-- null. Length-prefixed, so no key, email or detail can forge a field boundary.
create function audit_field(v text) returns text
language sql immutable parallel safe as $$
    select case when v is null then '-' else octet_length(v)::text || ':' || v end
$$;

-- What a row's hash covers, in this order. scripts/audit_verify.py and app::audit::chain
-- compute the same bytes; change all three or none.
create function audit_canonical(
    id bigint, at timestamptz, actor_id bigint, connection_id bigint, account_id text,
    action text, bucket text, key text, outcome text, class text, aws_request_id text,
    detail jsonb
) returns bytea
language sql stable parallel safe as $$
    select convert_to(
        audit_field(id::text)
        || audit_field(to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || audit_field(actor_id::text) || audit_field(connection_id::text)
        || audit_field(account_id) || audit_field(action) || audit_field(bucket)
        || audit_field(key) || audit_field(outcome) || audit_field(class)
        || audit_field(aws_request_id) || audit_field(detail::text),
        'UTF8')
$$;

-- The chain as an aggregate: run as a window over rows in id order it yields each row's hash.
-- Used to chain existing rows here and by the benchmark's seed.
create function audit_chain_step(state bytea, canonical bytea) returns bytea
language sql immutable strict parallel safe as $$ select sha256(state || canonical) $$;
create aggregate audit_chain_agg(bytea) (
    sfunc = audit_chain_step,
    stype = bytea,
    initcond = '\x0000000000000000000000000000000000000000000000000000000000000000'
);

alter table audit_events rename to audit_events_unchained;
drop trigger audit_events_append_only on audit_events_unchained;
drop index audit_events_at;
drop index audit_events_connection;

create table audit_events (
    -- gapless, in the order the chain was written; `at` never decreases along it
    id bigint not null,
    at timestamptz not null,
    actor_id bigint,
    connection_id bigint,
    -- the connection's AWS account when the row was written (searchable by index)
    account_id text,
    action text not null,
    bucket text,
    key text,
    outcome text not null,
    class text not null check (class in ('ok', 'refused', 'failed')),
    aws_request_id text,
    detail jsonb not null default '{}',
    prev_hash bytea not null,
    hash bytea not null,
    primary key (at, id)
) partition by range (at);

-- Every search is "these filters, newest first": one index per filter, each ending in (at, id)
-- so a page is a range scan and the next page starts where the last one ended.
create index audit_events_actor on audit_events (actor_id, at, id);
-- with the class and action, so the admin pages count a connection's last 24 hours from the index
create index audit_events_connection on audit_events (connection_id, at, id) include (class, action);
create index audit_events_account on audit_events (account_id, at, id);
create index audit_events_action on audit_events (action, at, id);
create index audit_events_bucket on audit_events (bucket, at, id);
create index audit_events_not_ok on audit_events (class, at, id) where class <> 'ok';

-- Append-only: no row changes, no row goes, except by archiving a whole month (detach + drop).
-- Row triggers reach every partition; truncate is refused on the parent and on each partition.
create trigger audit_events_append_only
    before update or delete on audit_events
    for each row execute function audit_events_refuse_change();
create trigger audit_events_no_truncate
    before truncate on audit_events
    for each statement execute function audit_events_refuse_change();

-- The partition holding `month` (any time in it), created if missing.
create function audit_partition(month timestamptz) returns void
language plpgsql as $$
declare
    v_first timestamptz := date_trunc('month', month, 'UTC');
    v_name text := 'audit_events_' || to_char(v_first at time zone 'UTC', 'YYYY_MM');
begin
    if to_regclass(v_name) is not null then
        return;
    end if;
    execute format(
        'create table %I partition of audit_events for values from (%L) to (%L)',
        v_name, v_first, v_first + interval '1 month');
    execute format(
        'create trigger audit_events_no_truncate before truncate on %I
         for each statement execute function audit_events_refuse_change()', v_name);
end;
$$;

-- Partitions from this month through two months ahead; the head remembers how far they go.
create function audit_ensure_partitions() returns void
language plpgsql as $$
declare
    v_first timestamptz := date_trunc('month', now(), 'UTC');
    ahead int;
begin
    -- instances starting together create each partition once
    perform pg_advisory_xact_lock(hashtext('audit_partitions'));
    for ahead in 0..2 loop
        perform audit_partition(v_first + make_interval(months => ahead));
    end loop;
    update audit_chain
    set partitions_until = greatest(partitions_until, v_first + interval '3 months');
end;
$$;

-- outcome name → class, for rows written before the class was stored
create function audit_class_of(outcome text) returns text
language sql immutable as $$
    select case
        when outcome = 'ok' then 'ok'
        when outcome in ('revoked', 'expired', 'unknown', 'Unauthorized', 'Forbidden',
                         'AccountDisabled', 'ConnectionDisabled', 'RateLimited', 'Denied',
                         'EndpointNotAllowed', 'ConnectionNotVerified', 'ShareLinkGone',
                         'TrustDenied', 'TrustTooOpen', 'AccountMismatch', 'KmsDenied',
                         'RegionDisabled', 'UploadTooLarge', 'UploadTypeRefused')
            then 'refused'
        else 'failed'
    end
$$;

-- Existing rows, re-numbered in time order and chained.
do $$
declare
    month timestamptz;
begin
    for month in
        select distinct date_trunc('month', at, 'UTC') from audit_events_unchained
    loop
        perform audit_partition(month);
    end loop;
end;
$$;

insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket, key,
                          outcome, class, aws_request_id, detail, prev_hash, hash)
select id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class,
       aws_request_id, detail,
       coalesce(lag(hash) over (order by id), '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
       hash
from (
    select *, audit_chain_agg(audit_canonical(id, at, actor_id, connection_id, account_id,
                                              action, bucket, key, outcome, class,
                                              aws_request_id, detail))
                  over (order by id rows unbounded preceding) as hash
    from (
        select row_number() over (order by e.at, e.id) as id, e.at, e.actor_id,
               e.connection_id, c.account_id, e.action, e.bucket, e.key, e.outcome,
               audit_class_of(e.outcome) as class, e.aws_request_id, e.detail
        from audit_events_unchained e left join connections c on c.id = e.connection_id
    ) numbered
) chained;

insert into audit_chain (last_id, last_hash, last_at, partitions_until)
select coalesce(max(id), 0),
       coalesce((select hash from audit_events order by at desc, id desc limit 1),
                '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
       coalesce(max(at), '-infinity'),
       '-infinity'
from audit_events;

drop table audit_events_unchained;
select audit_ensure_partitions();

-- Appends one row to the chain, in the caller's transaction: the head's lock is held until it
-- commits, so rows are chained in the order they become visible and ids stay gapless (a
-- rolled-back append rolls the head back too). The time is taken under the lock, so it never
-- decreases along the chain and every month is one contiguous stretch of it.
create function audit_append(
    p_actor_id bigint, p_connection_id bigint, p_action text, p_bucket text, p_key text,
    p_outcome text, p_class text, p_aws_request_id text, p_detail jsonb
) returns bigint
language plpgsql as $$
declare
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
    select * into strict head from audit_chain for update;
    v_id := head.last_id + 1;
    v_at := greatest(clock_timestamp(), head.last_at);
    if v_at >= head.partitions_until then
        perform audit_ensure_partitions();
    end if;
    v_hash := sha256(head.last_hash || audit_canonical(
        v_id, v_at, p_actor_id, p_connection_id, v_account, p_action, p_bucket, p_key,
        p_outcome, p_class, p_aws_request_id, p_detail));
    insert into audit_events (id, at, actor_id, connection_id, account_id, action, bucket, key,
                              outcome, class, aws_request_id, detail, prev_hash, hash)
    values (v_id, v_at, p_actor_id, p_connection_id, v_account, p_action, p_bucket, p_key,
            p_outcome, p_class, p_aws_request_id, p_detail, head.last_hash, v_hash);
    update audit_chain set last_id = v_id, last_hash = v_hash, last_at = v_at;
    return v_id;
end;
$$;
