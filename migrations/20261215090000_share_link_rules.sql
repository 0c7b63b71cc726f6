-- What a share link's owner may ask of whoever holds it: a password (its Argon2 hash), a number
-- of downloads (counted as each is handed out), the client networks it opens from, and no
-- deadline at all where the deployment allows it (SHARE_ALLOW_NO_EXPIRY).
alter table share_links
    alter column expires_at drop not null,
    add column password_hash text,
    add column max_downloads integer check (max_downloads between 1 and 100000),
    add column downloads integer not null default 0 check (downloads >= 0),
    add column networks cidr[] check (cardinality(networks) between 1 and 20);

-- the counter never passes the limit: a download is counted only while one is left
alter table share_links add constraint share_links_downloads_within
    check (max_downloads is null or downloads <= max_downloads);
