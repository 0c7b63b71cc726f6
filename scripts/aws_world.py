"""Seeds a fresh, strict-mode AWS stand-in (moto) with Crossview's world and prints its settings.

The stand-in must have been started with INITIAL_NO_AUTH_ACTION_COUNT=3: the three unsigned
requests create an admin user, its `*:*` policy and its key; everything after is signed.

  - an IAM user `crossview` allowed only sts:AssumeRole: Crossview's own identity (base credentials)
  - a role `standin-external-id-check` that trusts it only with an ExternalId
  - with --demo: two buckets with nested prefixes and a few hundred objects, odd names included
  - with --browse: the buckets the browsing tests walk (see browse_buckets)

`aws_world.py role …` later creates or updates a role, for tests and the demo.

Writes shell `export` lines to --out: the base credentials and endpoint for Crossview, and the
admin key under CROSSVIEW_STANDIN_ADMIN_* for tests that change the world (never for Crossview).
"""

import argparse
import json
import os
import secrets
import shlex

import boto3

ACCOUNT = "123456789012"


def client(service, endpoint, key_id="unsigned", secret="unsigned"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def admin_key(endpoint):
    iam = client("iam", endpoint)
    iam.create_user(UserName="standin-admin")
    iam.put_user_policy(
        UserName="standin-admin",
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="standin-admin")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def crossview_identity(iam):
    user = iam.create_user(UserName="crossview")["User"]
    iam.put_user_policy(
        UserName="crossview",
        PolicyName="assume-roles-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="crossview")["AccessKey"]
    return user["Arn"], key["AccessKeyId"], key["SecretAccessKey"]


def trust_policy(principal_arn, external_id):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def check_role(iam, principal_arn):
    """A role that requires an ExternalId: proves the stand-in enforces it as AWS does."""
    external_id = secrets.token_hex(16)
    role = iam.create_role(
        RoleName="standin-external-id-check",
        AssumeRolePolicyDocument=trust_policy(principal_arn, external_id),
    )["Role"]
    return role["Arn"], external_id


def demo_buckets(s3):
    """Two buckets: one with a few hundred objects under nested prefixes, one small."""
    s3.create_bucket(Bucket="crossview-demo-photos")
    s3.create_bucket(Bucket="crossview-demo-reports")
    names = []
    for year in (2024, 2025, 2026):
        for month in range(1, 13):
            for n in range(1, 7):
                names.append(f"{year}/{month:02d}/IMG_{n:04d}.jpg")
    names += [
        "holiday album/beach day.jpg",
        "holiday album/Ünïcødé ñame — café.png",
        "holiday album/日本語のファイル.jpg",
        "odd names/a+b=c.txt",
        "odd names/100% done.txt",
        "odd names/<script>alert(1)</script>.txt",
        "odd names/trailing space .txt",
        "empty folder/",
    ]
    for name in names:
        body = b"" if name.endswith("/") else f"demo object {name}\n".encode()
        s3.put_object(Bucket="crossview-demo-photos", Key=name, Body=body)
    for quarter in ("q1", "q2", "q3", "q4"):
        for region in ("emea", "americas", "apac"):
            s3.put_object(
                Bucket="crossview-demo-reports",
                Key=f"finance/2026/{quarter}/{region}/summary.csv",
                Body=b"region,revenue\n" + region.encode() + b",1000\n",
            )
    s3.put_object(Bucket="crossview-demo-reports", Key="README.txt", Body=b"Quarterly reports.\n")
    return len(names) + 13


# Keys no URL, HTML page or policy may mangle: each must come back from S3 exactly as it went in.
ODD_KEYS = [
    "odd/with space.txt",
    "odd/ünïcødé — 日本語.txt",
    "odd/a+b=c.txt",
    "odd/100% done.txt",
    "odd/hash#tag.txt",
    "odd/what?.txt",
    "odd/../dots.txt",
    "odd/trailing slash/",
    "odd/<script>alert(1)</script>.txt",
    'odd/"><img src=x onerror=alert(1)>.txt',
]
# Keys that try to break out of the page's markup: the `<title>` in particular, where
# leptos_meta writes text as it is (the folder `tricky/</` and the object's own page show them).
HOSTILE_KEYS = [
    """tricky/</title><meta http-equiv="refresh" content="0;url=https:evil.example">"""
    """<img id=x src=x onerror=alert(1)> "q" 'a' & b.txt""",
]
DEEP_KEY = "/".join(f"level-{n:02d}" for n in range(1, 21)) + "/bottom.txt"
BIG_KEYS = 2500


def browse_buckets(s3):
    """What the browsing tests walk: `cv-big` holds 2,500 keys at its root (pages of
    1000/1000/500); `cv-empty` nothing; `cv-mixed` odd keys, a folder of folders only, a zero-byte
    folder marker, a 20-level prefix and three folders to walk down; `cv-other` stays out of reach
    of the one-bucket role; `cv-work` starts empty, for the tests that write (each in a folder of
    its own)."""
    for name in ("cv-big", "cv-empty", "cv-mixed", "cv-other", "cv-work"):
        s3.create_bucket(Bucket=name)
    for n in range(BIG_KEYS):
        s3.put_object(Bucket="cv-big", Key=f"key-{n:05d}.txt", Body=b"x" * (n % 7))
    mixed = ODD_KEYS + HOSTILE_KEYS + [
        "only-folders/alpha/a.txt",
        "only-folders/beta/b.txt",
        "only-folders/gamma/c.txt",
        "walk/one/two/three/report.csv",
        DEEP_KEY,
    ]
    for key in mixed:
        # A key ending in `/` with content is an object, not a folder marker.
        s3.put_object(Bucket="cv-mixed", Key=key, Body=f"content of {key}\n".encode())
    s3.put_object(Bucket="cv-mixed", Key="markers/empty/", Body=b"")
    s3.put_object(
        Bucket="cv-mixed",
        Key="walk/one/two/three/report.csv",
        Body=b"quarter,total\nq1,10\n",
        ContentType="text/csv",
        Metadata={"owner": "finance"},
        ServerSideEncryption="AES256",
    )
    s3.put_object_tagging(
        Bucket="cv-mixed",
        Key="walk/one/two/three/report.csv",
        Tagging={"TagSet": [{"Key": "team", "Value": "finance"}]},
    )
    s3.put_object(Bucket="cv-other", Key="secret.txt", Body=b"not for the one-bucket role\n")
    # A versioned bucket with a document saved twice.
    s3.create_bucket(Bucket="cv-versions")
    s3.put_bucket_versioning(Bucket="cv-versions", VersioningConfiguration={"Status": "Enabled"})
    for text in (b"first draft\n", b"second draft\n"):
        s3.put_object(Bucket="cv-versions", Key="doc.txt", Body=text)
    return BIG_KEYS + len(mixed) + 2


def admin_client(service):
    """A client with the stand-in's admin key (from the environment scripts/test.sh and run.sh set)."""
    return client(
        service,
        os.environ["AWS_ENDPOINT_URL"],
        os.environ["CROSSVIEW_STANDIN_ADMIN_KEY_ID"],
        os.environ["CROSSVIEW_STANDIN_ADMIN_SECRET"],
    )


def upsert_role(iam, name, document):
    """Creates the role, or replaces its trust policy if it exists; returns its ARN."""
    try:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=document)
        return iam.get_role(RoleName=name)["Role"]["Arn"]


def put_role(args):
    """Creates a role (or replaces its trust policy) with the stand-in's admin key, as a person
    would in the IAM console; prints its ARN. --trust-policy takes a document verbatim (as copied
    from Crossview's page); otherwise one is built from --principal and --external-id."""
    iam = admin_client("iam")
    document = args.trust_policy or trust_policy(args.principal, args.external_id)
    arn = upsert_role(iam, args.name, document)
    if args.permissions:
        iam.put_role_policy(RoleName=args.name, PolicyName="crossview-browse", PolicyDocument=args.permissions)
    print(arn)


# A 2x2 PNG (red, green, blue, white): small enough to inline, real enough to decode.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001249444154789c63f8cfc0c000c20cff8100001fee05fb0bd9688b"
    "0000000049454e44ae426082"
)


