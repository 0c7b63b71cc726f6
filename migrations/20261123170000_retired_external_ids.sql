-- An ExternalId is never used twice, even after its connection is deleted: the deleted
-- connection's role may still trust it, and whoever chose the same ID later would reach that
-- role through Crossview (the confused deputy). Deleting a connection retires its ID; creating
-- one with a retired ID fails exactly like a taken one.
create table retired_external_ids (
    external_id text primary key,
    retired_at timestamptz not null default now()
);

create function connections_retire_external_id() returns trigger
language plpgsql as $$
begin
    insert into retired_external_ids (external_id) values (old.external_id)
        on conflict do nothing;
    return old;
end;
$$;

create trigger connections_retire_external_id
    after delete on connections
    for each row execute function connections_retire_external_id();

create function connections_refuse_retired_external_id() returns trigger
language plpgsql as $$
begin
    if exists (select 1 from retired_external_ids where external_id = new.external_id) then
        raise exception 'this ExternalId was used before'
            using errcode = 'unique_violation', constraint = 'connections_external_id_key';
    end if;
    return new;
end;
$$;

create trigger connections_refuse_retired_external_id
    before insert or update of external_id on connections
    for each row execute function connections_refuse_retired_external_id();
