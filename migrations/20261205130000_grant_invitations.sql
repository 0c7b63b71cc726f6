-- A grant is an invitation to an address until the account with that address accepts it: only
-- then does it name the grantee (grantee_id) and reach anything. Granting answers the same
-- whether or not the address has an account, so grants tell nobody who uses Crossview.
alter table grants add column grantee_email text;
update grants g set grantee_email = lower(u.email) from users u where u.id = g.grantee_id;
alter table grants alter column grantee_email set not null;
alter table grants add constraint grants_grantee_email_bounded
    check (length(grantee_email) <= 254);
alter table grants alter column grantee_id drop not null;
alter table grants add column accepted_at timestamptz;
-- Grants made before this were in effect at once.
update grants set accepted_at = created_at;
alter table grants add constraint grants_accepted_by_grantee
    check ((grantee_id is null) = (accepted_at is null));
-- one live grant or invitation per address and location
create unique index grants_live_email on grants (location_id, grantee_email)
    where revoked_at is null;
create index grants_invited on grants (grantee_email)
    where revoked_at is null and grantee_id is null;
