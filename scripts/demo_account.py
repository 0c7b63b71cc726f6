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



class Crossview:
    """A signed-in browser's session with Crossview's server functions."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def call(self, endpoint, **fields):
        """A server function, called as the hydrated app calls it (JSON back, errors as JSON)."""
        request = urllib.request.Request(
            f"{self.base}/api/{endpoint}",
            data=urllib.parse.urlencode(fields).encode(),
            # Crossview refuses writes that do not show they come from its own origin (CSRF).
            headers={"Accept": "application/json", "Origin": self.base},
        )
        try:
            with self.opener.open(request) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return {"error": json.loads(err.read() or b"null")}

    def get(self, path):
        """A page load, as a browser navigates to it: the whole server-rendered HTML."""
        with self.opener.open(urllib.request.Request(f"{self.base}{path}", headers={"Accept": "text/html"})) as response:
            return response.read()

    def sign_up_or_in(self, email, password):
        result = self.call("sign_up", email=email, password=password)
        if isinstance(result, dict) and "error" in result:
            result = self.call("sign_in", email=email, password=password, next="")
            if isinstance(result, dict) and "error" in result:
                sys.exit(f"cannot sign in as {email}: {result['error']}")

    def verified_connection(self, name, role, policy="read_write_policy"):
        """The connection called `name`, created and verified against the stand-in role `role`
        (given the permission policy Crossview suggests: `read_write_policy` or
        `read_only_policy`) unless it already is."""
        connection = next((c for c in self.call("connections") if c["name"] == name), None)
        if connection is None:
            created = self.call("connection_create", name=name, external_id="")
            connection = self.call("connection", id=created)
        if connection["status"] != "Verified":
            guide = self.call("connection_guide", id=connection["id"])
            iam = aws_world.admin_client("iam")
            arn = aws_world.upsert_role(iam, role, guide["trust_policy"])
            iam.put_role_policy(RoleName=role, PolicyName="crossview-browse", PolicyDocument=guide[policy])
            connection = self.call("connection_role", id=connection["id"], role_arn=arn)
            if "error" in connection:
                sys.exit(f"the connection did not verify: {connection['error']}")
        return connection


if __name__ == "__main__":
    crossview = Crossview(sys.argv[1])
    crossview.sign_up_or_in(sys.argv[2], sys.argv[3])
    for name, role, policy in (
        ("Demo AWS account", "crossview-demo", "read_write_policy"),
        ("Demo read-only", "crossview-demo-read-only", "read_only_policy"),
    ):
        demo = crossview.verified_connection(name, role, policy)
        print(f"demo connection '{demo['name']}': {demo['status']} ({demo['role_arn']})")
