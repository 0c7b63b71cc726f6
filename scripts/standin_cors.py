"""The stand-in's CORS, as S3 answers browsers: by the addressed bucket's own CORS rules (moto
answers every origin). Imported by moto_server.py."""

from moto.s3.models import s3_backends
from moto.s3.utils import cors_matches_origin


def cors_rule(environ, method, request_headers=()):
    """The first CORS rule of the addressed bucket (path-style) that allows the request's
    origin, method and headers, as S3 evaluates a bucket's CORS configuration; None if none."""
    origin = environ.get("HTTP_ORIGIN")
    bucket_name = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
    where = s3_backends.bucket_accounts.get(bucket_name) if origin and bucket_name else None
    if where is None:
        return None
    partition, account = where
    bucket = s3_backends[account][partition].buckets.get(bucket_name)
    for rule in bucket.cors if bucket else []:
        allowed_headers = [h.lower() for h in rule.allowed_headers or []]
        headers_ok = all(
            "*" in allowed_headers or header.lower() in allowed_headers for header in request_headers
        )
        if cors_matches_origin(origin, rule.allowed_origins) and method in rule.allowed_methods and headers_ok:
            return rule
    return None


def cors_headers(environ, method):
    rule = cors_rule(environ, method)
    if rule is None:
        return []
    headers = [
        ("Access-Control-Allow-Origin", environ["HTTP_ORIGIN"]),
        ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if rule.exposed_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
    return headers


def preflight(environ, start_response):
    """A browser's preflight: never signed, answered from the bucket's CORS rules alone."""
    method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
    requested = [
        h.strip() for h in environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").split(",") if h.strip()
    ]
    rule = cors_rule(environ, method, requested)
    if rule is None:
        body = (
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessForbidden</Code>"
            "<Message>CORSResponse: This CORS request is not allowed. This is usually because the "
            "evalution of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
            "</Message></Error>"
        ).encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]
    headers = cors_headers(environ, method) + [("Content-Length", "0")]
    if requested:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    if rule.max_age_seconds:
        headers.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    start_response("200 OK", headers)
    return [b""]
