"""SigV4 query authentication as S3 checks a presigned URL, for the stand-in (moto cannot serve
presigned URLs in strict mode). Imported by moto_server.py."""

import hashlib
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
            "User is not authorized to perform this action with an explicit deny in a resource control policy",
        )


# What an organisation's resource control policy would deny, per bucket: presigned requests
# whose signature is older than this many milliseconds (the `s3:signatureAge` condition). An RCP
# lives outside the account, so no S3 call shows it; tests set it through the stand-in itself.
SIGNATURE_AGE_CAPS = {}


def resource_control(environ, start_response):
    """`PUT /_standin/resource-control?bucket=NAME&signature_age_ms=N` caps a bucket's signature
    age (N empty: no cap). Anything else: None, for moto to serve."""
    if environ.get("PATH_INFO") != "/_standin/resource-control" or environ.get("REQUEST_METHOD") != "PUT":
        return None
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    bucket = query.get("bucket", [""])[0]
    cap = query.get("signature_age_ms", [""])[0]
    if cap:
        SIGNATURE_AGE_CAPS[bucket] = int(cap)
    else:
        SIGNATURE_AGE_CAPS.pop(bucket, None)
    start_response("204 No Content", [])
    return [b""]


def refuse_old_signature(bucket, signed_at, now):
    """S3 refuses a presigned request older than the signature age cap, whatever its
    X-Amz-Expires says."""
    cap = SIGNATURE_AGE_CAPS.get(bucket)
    if cap is not None and (now - signed_at).total_seconds() * 1000 > cap:
        raise SignatureTooOld()
