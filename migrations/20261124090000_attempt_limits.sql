-- Attempt limits: one counter per (limit, subject, window) instead of one row per failure.
-- An attempt is counted before the work it guards, by an upsert that locks the counter's row,
-- so parallel attempts cannot all pass the check before any of them is counted.
drop table failed_logins;

create table attempts (
    -- which limit: 'sign_in.email', 'share.unknown', …
    kind text not null,
    -- whom it counts: a lower-cased email, a client address, a user id
    subject text not null,
    -- start of the fixed window this counter covers
    window_start timestamptz not null,
    n integer not null check (n >= 0),
    primary key (kind, subject, window_start)
);

-- trimming old windows
create index attempts_window_start on attempts (window_start);
