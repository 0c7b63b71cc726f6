-- Passkeys (WebAuthn). Each account gets a random handle that authenticators keep with its
-- passkeys, so a passkey names its account at sign-in without an address being typed.
alter table users add column webauthn_id uuid not null default gen_random_uuid();
create unique index users_webauthn_id on users (webauthn_id);

-- A passkey: the authenticator's credential id and public key with its signature counter (as
-- webauthn-rs keeps them, in `passkey`), named by its owner. Public material only: the private
-- key never leaves the authenticator.
create table passkeys (
    id bigserial primary key,
    user_id bigint not null references users (id) on delete cascade,
    credential_id bytea not null unique,
    name text not null check (length(name) between 1 and 64),
    passkey jsonb not null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz
);
create index passkeys_user on passkeys (user_id);
