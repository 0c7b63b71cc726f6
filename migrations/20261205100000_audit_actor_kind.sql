-- Who acted, as a kind: a user (actor_id set), the operator (a command on the server), or
-- anonymous (someone holding a share link). Derived from hashed fields, so the chain covers it,
-- and stored, so the console filters on it by index.
alter table audit_events add column actor_kind text not null generated always as (
    case
        when actor_id is not null then 'user'
        when action = 'share.open' then 'anonymous'
        else 'operator'
    end
) stored;
create index audit_events_actor_kind on audit_events (actor_kind, at, id)
    where actor_kind <> 'user';
