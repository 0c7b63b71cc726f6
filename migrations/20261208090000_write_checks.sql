-- What the connection check learned of the role's write access: per bucket it can list (prefix
-- '') or per location (its prefix), whether S3 would accept a write there. Plain metadata (no
-- credential), replaced whole by each check; pages disable changes where a write was refused.
create table write_checks (
    connection_id bigint not null references connections (id) on delete cascade,
    bucket text not null check (length(bucket) between 1 and 63),
    prefix text not null default '' check (length(prefix) <= 1024),
    writable boolean not null,
    checked_at timestamptz not null default now(),
    primary key (connection_id, bucket, prefix)
);
