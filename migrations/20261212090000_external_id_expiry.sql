-- An ExternalId Crossview generated for a connection that is never verified is replaced after
-- 48 hours (connections::ssr::renew_unverified): `external_id_issued_at` says when the one in use
-- was generated, `external_id_renewable` whether it may be replaced (an ExternalId the user typed
-- never is). Connections made before this migration keep theirs: which were typed is not known.
alter table connections add column external_id_issued_at timestamptz;
update connections set external_id_issued_at = created_at;
alter table connections
    alter column external_id_issued_at set not null,
    alter column external_id_issued_at set default now(),
    add column external_id_renewable boolean not null default false;
alter table connections alter column external_id_renewable set default true;
