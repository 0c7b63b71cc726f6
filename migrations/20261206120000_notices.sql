-- Notices: what Crossview tells an account about itself (a new sign-in, a factor added, a
-- connection disabled by an administrator, an invitation, a share link opened), kept for the
-- owner to read in the app. With a mail server the same words are also sent by email; without
-- one, this list is where they are read. Plain text and a path inside Crossview only.
create table notices (
    id bigint generated always as identity primary key,
    user_id bigint not null references users (id) on delete cascade,
    subject text not null check (length(subject) <= 200),
    body text not null check (length(body) <= 4000),
    link_label text check (length(link_label) <= 100),
    link_path text check (link_path like '/%' and length(link_path) <= 2000),
    created_at timestamptz not null default now(),
    read_at timestamptz
);
create index notices_user on notices (user_id, id desc);
create index notices_unread on notices (user_id) where read_at is null;

-- A share link's owner may ask to be told when it is opened: at most one notice an hour a link.
alter table share_links add column notify_open boolean not null default false;
alter table share_links add column notified_at timestamptz;
