-- Rotating a connection's ExternalId without downtime (connections::ssr::rotation): the new ID
-- waits in `next_external_id` while the role's trust policy admits both; once Crossview has
-- verified it, it replaces the old one, which is retired with its connection noted, so that the
-- connection doctor can check that the role no longer admits it. An ID is never given twice,
-- whichever column held it.
alter table connections add column next_external_id text unique;
alter table retired_external_ids
    add column connection_id bigint references connections (id) on delete set null;

create or replace function connections_retire_external_id() returns trigger
language plpgsql as $$
begin
    insert into retired_external_ids (external_id) values (old.external_id)
        on conflict do nothing;
    -- A rotation under way: the role may already trust the new ID too.
    if old.next_external_id is not null then
        insert into retired_external_ids (external_id) values (old.next_external_id)
            on conflict do nothing;
    end if;
    return old;
end;
$$;

create or replace function connections_refuse_retired_external_id() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from retired_external_ids
               where external_id in (new.external_id, new.next_external_id))
       or exists (select 1 from connections c
                  where c.id <> new.id
                    and (c.external_id = new.next_external_id
                         or c.next_external_id = new.external_id))
       or new.external_id = new.next_external_id then
        raise exception 'this ExternalId was used before'
            using errcode = 'unique_violation', constraint = 'connections_external_id_key';
    end if;
    return new;
end;
$$;

drop trigger connections_refuse_retired_external_id on connections;
create trigger connections_refuse_retired_external_id
    before insert or update of external_id, next_external_id on connections
    for each row execute function connections_refuse_retired_external_id();
