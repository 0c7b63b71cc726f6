-- Browsing: S3-compatible endpoints per connection, buckets added by name, and bucket regions.

-- A connection may target an S3-compatible store (MinIO, Ceph RGW) that implements AssumeRole.
-- Still only a role ARN and an ExternalId: these are plain URLs, never keys.
alter table connections
    add column s3_endpoint text check (length(s3_endpoint) <= 2048),
    add column sts_endpoint text check (length(sts_endpoint) <= 2048);

-- Buckets the user named by hand, for roles without s3:ListAllMyBuckets. Plain names only.
create table connection_buckets (
    connection_id bigint not null references connections (id) on delete cascade,
    name text not null check (length(name) between 3 and 63),
    added_at timestamptz not null default now(),
    primary key (connection_id, name)
);

-- Where each bucket lives. A region is public information, not a credential, so it may be
-- remembered; keyed by endpoint because S3-compatible stores have their own bucket namespaces.
create table bucket_regions (
    endpoint text not null,
    bucket text not null,
    region text not null check (length(region) between 1 and 64),
    seen_at timestamptz not null default now(),
    primary key (endpoint, bucket)
);
