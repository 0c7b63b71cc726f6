"""Seeds a fresh, strict-mode AWS stand-in (moto) with Crossview's world and prints its settings.

The stand-in must have been started with INITIAL_NO_AUTH_ACTION_COUNT=3: the three unsigned
requests create an admin user, its `*:*` policy and its key; everything after is signed.

  - an IAM user `crossview` allowed only sts:AssumeRole: Crossview's own identity (base credentials)
  - a role `standin-external-id-check` that trusts it only with an ExternalId
  - with --demo: the demo buckets (see demo_buckets): every kind of preview, versions, odd
    names; `aws_world.py archive` then adds its folder of 3,000 keys
  - with --browse: the buckets the browsing tests walk (see browse_buckets)

`aws_world.py role …` later creates or updates a role, for tests and the demo.

Writes shell `export` lines to --out: the base credentials and endpoint for Crossview, and the
admin key under CROSSVIEW_STANDIN_ADMIN_* for tests that change the world (never for Crossview).
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import secrets
import shlex
import urllib.parse
import urllib.request

import boto3

from demo_files import chime, pdf, png

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


def trust_policy(principal_arn, external_id, condition=None):
    """Trusts `principal_arn` under `condition` (a Condition block), or else under StringEquals
    `external_id`, or else with no condition at all."""
    statement = {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    elif external_id is not None:
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


def cors_for_crossview(s3, bucket, origins):
    """The CORS rule Crossview's connection page tells customers to apply: browsers on Crossview's
    origins may GET, PUT and HEAD, and read ETag (multipart uploads need it)."""
    rule = {
        "AllowedOrigins": origins,
        "AllowedMethods": ["GET", "PUT", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000,
    }
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})


DEMO_ARCHIVE_KEYS = 3000


def put_many(s3, bucket, bodies):
    """Writes {key: body} a few at a time: the stand-in answers each request on its own thread."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=bucket, Key=item[0], Body=item[1]), bodies.items()))


def demo_archive(s3):
    """The demo's big folder, `crossview-demo-photos/archive/`: 3,000 keys to page through. Seeded
    apart from the rest (scripts/run.sh does it while the server already serves)."""
    keys = {f"archive/scan-{n:05d}.txt": f"scan {n}\n".encode() for n in range(1, DEMO_ARCHIVE_KEYS + 1)}
    put_many(s3, "crossview-demo-photos", keys)


def demo_buckets(s3, origins):
    """What the demo shows: `crossview-demo-photos` (real images under year/month folders, odd
    names; `archive/` comes from demo_archive) and `crossview-demo-reports` (versioned: a PDF, a
    WAV, CSV and text files, and a policy saved three times)."""
    photos, reports = "crossview-demo-photos", "crossview-demo-reports"
    for bucket in (photos, reports):
        s3.create_bucket(Bucket=bucket)
        cors_for_crossview(s3, bucket, origins)
    s3.put_bucket_versioning(Bucket=reports, VersioningConfiguration={"Status": "Enabled"})
    image = png(48, 32)
    names = []
    for year in (2024, 2025, 2026):
        for month in range(1, 13):
            for n in range(1, 7):
                names.append(f"{year}/{month:02d}/IMG_{n:04d}.png")
    names += [
        "holiday album/beach day.png",
        "holiday album/Ünïcødé ñame — café.png",
        "holiday album/日本語のファイル.png",
    ]
    for name in names:
        s3.put_object(Bucket=photos, Key=name, Body=image, ContentType="image/png")
    odd = [
        "odd names/a+b=c.txt",
        "odd names/100% done.txt",
        "odd names/50%25 off/percent%20literal.txt",
        "odd names/<script>alert(1)</script>.txt",
        "odd names/trailing space .txt",
    ]
    for name in odd:
        s3.put_object(Bucket=photos, Key=name, Body=f"demo object {name}\n".encode(), ContentType="text/plain")
    s3.put_object(Bucket=photos, Key="empty folder/", Body=b"")
    samples = {
        "samples/handbook.pdf": (pdf("Crossview demo handbook"), "application/pdf"),
        "samples/chime.wav": (chime(), "audio/wav"),
        "samples/diagram.png": (png(240, 160), "image/png"),
        "samples/sales.csv": (b"month,region,revenue\n2026-01,emea,1200\n2026-01,apac,900\n", "text/csv"),
        "samples/notes.txt": ("Notes for the demo.\nMarkup stays text: <b>not bold</b> ✓\n".encode(), "text/plain"),
    }
    for key, (body, content_type) in samples.items():
        s3.put_object(Bucket=reports, Key=key, Body=body, ContentType=content_type)
    for quarter in ("q1", "q2", "q3", "q4"):
        for region in ("emea", "americas", "apac"):
            s3.put_object(
                Bucket=reports,
                Key=f"finance/2026/{quarter}/{region}/summary.csv",
                Body=b"region,revenue\n" + region.encode() + b",1000\n",
                ContentType="text/csv",
            )
    for version in ("Keep reports for 5 years.", "Keep reports for 7 years.", "Keep reports for 7 years; drafts for 1."):
        s3.put_object(Bucket=reports, Key="policies/retention.txt", Body=f"{version}\n".encode(), ContentType="text/plain")
    s3.put_object(Bucket=reports, Key="README.txt", Body=b"Quarterly reports.\n", ContentType="text/plain")
    return len(names) + len(odd) + 1 + len(samples) + 12 + 3 + 1


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


