-- The connection doctor's last report per connection (doctor::ssr): what works in each bucket
-- and why not, with the fixes it suggests. Plain metadata, as AWS answered read-only probes; no
-- credential is in it. Replaced whole by each run; the admin overview shows `health`.
create table doctor_reports (
    connection_id bigint primary key references connections (id) on delete cascade,
    checked_at timestamptz not null default now(),
    checked_by bigint references users (id) on delete set null,
    health jsonb not null,
    report jsonb not null
);
