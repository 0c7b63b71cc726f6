-- A folder page in three statements (session, connection, audit row): the attempt limits'
-- arithmetic as functions, so that a page can compare a user's assumptions while it loads the
-- connection and count one in the statement that audits it.

-- The start of the `secs`-second window that holds now.
create function attempt_window(secs float8) returns timestamptz
language sql stable parallel safe as $$
    select date_bin(make_interval(secs => secs), now(), 'epoch')
$$;

-- Attempts of `p_kind` by `p_subject` in this window and the one before: what a limit compares.
create function attempts_spent(p_kind text, p_subject text, secs float8) returns int4
language sql stable parallel safe as $$
    select coalesce(sum(n), 0)::int4 from attempts
    where kind = p_kind and subject = p_subject
      and window_start >= attempt_window(secs) - make_interval(secs => secs)
$$;

-- Counts one attempt whose limit was compared before the work it guards; nothing (null) when
-- `p_kind` is null. Returns this window's count.
create function attempt_count(p_kind text, p_subject text, secs float8) returns int4
language sql volatile as $$
    insert into attempts (kind, subject, window_start, n)
    select p_kind, p_subject, attempt_window(secs), 1
    where p_kind is not null
    on conflict (kind, subject, window_start) do update set n = attempts.n + 1
    returning n
$$;

-- Notices an account has not read: what every page's header shows, read with the user.
create function unread_notices(p_user bigint) returns int8
language sql stable parallel safe as $$
    select count(*) from notices where user_id = p_user and read_at is null
$$;
