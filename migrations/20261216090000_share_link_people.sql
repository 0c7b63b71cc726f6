-- "Only these people": a link that opens only for a visitor signed in to Crossview under one of
-- these addresses (kept lower-cased, as accounts are looked up).
alter table share_links
    add column people text[] check (cardinality(people) between 1 and 20);