def plain_world(args):
    """Seeds a plain-mode stand-in (no authentication: the browser fetches presigned URLs from
    it) with the bucket the transfer tests use, and prints a role ARN any caller may assume."""
    s3 = client("s3", args.endpoint)
    s3.create_bucket(Bucket="cv-transfers")
    s3.put_object(Bucket="cv-transfers", Key="preview/photo.png", Body=TINY_PNG, ContentType="image/png")
    s3.put_object(
        Bucket="cv-transfers",
        Key="preview/notes.txt",
        Body="Plain text, <b>not markup</b>.\nSecond line ✓\n".encode(),
        ContentType="text/plain",
    )
    iam = client("iam", args.endpoint)
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    )
    print(upsert_role(iam, "crossview-plain", document))


def objects(args):
    """With the admin key: `put` writes --key (its text as body); `keys` prints every key under
    --prefix, one per line. Tests use it to set up and check the world without Crossview."""
    s3 = admin_client("s3")
    if args.command == "put":
        s3.put_object(Bucket=args.bucket, Key=args.key, Body=f"content of {args.key}\n".encode())
        return
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=args.prefix)
    for page in pages:
        for item in page.get("Contents", []):
            print(item["Key"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"))
    commands = parser.add_subparsers(dest="command")
    role = commands.add_parser("role", help="create or update a role")
    role.add_argument("--name", required=True)
    role.add_argument("--principal", default=os.environ.get("CROSSVIEW_STANDIN_PRINCIPAL_ARN"))
    role.add_argument("--external-id", help="omit for a trust policy without the condition")
    role.add_argument("--trust-policy", help="a whole trust policy document (JSON)")
    role.add_argument("--permissions", help="a permissions policy document (JSON)")
    commands.add_parser("plain", help="seed a plain-mode stand-in for the browser tests")
    put = commands.add_parser("put", help="write one object (admin key)")
    put.add_argument("--bucket", required=True)
    put.add_argument("--key", required=True)
    keys = commands.add_parser("keys", help="list the keys under a prefix (admin key)")
    keys.add_argument("--bucket", required=True)
    keys.add_argument("--prefix", default="")
    parser.add_argument("--out")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--browse", action="store_true")
    args = parser.parse_args()
    if args.command == "role":
        return put_role(args)
    if args.command == "plain":
        return plain_world(args)
    if args.command in ("put", "keys"):
        return objects(args)

    admin_id, admin_secret = admin_key(args.endpoint)
    iam = client("iam", args.endpoint, admin_id, admin_secret)
    arn, key_id, secret = crossview_identity(iam)
    check_arn, check_id = check_role(iam, arn)
    summary = f"Crossview's identity {arn}"
    if args.demo:
        count = demo_buckets(client("s3", args.endpoint, admin_id, admin_secret))
        summary += f"; 2 demo buckets, {count} objects"
    if args.browse:
        count = browse_buckets(client("s3", args.endpoint, admin_id, admin_secret))
        summary += f"; 6 browsing buckets, {count} objects"

    settings = {
        "AWS_ENDPOINT_URL": args.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_S3_FORCE_PATH_STYLE": "true",
        "CROSSVIEW_STANDIN_PRINCIPAL_ARN": arn,
        "CROSSVIEW_STANDIN_CHECK_ROLE_ARN": check_arn,
        "CROSSVIEW_STANDIN_CHECK_EXTERNAL_ID": check_id,
        "CROSSVIEW_STANDIN_ADMIN_KEY_ID": admin_id,
        "CROSSVIEW_STANDIN_ADMIN_SECRET": admin_secret,
    }
    with open(args.out, "w") as f:
        for name, value in settings.items():
            f.write(f"export {name}={shlex.quote(value)}\n")
    print(summary)


if __name__ == "__main__":
    main()
