-- Whether a grant is live, neither revoked nor lapsed: the one place that says so (every query
-- that lets a grantee in, lists what they may open or answers an invitation calls it). A plain
-- SQL function, which the planner inlines, so the partial indexes on `revoked_at is null` still
-- serve the queries that use it.
create function grant_live(revoked_at timestamptz, expires_at timestamptz) returns boolean
language sql stable parallel safe as $$
    select revoked_at is null and (expires_at is null or expires_at > now())
$$;
