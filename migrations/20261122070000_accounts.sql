-- accounts, their sessions, and the sign-in attempts that rate limiting counts.

create table users (
    id bigint generated always as identity primary key,
    -- stored as typed; uniqueness and look-ups are case-insensitive through the index below
    email text not null check (length(email) between 3 and 254),
    -- argon2id PHC string; never a plain password
    password_hash text not null,
    is_admin boolean not null default false,
    disabled boolean not null default false,
    -- compared against the copy in each session: replacing it (on a password change) ends every
    -- other session, without the password hash ever being written into session data
    auth_epoch uuid not null default gen_random_uuid(),
    created_at timestamptz not null default now()
);

create unique index users_email_key on users (lower(email));

-- the tower-sessions postgres store's own table, created here so that one migrator owns the schema
create schema if not exists tower_sessions;

create table if not exists tower_sessions.session (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);

create index if not exists session_expiry_idx on tower_sessions.session (expiry_date);

-- failed sign-ins, counted per email and per client address in a sliding window; stateless
-- servers share the limit through this table
create table failed_logins (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    email text not null,
    address text
);

create index failed_logins_email_at on failed_logins (lower(email), at);
create index failed_logins_address_at on failed_logins (address, at);
