-- Seeds the audit trail with :rows rows over the last ten months, chained as the database
-- would have chained them, for scripts/bench_audit.py. Run on a database whose trail is empty:
--   psql "$DATABASE_URL" -v rows=10000000 -f scripts/audit_seed.sql
-- Spread (of 10 million): 1,000 actors (10k rows each), 2,000 connections in 200 accounts,
-- 20 actions (list_objects 40%, download 15%, …, admin.grant 10 rows in all), 2% refused and 1%
-- failed, 500 buckets plus `payroll` (1 row in 1,000), keys under 12 prefixes.
\set ON_ERROR_STOP on
set work_mem = '2GB';
set maintenance_work_mem = '2GB';

insert into users (email, password_hash)
select 'bench-' || n || '@example.com', 'x' from generate_series(1, 1000) n
on conflict do nothing;

select audit_partition(date_trunc('month', now(), 'UTC') - make_interval(months => m))
from generate_series(0, 9) m;

do $$ begin
    if (select max(last_id) from audit_chain) <> 0 then
        raise exception 'the audit trail is not empty: seed a fresh database';
    end if;
end $$;

with base as (
    select min(id) as first_user,
           date_trunc('month', now(), 'UTC') - interval '9 months' as since
    from users where email like 'bench-%'
), seeded as (
    select g as id,
           since + (now() - interval '1 minute' - since) * (g::float8 / :rows) as at,
           first_user + (g * 7919) % 1000 as actor_id,
           1 + (g * 104729) % 2000 as connection_id,
           (123456789000 + ((1 + (g * 104729) % 2000) % 200))::text as account_id,
           case when g % 1000000 = 0 then 'admin.grant'
                else (array['list_objects', 'list_objects', 'list_objects', 'list_objects',
                            'list_objects', 'list_objects', 'list_objects', 'list_objects',
                            'download', 'download', 'download', 'details', 'preview', 'upload',
                            'upload.start', 'delete', 'copy', 'share.create', 'share.open',
                            'list_buckets'])[1 + g % 20] end as action,
           case when g % 1000 = 1 then 'payroll' else 'bucket-' || (g * 13) % 500 end as bucket,
           'reports/' || g % 12 || '/' || g || '.csv' as key,
           case when g % 50 = 0 then 'Denied' when g % 97 = 0 then 'Unexpected' else 'ok' end as outcome,
           case when g % 50 = 0 then 'refused' when g % 97 = 0 then 'failed' else 'ok' end as class,
           md5(g::text) as aws_request_id,
           '{"with_external_id": true}'::jsonb as detail
    from base, generate_series(1::bigint, :rows) g
), chained as (
    select *, audit_chain_agg(audit_canonical(id, at, actor_id, connection_id, account_id,
                action, bucket, key, outcome, class, aws_request_id, detail))
              over (order by id rows unbounded preceding) as hash
    from seeded
)
insert into audit_events
select id, at, actor_id, connection_id, account_id, action, bucket, key, outcome, class,
       aws_request_id, detail,
       coalesce(lag(hash) over (order by id),
                '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea),
       hash
from chained;

-- all in shard 0, whose place is the id (seq left null, as rows from before shards)
update audit_chain set (last_seq, last_id, last_hash, last_at) =
    (select id, id, hash, at from audit_events order by at desc, id desc limit 1)
where shard = 0;
select setval('audit_event_ids', :rows);

vacuum analyze audit_events;
