"""Starts moto's server (the local AWS stand-in) with fixes that make it behave like AWS, and a counter.

moto 5.2 treats a trust-policy condition key that is absent from the request as a match, so an
AssumeRole *without* an ExternalId succeeds against a role that requires one, and it ignores the
operators it does not know. AWS denies the first, and Crossview's verify step relies on that
denial. The replacement below evaluates trust conditions as IAM does: an absent key fails every
operator but the `...IfExists` forms and `Null`; `StringLike` matches IAM wildcards, so a
`StringLike "*"` trust admits any ExternalId (and no missing one); operators it does not
implement refuse (fail closed).

moto also wraps the authorization errors of query-protocol services (STS, IAM) in an EC2-style
`<Errors>` element, which the Rust SDK rightly cannot parse, so AccessDenied would lose its code.
They are rendered in the query protocol's own shape instead.

In strict mode moto checks signatures against the request URL after decoding it, so a request for
a key with non-ASCII characters (`Ünïcødé.png`) fails with SignatureDoesNotMatch, and against a
form body re-encoded from its fields, so an AssumeRole whose session policy holds a space fails
too. The check is made against the request target and body exactly as the client sent them.

moto lets AssumeRole succeed for a role that does not exist (only the caller's own policy is
checked); AWS denies it. moto asks for s3:HeadBucket, which no policy grants; AWS authorizes
HeadBucket as s3:ListBucket, and a HEAD of one object version as s3:GetObjectVersion.

moto reads a policy's Action and Resource as regular expressions (a key with `+` in it never
matches itself), ignores session policies altogether, cannot serve presigned URLs in strict
mode, and answers every origin's CORS request. The stand-in matches as IAM does, holds every
assumed-role request to its session policy too, verifies SigV4 query authentication (expiry
and signature included), and answers browsers by each bucket's own CORS rule.

moto asks for s3:ListBucket on a bucket's encryption and Object Lock settings, and authorizes
every KMS call against "*" instead of the key it names; both are authorized as AWS does.

moto's CompleteMultipartUpload and ListParts answers have the wrong root element (…Response, not
…Result), which the SDK refuses to parse; its ListMultipartUploads dates every upload 2010-11-10
(scripts/standin_uploads.py gives each its real start).

One addition for tests: AssumeRole calls are counted per role, with the last one's session
policy, duration and session name (GET /_standin/assume-role-calls). And, as S3 does, a GET applies
`response-content-disposition` / `-type` / `-cache-control` from its query, and every answer
exposes ETag to scripts, as a bucket with Crossview's CORS rule does.
Everything else is moto's own server (which closes every connection after one response).

Usage: python3 scripts/moto_server.py [moto_server args, e.g. -H 127.0.0.1 -p 5000]
Strict mode: set INITIAL_NO_AUTH_ACTION_COUNT=N in the environment.
"""

import collections
import datetime
import hmac
import html
import json
import os
import re
import secrets
import sys
import urllib.parse

# Buckets answer browsers by their own CORS configuration (as S3 does), not moto's allow-all.
os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")

from moto.core import authorization, exceptions, responses
from moto.iam import access_control
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.s3 import exceptions as s3_exceptions
from moto.s3.models import s3_backends
from moto.sts.models import sts_backends

from standin_presign import (
    QueryAuthMalformed,
    RequestExpired,
    presigned_signature,
    raw_query_pairs,
    refuse_old_signature,
    resource_control,
)


