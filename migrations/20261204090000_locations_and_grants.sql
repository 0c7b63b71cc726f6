-- Locations: a connection restricted to some buckets and prefixes, and teammates granted some of
-- them. Nothing here is a credential: a location is a place in S3, a grant a promise Crossview
-- keeps by narrowing each assumption's session policy to it.
create table locations (
    id bigint generated always as identity primary key,
    connection_id bigint not null references connections (id) on delete cascade,
    bucket text not null check (length(bucket) between 3 and 63),
    -- '' (the whole bucket) or a prefix ending in '/'; '{user}' stands for the acting user's id
    prefix text not null check (length(prefix) <= 256 and (prefix = '' or right(prefix, 1) = '/')),
    writable boolean not null,
    created_at timestamptz not null default now(),
    unique (connection_id, bucket, prefix)
);

create table grants (
    id bigint generated always as identity primary key,
    location_id bigint not null references locations (id) on delete cascade,
    grantee_id bigint not null references users (id) on delete cascade,
    -- read-write only where the location itself is (checked where grants are made and used)
    writable boolean not null,
    expires_at timestamptz,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

-- one live grant per teammate and location; revoked ones stay as history
create unique index grants_live on grants (location_id, grantee_id) where revoked_at is null;
create index grants_grantee on grants (grantee_id) where revoked_at is null;

-- a link made under a grant dies with it
alter table share_links add column grant_id bigint references grants (id) on delete cascade;
