"""moto's ListMultipartUploads says every unfinished upload began on 2010-11-10 (a date fixed in
its answer); S3 says when each one did, and Crossview shows how long ago. The stand-in keeps the
moment each upload is created and puts it in the answer. Imported by scripts/moto_server.py."""

import datetime
import re

from moto.s3 import models as s3_models
from moto.s3 import responses as s3_responses

_create = s3_models.FakeMultipart.__init__


def _create_with_start(self, *args, **kwargs):
    _create(self, *args, **kwargs)
    self.initiated = datetime.datetime.now(datetime.timezone.utc)


s3_models.FakeMultipart.__init__ = _create_with_start

_list = s3_responses.S3Response.list_multipart_uploads


def _list_with_starts(self):
    status, headers, body = _list(self)
    uploads = self.backend.list_multipart_uploads(self.bucket_name)
    text = body.decode() if isinstance(body, bytes) else body

    def started(match):
        upload = re.search(r"<UploadId>(.*?)</UploadId>", match.group(0))
        when = getattr(uploads.get(upload.group(1)) if upload else None, "initiated", None)
        if when is None:
            return match.group(0)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        return re.sub(r"<Initiated>[^<]*</Initiated>", f"<Initiated>{stamp}</Initiated>", match.group(0))

    text = re.sub(r"<Upload>.*?</Upload>", started, text, flags=re.S)
    return status, headers, text.encode() if isinstance(body, bytes) else text


s3_responses.S3Response.list_multipart_uploads = _list_with_starts
