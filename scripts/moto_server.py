"""Starts moto's server (the local AWS stand-in) with six fixes that make it behave like AWS, and a counter.

moto 5.2 treats a trust-policy condition key that is absent from the request as a match, so an
AssumeRole *without* an ExternalId succeeds against a role that requires one. AWS denies it, and
Crossview's verify step relies on that denial. The replacement below makes an absent key fail
`StringEquals` (and its list form), as AWS does.

moto also wraps the authorization errors of query-protocol services (STS, IAM) in an EC2-style
`<Errors>` element, which the Rust SDK rightly cannot parse, so AccessDenied would lose its code.
They are rendered in the query protocol's own shape instead.

In strict mode moto checks signatures against the request URL after decoding it, so a request for
a key with non-ASCII characters (`Ünïcødé.png`) fails with SignatureDoesNotMatch, and against a
form body re-encoded from its fields, so an AssumeRole whose session policy holds a space fails
too. The check is made against the request target and body exactly as the client sent them.

moto lets AssumeRole succeed for a role that does not exist (only the caller's own policy is
checked); AWS denies it. moto asks for s3:HeadBucket, which no policy grants; AWS authorizes
HeadBucket as s3:ListBucket.

moto's CompleteMultipartUpload answer has the wrong root element (…Response, not …Result),
which the SDK refuses to parse.

One addition for tests: AssumeRole calls are counted per role, with the last one's session
policy and duration (GET /_standin/assume-role-calls). And, as S3 does, a GET applies
`response-content-disposition` / `-type` / `-cache-control` from its query, and every answer
exposes ETag to scripts, as a bucket with Crossview's CORS rule does.
Everything else is moto's own server (which closes every connection after one response).

Usage: python3 scripts/moto_server.py [moto_server args, e.g. -H 127.0.0.1 -p 5000]
Strict mode: set INITIAL_NO_AUTH_ACTION_COUNT=N in the environment.
"""

import collections
import json
import sys
import urllib.parse

from moto.core import authorization, exceptions, responses
from moto.iam import access_control
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.policy_conditions import CONDITION_OPERATIONS, TrustRelationShipConditions


def _check_conditions(self, incoming_condition_values):
    expected = self._statement.get("Condition")
    if not expected:
        return True
    incoming = incoming_condition_values or {}
    for condition in TrustRelationShipConditions(expected):
        operation = CONDITION_OPERATIONS.get(condition._condition)
        if operation is None:
            # moto does not evaluate this operator; keep its behaviour (ignore it).
            continue
        for index, key in enumerate(condition.context_keys):
            if key not in incoming:
                return False
            if not operation(condition._expected_value[index], incoming[key]):
                return False
    return True


access_control.IAMPolicyStatement._check_conditions = _check_conditions


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
    environ = getattr(request, "environ", None) or {}
    self._standin_raw_uri = environ.get("RAW_URI")


responses.BaseResponse.setup_class = setup_class

_authorize = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
    raw_uri = getattr(self, "_standin_raw_uri", None)
    raw_body = getattr(self, "_standin_raw_body", b"")
    if not raw_uri:
        return _authorize(self, iam_request_cls, resource)
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

from moto.moto_server import werkzeug_app

_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _dispatch_with_counts(self, environ, start_response):
    if environ.get("PATH_INFO") == "/_standin/assume-role-calls":
        body = json.dumps(ASSUME_ROLE_CALLS).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    # S3 lets a (presigned) GET choose some response headers: `response-content-disposition=…`
    # saves a download under a name. moto ignores them; the stand-in applies them as S3 does.
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    overrides = {
        header: query[param][0]
        for param, header in RESPONSE_OVERRIDES.items()
        if environ.get("REQUEST_METHOD") == "GET" and param in query
    }

    # moto answers every origin (flask-cors) but hides ETag from scripts; a bucket set up for
    # Crossview exposes it (multipart uploads need each part's ETag), so the stand-in does too.
    def start_as_s3(status, headers, *rest):
        headers = [(n, v) for n, v in headers if n.lower() not in {h.lower() for h in overrides}]
        headers += list(overrides.items())
        if not any(name.lower() == "access-control-expose-headers" for name, _ in headers):
            headers.append(("Access-Control-Expose-Headers", "ETag"))
        return start_response(status, headers, *rest)

    if environ.get("REQUEST_METHOD") == "POST" and "uploadId" in query:
        return complete_as_s3(self, environ, start_as_s3)
    return _dispatch(self, environ, start_as_s3)


def complete_as_s3(app, environ, start_response):
    """CompleteMultipartUpload: moto names the answer's root element
    CompleteMultipartUploadResponse; S3 (and so the SDK's parser) says ...Result."""
    captured = {}

    def capture(status, headers, *rest):
        captured.update(status=status, headers=headers)

    body = b"".join(_dispatch(app, environ, capture))
    body = body.replace(b"CompleteMultipartUploadResponse", b"CompleteMultipartUploadResult")
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
