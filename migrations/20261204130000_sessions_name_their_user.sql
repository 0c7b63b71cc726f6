-- A session names its signed-in user in a column too (it is also inside the session's data), so
-- that a page reads its session and that user in one query. Sessions saved before this column
-- existed have none, and their user is read on its own as before.
alter table tower_sessions.session
    add column user_id bigint references users (id) on delete cascade;
