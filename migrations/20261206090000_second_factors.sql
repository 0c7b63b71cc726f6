-- Second factors. An authenticator app's shared secret (RFC 6238), one per account: pending
-- (confirmed_at null) from the setup's start until a first code proves the app holds it. It
-- proves a person holds a phone; it is no credential to anything outside Crossview.
create table totp_factors (
    user_id bigint primary key references users (id) on delete cascade,
    secret bytea not null check (length(secret) between 16 and 64),
    created_at timestamptz not null default now(),
    confirmed_at timestamptz,
    -- The newest time step whose code was accepted: a code works once (RFC 6238, 5.2).
    last_step bigint not null default 0
);

-- Single-use recovery codes, shown once when made; only their hashes are kept.
create table recovery_codes (
    user_id bigint not null references users (id) on delete cascade,
    code_hash bytea not null,
    created_at timestamptz not null default now(),
    used_at timestamptz,
    primary key (user_id, code_hash)
);
