-- AWS connections and the audit log of every role assumption and connection change.

-- A connection is a role ARN plus the ExternalId Crossview generated for it, and plain metadata.
-- By design there is no column here that could hold a credential: every request assumes the role
-- afresh and keeps the temporary credentials in memory for that request only.
create table connections (
    id bigint generated always as identity primary key,
    owner_id bigint not null references users (id) on delete cascade,
    name text not null check (length(name) between 1 and 100),
    -- null until the user pastes the ARN of the role they created
    role_arn text check (length(role_arn) <= 2048),
    external_id text not null check (length(external_id) between 2 and 1224),
    -- the 12-digit account parsed from role_arn
    account_id text check (account_id ~ '^[0-9]{12}$'),
    status text not null default 'pending'
        check (status in ('pending', 'verified', 'failed', 'disabled')),
    last_verified_at timestamptz,
    -- a classified reason code (never raw AWS text)
    last_error text,
    -- the role can also be assumed without the ExternalId (confused-deputy exposure)
    trust_warning boolean not null default false,
    created_at timestamptz not null default now(),
    constraint connections_external_id_key unique (external_id)
);

create index connections_owner on connections (owner_id, id);

-- Append-only. No foreign keys on purpose: the history must outlive deleted users and
-- connections, and a cascade would be an update.
create table audit_events (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    actor_id bigint,
    connection_id bigint,
    action text not null,
    bucket text,
    key text,
    outcome text not null,
    aws_request_id text,
    -- context for humans; never secrets
    detail jsonb not null default '{}'
);

create index audit_events_at on audit_events (at desc);
create index audit_events_connection on audit_events (connection_id, at desc);

create function audit_events_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'audit_events is append-only';
end;
$$;

create trigger audit_events_append_only
    before update or delete or truncate on audit_events
    for each statement execute function audit_events_refuse_change();
