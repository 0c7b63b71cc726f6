-- Share links: a signed-in user shares one object until a deadline. Only a hash of the link's
-- random token is kept, so the table cannot be turned back into working links.
create table share_links (
    id bigint generated always as identity primary key,
    token_hash bytea not null unique,
    owner_id bigint not null references users (id) on delete cascade,
    connection_id bigint not null references connections (id) on delete cascade,
    bucket text not null,
    key text not null,
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

create index share_links_owner on share_links (owner_id, created_at desc);
