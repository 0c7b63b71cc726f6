-- Identities at OpenID providers, each linked to one account: made when single sign-on creates
-- the account, or once the account's password proved its owner. `subject` is the provider's
-- stable id for the person (`sub`); `email` is what the provider said then, for the admin pages.
-- An account made by single sign-on has no password: its `password_hash` is '!sso', which no
-- password hashes to.
create table sso_identities (
    provider text not null check (provider ~ '^[a-z0-9-]{1,32}$'),
    subject text not null check (length(subject) between 1 and 255),
    user_id bigint not null references users (id) on delete cascade,
    email text not null,
    linked_at timestamptz not null default now(),
    last_used_at timestamptz,
    primary key (provider, subject)
);
create index sso_identities_user on sso_identities (user_id);
