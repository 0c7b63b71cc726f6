-- Every field of the audit trail is bounded: a bucket name as S3 allows it (63 bytes), a key
-- (1,024 bytes, S3's own limit), an AWS request id (128) and the detail as Postgres prints it
-- (4 KiB). The application checks input before it gets here; these hold whatever it forgets.
-- Rows already written are chained and cannot change, so the bounds apply to rows after them.
do $$
declare
    v_last bigint := (select last_id from audit_chain);
begin
    execute format(
        'alter table audit_events
             add constraint audit_events_bucket_bounded
                 check (id <= %1$s or octet_length(bucket) <= 63),
             add constraint audit_events_key_bounded
                 check (id <= %1$s or octet_length(key) <= 1024),
             add constraint audit_events_request_id_bounded
                 check (id <= %1$s or octet_length(aws_request_id) <= 128),
             add constraint audit_events_detail_bounded
                 check (id <= %1$s or octet_length(detail::text) <= 4096)',
        v_last);
end;
$$;