def _condition_holds(operator, value, expected):
    """One condition key of a trust statement, as IAM evaluates it. `value` is the request's
    value for the key (None when absent); `expected` the statement's values (any may match)."""
    base = operator.removesuffix("IfExists")
    if base == "Null":
        # "true": the key must be absent; "false": it must be present.
        return any((v.lower() == "true") == (value is None) for v in expected)
    if value is None:
        # Only the ...IfExists forms let an absent key through, and the negated operators, which
        # IAM counts as matching a key that is not there (a Deny on StringNotLike s3:prefix
        # refuses a listing without a prefix).
        return base != operator or base in ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike")
    if base == "StringEquals":
        return value in expected
    if base == "StringNotEquals":
        return value not in expected
    if base == "StringEqualsIgnoreCase":
        return value.lower() in (v.lower() for v in expected)
    if base == "StringLike":
        return any(_glob(v, value) for v in expected)
    if base == "StringNotLike":
        return not any(_glob(v, value) for v in expected)
    return False


def _check_conditions(self, incoming_condition_values):
    incoming = {k.lower(): v for k, v in (incoming_condition_values or {}).items()}
    for operator, keys in (self._statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            expected = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            value = incoming.get(key.lower())
            if isinstance(value, list):
                value = value[0] if value else None
            if not _condition_holds(operator, value, expected):
                return False
    return True


access_control.IAMPolicyStatement._check_conditions = _check_conditions


def _glob(pattern, string, ignore_case=False):
    """IAM's own matching: `*` is any run of characters and `?` any one; everything else is
    itself. `${*}`, `${?}` and `${$}` are IAM's escapes for the characters themselves."""
    pieces = re.split(r"(\$\{[*?$]\}|[*?])", pattern)
    wildcards = {"*": ".*", "?": "."}
    regex = "".join(
        wildcards.get(p) or re.escape(p[2] if p.startswith("${") and len(p) == 4 else p) for p in pieces
    )
    return re.fullmatch(regex, string, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _match(pattern, string):
    """A policy's Action or Resource against a request's. moto reads them as regular expressions,
    so a key with `+`, `(` or `[` in a policy's Resource never matched itself. Actions ignore case,
    as IAM's do."""
    return _glob(pattern, string, ignore_case=not pattern.startswith("arn:"))


access_control.IAMPolicyStatement._match = staticmethod(_match)


def _query_protocol_errors(cls):
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        from xmltodict import unparse

        error = {"Type": "Sender", "Code": self.error_type, "Message": self.message}
        self.description = unparse(
            {"ErrorResponse": {"Error": error, "RequestId": "stand-in"}}, full_document=True
        )

    cls.__init__ = __init__


for _cls in (
    exceptions.AccessDeniedError,
    exceptions.InvalidClientTokenIdError,
    exceptions.SignatureDoesNotMatchError,
):
    _query_protocol_errors(_cls)

_setup_class = responses.BaseResponse.setup_class


# Every AssumeRole that reaches the stand-in, by role ARN, allowed or not, with the session policy
# and duration of the last one: tests read them from GET /_standin/assume-role-calls to prove one
# assumption per request and what each asked for (moto itself does not apply session policies).
ASSUME_ROLE_CALLS = collections.defaultdict(lambda: {"calls": 0})


def setup_class(self, request, full_url, headers, *args, **kwargs):
    # The body exactly as signed, before Flask parses a form out of it (and empties request.data).
    raw_body = request.get_data(cache=True) if hasattr(request, "get_data") else b""
    _setup_class(self, request, full_url, headers, *args, **kwargs)
    self._standin_raw_body = raw_body
    if self.querystring.get("Action") == ["AssumeRole"]:
        seen = ASSUME_ROLE_CALLS[self.querystring.get("RoleArn", [""])[0]]
        seen["calls"] += 1
        seen["policy"] = self.querystring.get("Policy", [None])[0]
        seen["duration"] = self.querystring.get("DurationSeconds", [None])[0]
        seen["session_name"] = self.querystring.get("RoleSessionName", [None])[0]
    environ = getattr(request, "environ", None) or {}
    self._standin_raw_uri = environ.get("RAW_URI")


responses.BaseResponse.setup_class = setup_class

from moto.sts import responses as sts_responses
from moto.sts.exceptions import STSValidationError

_assume_role = sts_responses.TokenResponse.assume_role


# The characters AWS documents for a session policy: tab, line feed, carriage return and
# U+0020-U+00FF. Anything else (CJK, emoji, Greek, Cyrillic) is refused, as STS refuses it.
POLICY_CHARSET = re.compile("[\u0009\u000A\u000D\u0020-\u00FF]+")


def _assume_role_within_limits(self):
    # AWS refuses a session policy over 2,048 characters, or outside its charset; moto takes any.
    policy = self._get_param("Policy")
    if policy is not None and len(policy) > 2048:
        raise STSValidationError(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            "Member must have length less than or equal to 2048"
        )
    if policy is not None and not POLICY_CHARSET.fullmatch(policy):
        raise STSValidationError(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
        )
    return _assume_role(self)


sts_responses.TokenResponse.assume_role = _assume_role_within_limits

_authorize = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
    raw_uri = getattr(self, "_standin_raw_uri", None)
    raw_body = getattr(self, "_standin_raw_body", b"")
    if not raw_uri:
        return _authorize(self, iam_request_cls, resource)
    if "Authorization" not in self.headers and "X-Amz-Signature=" in raw_uri:
        return _authenticate_presigned(self, iam_request_cls, resource, raw_uri)
    keys = _keys_to_delete(self, resource, raw_uri, raw_body)
    if keys is not None:
        # DeleteObjects is authorized key by key as s3:DeleteObject (moto asks for it on the
        # bucket, which a policy granting a prefix's keys never matches).
        for key in keys:
            _authenticate_and_authorize_action(self, iam_request_cls, f"{resource}/{key}")
        return None
    decoded, self.uri = self.uri, "http://stand-in" + raw_uri
    # A form body (STS, IAM) is otherwise re-encoded from its parsed fields, which turns the
    # SDK's `%20` into `+` and breaks the signature of any policy with a space in it.
    body = self.body
    if raw_body and not body:
        self.body = raw_body
    try:
        return _authorize(self, iam_request_cls, resource)
    finally:
        self.uri, self.body = decoded, body


authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = (
    _authenticate_and_authorize_action
)


def _keys_to_delete(response, resource, raw_uri, raw_body):
    """The keys of a DeleteObjects request (POST ?delete on a bucket), else None."""
    path, _, query = raw_uri.partition("?")
    is_bucket = resource.startswith("arn:") and "/" not in resource.split(":::", 1)[-1]
    if response.method != "POST" or not is_bucket or "delete" not in query.split("&"):
        return None
    return [html.unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", raw_body.decode(), re.DOTALL)]


def _authenticate_presigned(self, iam_request_cls, resource, raw_uri):
    """A presigned URL carries its signature in the query, which moto does not read at all (it
    fails with a 500). S3 checks the algorithm, the expiry, the signature, the session token, and
    then authorizes the action like any other request: by the role's policies and the session's
    own policy."""
    from moto import settings

    if authorization.ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        authorization.ActionAuthenticatorMixin.request_count += 1
        return
    path, _, query = raw_uri.partition("?")
    pairs = raw_query_pairs(query)
    params = dict(pairs)
    required = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"]
    missing = [name for name in required if name not in params]
    if missing:
        raise QueryAuthMalformed(f"Query-string authentication requires {', '.join(missing)}.")
    if params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise QueryAuthMalformed("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    try:
        signed_at = datetime.datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc
        )
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        raise QueryAuthMalformed("X-Amz-Date or X-Amz-Expires is malformed.")
    if not 1 <= expires <= 604800:
        raise QueryAuthMalformed("X-Amz-Expires must be between 1 and 604800 seconds.")
    now = datetime.datetime.now(datetime.timezone.utc)
    if now > signed_at + datetime.timedelta(seconds=expires):
        raise RequestExpired()
    # moto's own request object finds the key (user or assumed role) and evaluates policies; it
    # reads the credential from an Authorization header, so it is given one built from the query.
    headers = dict(self.headers)
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={params['X-Amz-Credential']}, "
        f"SignedHeaders={params['X-Amz-SignedHeaders']}, Signature={params['X-Amz-Signature']}"
    )
    if "X-Amz-Security-Token" in params:
        headers["X-Amz-Security-Token"] = params["X-Amz-Security-Token"]
    iam_request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=raw_uri,
        data=self.data,
        body=self.raw_body,
        headers=headers,
        action=self._get_action(),
    )
    secret = iam_request._access_key._secret_access_key
    expected = presigned_signature(secret, self.method, path, pairs, self.headers, params)
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        iam_request._raise_signature_does_not_match()
    refuse_old_signature(resource.split(":::", 1)[-1].split("/", 1)[0], signed_at, now)
    iam_request.check_action_permitted(resource)


def _session_policy(access_key):
    """The policy passed to AssumeRole for this session's credentials, if any."""
    if not isinstance(access_key, access_control.AssumedRoleAccessKey):
        return None
    for assumed in sts_backends[access_key.account_id][access_key.partition].assumed_roles:
        if assumed.access_key_id == access_key._access_key_id:
            return assumed.policy
    return None


_check_action_permitted = access_control.IAMRequestBase.check_action_permitted


def _listed(values, matches):
    values = values if isinstance(values, list) else [values]
    return any(matches(v) for v in values)


def _statement_applies(statement, action, resource, context):
    """Whether one statement of a session policy speaks to this request, as IAM decides it:
    Action or NotAction, Resource or NotResource (IAM wildcards and escapes), and every
    condition (moto's own evaluation turns a failed condition into a Deny, and knows no
    NotResource)."""
    if "NotAction" in statement:
        if _listed(statement["NotAction"], lambda a: _match(a, action)):
            return False
    elif not _listed(statement.get("Action", []), lambda a: _match(a, action)):
        return False
    if "NotResource" in statement:
        if _listed(statement["NotResource"], lambda r: _match(r, resource)):
            return False
    elif not _listed(statement.get("Resource", []), lambda r: r == "*" or _match(r, resource)):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            expected = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            if not _condition_holds(operator, context.get(key.lower()), expected):
                return False
    return True


def _session_allows(policy, action, resource, context):
    """An explicit Deny wins, then an Allow; nothing said is a Deny."""
    statements = json.loads(policy)["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    applying = [s["Effect"] for s in statements if _statement_applies(s, action, resource, context)]
    return "Deny" not in applying and "Allow" in applying


def _request_context(request):
    """The condition keys a session policy may name: S3's `s3:prefix` on the listings IAM gives
    it to, ListBucket and ListBucketVersions (present, possibly empty, when the request names a
    prefix; absent otherwise). As in AWS, ListBucketMultipartUploads has no `s3:prefix`."""
    _, _, query = (request._path or "").partition("?")
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    context = {}
    if "prefix" in params and request._action in ("s3:ListBucket", "s3:ListBucketVersions"):
        context["s3:prefix"] = params["prefix"][0]
    return context


def _check_action_permitted_with_session_policy(self, resource):
    """AWS allows a session's request only if both the role's policies and the session policy
    given to AssumeRole allow it; moto ignores the session policy."""
    _check_action_permitted(self, resource)
    if self._action == "sts:GetCallerIdentity":
        return
    policy = _session_policy(self._access_key)
    if policy is None:
        return
    if not _session_allows(policy, self._action, resource, _request_context(self)):
        print(f"stand-in: the session policy does not allow {self._action} on {resource}", file=sys.stderr)
        self._raise_access_denied()


access_control.IAMRequestBase.check_action_permitted = _check_action_permitted_with_session_policy

_is_assuming_role_operation = access_control.IAMRequestBase._is_assuming_role_operation


def _assume_only_existing_roles(self, resource_arn):
    if self._action == "sts:AssumeRole" and ":role/" in resource_arn:
        try:
            self.backend.get_role_by_arn(resource_arn)
        except IAMNotFoundException:
            self._raise_access_denied()
    return _is_assuming_role_operation(self, resource_arn)


access_control.IAMRequestBase._is_assuming_role_operation = _assume_only_existing_roles

# AWS authorizes HeadBucket as s3:ListBucket (there is no s3:HeadBucket permission); moto asks
# for s3:HeadBucket, which no real policy grants.
from moto.s3 import responses as s3_responses

s3_responses.ACTION_MAP["BUCKET"]["HEAD"]["DEFAULT"] = "ListBucket"
# A HEAD of one version of an object is authorized as s3:GetObjectVersion, as its GET is.
s3_responses.ACTION_MAP["KEY"]["HEAD"]["versionId"] = "GetObjectVersion"
import standin_actions  # noqa: F401  (bucket settings and KMS keys authorized as IAM does)
import standin_sessions  # noqa: F401  (a session no longer than its role allows)

from moto.moto_server import werkzeug_app

from standin_cors import cors_headers, preflight
import standin_uploads  # noqa: F401  (when each unfinished upload began, as S3 says)

_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _dispatch_with_counts(self, environ, start_response):
    if environ.get("PATH_INFO") == "/_standin/assume-role-calls":
        body = json.dumps(ASSUME_ROLE_CALLS).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    controlled = resource_control(environ, start_response)
    if controlled is not None:
        return controlled

    # S3 lets a (presigned) GET choose some response headers: `response-content-disposition=…`
    # saves a download under a name. moto ignores them; the stand-in applies them as S3 does.
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    overrides = {
        header: query[param][0]
        for param, header in RESPONSE_OVERRIDES.items()
        if environ.get("REQUEST_METHOD") == "GET" and param in query
    }

    if environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
        return preflight(environ, start_response)
    cors = cors_headers(environ, environ.get("REQUEST_METHOD", ""))

    # Errors included: S3 answers a request its CORS rule allows with the rule's headers,
    # whatever the status, so a browser can read why it was refused.
    def start_as_s3(status, headers, *rest):
        replaced = {h.lower() for h in overrides} | {h.lower() for h, _ in cors}
        headers = [(n, v) for n, v in headers if n.lower() not in replaced]
        headers += list(overrides.items()) + cors
        # S3 names every answer with a request id (moto does not): clients log it.
        if not any(n.lower() == "x-amz-request-id" for n, _ in headers):
            headers.append(("x-amz-request-id", secrets.token_hex(8).upper()))
        return start_response(status, headers, *rest)

    # CompleteMultipartUpload (POST) and ListParts (GET) of an upload: root elements as S3's.
    if environ.get("REQUEST_METHOD") in ("POST", "GET") and "uploadId" in query:
        return multipart_as_s3(self, environ, start_as_s3)
    return _dispatch(self, environ, start_as_s3)


def multipart_as_s3(app, environ, start_response):
    """CompleteMultipartUpload and ListParts: moto names the answer's root element
    CompleteMultipartUploadResponse / ListPartsResponse; S3 (and so the SDK's parser) says
    ...Result."""
    captured = {}

    def capture(status, headers, *rest):
        captured.update(status=status, headers=headers)

    body = b"".join(_dispatch(app, environ, capture))
    for operation in (b"CompleteMultipartUpload", b"ListParts"):
        body = body.replace(operation + b"Response", operation + b"Result")
    headers = [(n, v) for n, v in captured["headers"] if n.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(captured["status"], headers)
    return [body]


RESPONSE_OVERRIDES = {
    "response-content-disposition": "Content-Disposition",
    "response-content-type": "Content-Type",
    "response-cache-control": "Cache-Control",
}


werkzeug_app.DomainDispatcherApplication.__call__ = _dispatch_with_counts

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
