-- What the owner chose at setup: a read-only connection is offered no change, and Crossview
-- refuses one before AWS is asked. Existing connections keep doing what they did.
alter table connections add column read_only boolean not null default false;

-- Where a verification is, for the page that waits on it (any instance may answer the poll):
-- the step it is at and when it started. Cleared when it ends.
alter table connections add column verify_step text
    check (verify_step is null or length(verify_step) <= 40);
alter table connections add column verify_started_at timestamptz;

-- A share link's landing page names the file's size and type as they were when it was shared
-- (read by the HeadObject that proved the role may read it): the page asks AWS nothing.
alter table share_links add column size bigint;
alter table share_links add column content_type text
    check (content_type is null or length(content_type) <= 255);