def browse_buckets(s3, origins):
    """What the browsing tests walk: `cv-big` holds 2,500 keys at its root (pages of
    1000/1000/500); `cv-empty` nothing; `cv-mixed` odd keys, a folder of folders only, a zero-byte
    folder marker, a 20-level prefix and three folders to walk down; `cv-other` stays out of reach
    of the one-bucket role; `cv-work` starts empty, for the tests that write (each in a folder of
    its own); `cv-transfers` is where the browser tests upload, download and preview. `cv-work`'s
    lifecycle rule aborts unfinished uploads after 7 days; `cv-transfers` has none."""
    for name in ("cv-big", "cv-empty", "cv-mixed", "cv-other", "cv-work", "cv-transfers"):
        s3.create_bucket(Bucket=name)
        cors_for_crossview(s3, name, origins)
    s3.put_bucket_lifecycle_configuration(
        Bucket="cv-work",
        LifecycleConfiguration={"Rules": [{
            "ID": "abort-unfinished-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }]},
    )
    s3.put_object(Bucket="cv-transfers", Key="preview/photo.png", Body=TINY_PNG, ContentType="image/png")
    s3.put_object(
        Bucket="cv-transfers",
        Key="preview/notes.txt",
        Body="Plain text, <b>not markup</b>.\nSecond line ✓\n".encode(),
        ContentType="text/plain",
    )
    # A table and a JSON document whose cells and strings hold markup: it must stay text.
    s3.put_object(
        Bucket="cv-transfers",
        Key="preview/table.csv",
        Body='city,population\n"Tokyo, 東京",37400068\n<script>alert(1)</script>,2\n'.encode(),
        ContentType="text/csv",
    )
    s3.put_object(
        Bucket="cv-transfers",
        Key="preview/data.json",
        Body=b'{"name": "<b>crossview</b>", "tags": ["a", "b"], "nested": {"deep": {"deeper": 1}}}',
        ContentType="application/json",
    )
    # Markdown whose raw HTML, remote image and script link must stay inert; code to highlight;
    # text longer than one preview piece, with characters cut at each 64 KiB boundary.
    s3.put_object(
        Bucket="cv-transfers",
        Key="preview/readme.md",
        Body=(
            "# Crossview notes\n\nSome *emphasis* and a [site](https://example.com/).\n\n"
            "<b>raw html</b> <script>window.pwned = 1</script>\n\n"
            "![tracking pixel](https://example.com/pixel.png)\n\n[click](javascript:alert(1))\n\n"
            "- one\n- two ✓\n"
        ).encode(),
        ContentType="text/markdown",
    )
    s3.put_object(
        Bucket="cv-transfers",
        Key="preview/main.rs",
        Body=b'// A comment\nfn main() {\n    println!("<b>hi</b>");\n}\n',
    )
    long_text = "".join(f"line {n:05d} 東京😀\n" for n in range(5000)).encode()
    s3.put_object(Bucket="cv-transfers", Key="preview/long.txt", Body=long_text, ContentType="text/plain")
    put_many(s3, "cv-big", {f"key-{n:05d}.txt": b"x" * (n % 7) for n in range(BIG_KEYS)})
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
    cors_for_crossview(s3, "cv-versions", origins)
    s3.put_bucket_versioning(Bucket="cv-versions", VersioningConfiguration={"Status": "Enabled"})
    for text in (b"first draft\n", b"second draft\n"):
        s3.put_object(Bucket="cv-versions", Key="doc.txt", Body=text)
    return BIG_KEYS + len(mixed) + 7


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
    condition = json.loads(args.condition) if args.condition else None
    document = args.trust_policy or trust_policy(args.principal, args.external_id, condition)
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


def objects(args):
    """With the admin key, as the bucket's owner: `put` writes --key (--body, or its own name as
    text); `keys` prints every key under --prefix, one per line; `head` prints the key's ETag;
    `uploads` counts the multipart uploads still open under --prefix. Tests use them to set up
    and check the world without Crossview."""
    s3 = admin_client("s3")
    if args.command == "put":
        body = args.body if args.body is not None else f"content of {args.key}\n"
        extra = {"StorageClass": args.storage_class} if args.storage_class else {}
        s3.put_object(Bucket=args.bucket, Key=args.key, Body=body.encode(), **extra)
        return
    if args.command == "putdir":
        # Every file under --dir, at --prefix plus its path there (folders kept).
        root = pathlib.Path(args.dir)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = args.prefix + path.relative_to(root).as_posix()
            s3.upload_file(str(path), args.bucket, key)
        return
    if args.command == "head":
        print(s3.head_object(Bucket=args.bucket, Key=args.key)["ETag"])
        return
    if args.command == "uploads":
        print(len(s3.list_multipart_uploads(Bucket=args.bucket, Prefix=args.prefix).get("Uploads", [])))
        return
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=args.prefix)
    for page in pages:
        for item in page.get("Contents", []):
            print(item["Key"])


def bucket(args):
    """(Re)creates --name as its owner would, for the doctor's tests: one object `hello.txt`, a
    CORS rule for each --cors origin (none: no CORS configuration at all), with --kms default
    encryption by a new KMS key (its ARN is printed), and with --signature-age-ms an
    organisation's cap on how old a presigned URL S3 honours."""
    s3 = admin_client("s3")
    try:
        s3.create_bucket(Bucket=args.name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=args.name, Key="hello.txt", Body=b"hello\n")
    if args.cors:
        cors_for_crossview(s3, args.name, args.cors)
    else:
        s3.delete_bucket_cors(Bucket=args.name)
    # As an organisation's resource control policy caps how old a presigned URL may be (none
    # unless asked); it is outside the account, so the stand-in is told directly.
    query = urllib.parse.urlencode({"bucket": args.name, "signature_age_ms": args.signature_age_ms or ""})
    control = urllib.request.Request(f"{args.endpoint}/_standin/resource-control?{query}", method="PUT")
    urllib.request.urlopen(control).close()
    if args.kms:
        key = admin_client("kms").create_key(Description=f"{args.name}'s objects")["KeyMetadata"]["Arn"]
        s3.put_bucket_encryption(
            Bucket=args.name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
            },
        )
        print(key)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"))
    commands = parser.add_subparsers(dest="command")
    role = commands.add_parser("role", help="create or update a role")
    role.add_argument("--name", required=True)
    role.add_argument("--principal", default=os.environ.get("CROSSVIEW_STANDIN_PRINCIPAL_ARN"))
    role.add_argument("--external-id", help="omit for a trust policy without the condition")
    role.add_argument("--condition", help='the trust statement\'s Condition block (JSON), e.g. {"StringLike": {"sts:ExternalId": "*"}}')
    role.add_argument("--trust-policy", help="a whole trust policy document (JSON)")
    role.add_argument("--permissions", help="a permissions policy document (JSON)")
    put = commands.add_parser("put", help="write one object (admin key)")
    put.add_argument("--bucket", required=True)
    put.add_argument("--key", required=True)
    put.add_argument("--body")
    put.add_argument("--storage-class", help="e.g. GLACIER (the stand-in keeps it, as S3 would)")
    putdir = commands.add_parser("putdir", help="write every file of a folder under a prefix (admin key)")
    putdir.add_argument("--bucket", required=True)
    putdir.add_argument("--prefix", required=True)
    putdir.add_argument("--dir", required=True)
    head = commands.add_parser("head", help="print an object's ETag (admin key)")
    head.add_argument("--bucket", required=True)
    head.add_argument("--key", required=True)
    for name, what in (("keys", "list the keys under a prefix"), ("uploads", "count open multipart uploads")):
        listing = commands.add_parser(name, help=f"{what} (admin key)")
        listing.add_argument("--bucket", required=True)
        listing.add_argument("--prefix", default="")
    commands.add_parser("archive", help="seed the demo's folder of 3,000 keys (admin key)")
    made = commands.add_parser("bucket", help="(re)create a bucket for the doctor's tests (admin key)")
    made.add_argument("--name", required=True)
    made.add_argument("--cors", action="append", help="an origin its CORS rule admits (repeat)")
    made.add_argument("--kms", action="store_true", help="encrypt by default with a new KMS key")
    made.add_argument("--signature-age-ms", type=int, help="a resource control policy refusing older presigned URLs")
    parser.add_argument("--out")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--browse", action="store_true")
    parser.add_argument(
        "--origin",
        action="append",
        help="Crossview's origin, which the buckets' CORS rule allows (repeat for several; "
        "default $CROSSVIEW_ORIGIN or http://127.0.0.1:3000)",
    )
    args = parser.parse_args()
    args.origin = args.origin or [os.environ.get("CROSSVIEW_ORIGIN", "http://127.0.0.1:3000")]
    if args.command == "role":
        return put_role(args)
    if args.command in ("put", "putdir", "keys", "head", "uploads"):
        return objects(args)
    if args.command == "archive":
        return demo_archive(admin_client("s3"))
    if args.command == "bucket":
        return bucket(args)

    admin_id, admin_secret = admin_key(args.endpoint)
    iam = client("iam", args.endpoint, admin_id, admin_secret)
    arn, key_id, secret = crossview_identity(iam)
    check_arn, check_id = check_role(iam, arn)
    summary = f"Crossview's identity {arn}"
    if args.demo:
        count = demo_buckets(client("s3", args.endpoint, admin_id, admin_secret), args.origin)
        summary += f"; 2 demo buckets, {count} objects"
    if args.browse:
        count = browse_buckets(client("s3", args.endpoint, admin_id, admin_secret), args.origin)
        summary += f"; 7 browsing buckets, {count} objects"

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
