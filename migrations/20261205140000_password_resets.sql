-- One-time links that set a new password, issued by an administrator or the operator for a user
-- who cannot sign in. Only the token's hash is kept; a link lives an hour and works once, and a
-- newer one for the same account replaces it.
create table password_resets (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id) on delete cascade,
    token_hash bytea not null unique,
    -- the administrator who issued it; null: the operator
    issued_by bigint references users (id) on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz
);
create index password_resets_user on password_resets (user_id) where used_at is null;
