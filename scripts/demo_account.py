"""Sets up the demo account of scripts/run.sh, through Crossview's own HTTP API, the way a person
would through the pages: sign up (or in), create a connection, create the role in the stand-in
with the trust policy Crossview shows, paste the role's ARN, verify. Idempotent.

Needs the stand-in's admin key in the environment (scripts/run.sh provides it).
"""

import http.cookiejar
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import aws_world  # noqa: E402

BASE = sys.argv[1]
EMAIL, PASSWORD = sys.argv[2], sys.argv[3]
NAME = "Demo AWS account"
ROLE = "crossview-demo"

opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def call(endpoint, **fields):
    """A server function, called as the hydrated app calls it (JSON back, errors as JSON)."""
    request = urllib.request.Request(
        f"{BASE}/api/{endpoint}",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Accept": "application/json"},
    )
    try:
        with opener.open(request) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return {"error": json.loads(err.read() or b"null")}


result = call("sign_up", email=EMAIL, password=PASSWORD)
if isinstance(result, dict) and "error" in result:
    result = call("sign_in", email=EMAIL, password=PASSWORD, next="")
    if isinstance(result, dict) and "error" in result:
        sys.exit(f"cannot sign in as the demo user: {result['error']}")

connections = call("connections")
demo = next((c for c in connections if c["name"] == NAME), None)
if demo is None:
    created = call("connection_create", name=NAME, external_id="")
    demo = call("connection", id=created)
if demo["status"] != "Verified":
    guide = call("connection_guide", id=demo["id"])
    iam = aws_world.admin_client("iam")
    arn = aws_world.upsert_role(iam, ROLE, guide["trust_policy"])
    iam.put_role_policy(RoleName=ROLE, PolicyName="crossview-browse", PolicyDocument=guide["read_write_policy"])
    demo = call("connection_role", id=demo["id"], role_arn=arn)
    if "error" in demo:
        sys.exit(f"the demo connection did not verify: {demo['error']}")
print(f"demo connection '{NAME}': {demo['status']} ({demo['role_arn']})")
