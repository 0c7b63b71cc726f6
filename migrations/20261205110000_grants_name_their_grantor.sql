-- Who made each grant, for the connection's owner to see (only owners grant from now on; a
-- grant an administrator made before this shows them).
alter table grants add column granted_by bigint references users (id) on delete set null;
update grants g set granted_by = c.owner_id
from locations l join connections c on c.id = l.connection_id
where l.id = g.location_id;
