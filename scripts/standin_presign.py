"""SigV4 query authentication as S3 checks a presigned URL, for the stand-in (moto cannot serve
presigned URLs in strict mode). Imported by moto_server.py."""

import hashlib
import json
import hmac
import urllib.parse

from moto.s3 import exceptions as s3_exceptions


class RequestExpired(s3_exceptions.S3ClientError):
    def __init__(self):
        super().__init__("AccessDenied", "Request has expired")


class QueryAuthMalformed(s3_exceptions.S3ClientError):
    def __init__(self, message):
        super().__init__("AuthorizationQueryParametersError", message)


def _uri_encode(text):
    return urllib.parse.quote(text, safe="-_.~")


def raw_query_pairs(query):
    """Name/value pairs decoded once, `+` left as it is (SigV4 clients write a space as %20)."""
    pairs = []
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return pairs


def presigned_signature(secret, method, path, pairs, headers, params):
    """SigV4 query authentication, as S3 computes it for a presigned URL."""
    credential = params["X-Amz-Credential"].split("/")
    date, region, service = credential[1], credential[2], credential[3]
    canonical_query = "&".join(
        sorted(f"{_uri_encode(n)}={_uri_encode(v)}" for n, v in pairs if n != "X-Amz-Signature")
    )
    signed = params["X-Amz-SignedHeaders"].split(";")
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical_headers = "".join(f"{h}:{' '.join(lowered.get(h, '').split())}\n" for h in signed)
    payload = lowered.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    canonical_request = "\n".join(
        [method, path, canonical_query, canonical_headers, ";".join(signed), payload]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            params["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class SignatureTooOld(s3_exceptions.S3ClientError):
    def __init__(self):
        super().__init__(
            "AccessDenied",
            "User is not authorized to perform this action with an explicit deny in a resource-based policy",
        )


def _age_caps(policy):
    """The signature ages (ms) a bucket policy's Deny statements refuse beyond, from conditions
    `NumericGreaterThan {"s3:signatureAge": N}` (how AWS documents the cap; an organisation's
    resource control policy says the same)."""
    try:
        statements = json.loads(policy).get("Statement", [])
    except (TypeError, ValueError):
        return []
    statements = statements if isinstance(statements, list) else [statements]
    caps = []
    for statement in statements:
        if statement.get("Effect") != "Deny":
            continue
        test = (statement.get("Condition") or {}).get("NumericGreaterThan") or {}
        value = test.get("s3:signatureAge")
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                caps.append(int(v))
    return caps


def refuse_old_signature(bucket, signed_at, now):
    """S3 refuses a presigned request older than a policy's signature age cap, whatever its
    X-Amz-Expires says; moto reads no bucket policy in its authorization."""
    policy = getattr(bucket, "policy", None) if bucket is not None else None
    if not policy:
        return
    age_ms = (now - signed_at).total_seconds() * 1000
    if any(age_ms > cap for cap in _age_caps(policy)):
        raise SignatureTooOld()
