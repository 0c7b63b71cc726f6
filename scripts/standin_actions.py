"""The stand-in's authorization of what moto names wrongly, as IAM does (imported by
scripts/moto_server.py).

moto knows no action for a bucket's encryption and Object Lock settings (it asks for
s3:ListBucket) and names the public access block's wrongly, under a query key the SDK never
sends. moto authorizes every KMS call against "*" instead of the key it names, and answers a
refused one with an XML body the KMS clients (JSON protocol) cannot read.
"""

from moto.core import exceptions
from moto.core.exceptions import JsonRESTError
from moto.kms import responses as kms_responses
from moto.s3.responses import ACTION_MAP

for method, verb in (("GET", "Get"), ("PUT", "Put")):
    ACTION_MAP["BUCKET"][method].update(
        {
            "encryption": f"{verb}EncryptionConfiguration",
            "object-lock": f"{verb}BucketObjectLockConfiguration",
            "publicAccessBlock": f"{verb}BucketPublicAccessBlock",
        }
    )


def _kms_key_resource(self):
    """The key a KMS call names (by id, ARN or alias), as AWS authorizes it."""
    key_id = self._get_param("KeyId")
    if not key_id:
        return "*"
    try:
        return self.kms_backend.describe_key(key_id).arn
    except Exception:
        return "*"


kms_responses.KmsResponse._determine_resource = _kms_key_resource

_kms_authorize = kms_responses.KmsResponse._authenticate_and_authorize_normal_action


def _kms_refusals_as_json(self, resource="*"):
    """KMS speaks JSON: a refusal is `{"__type": "AccessDeniedException", ...}`."""
    try:
        return _kms_authorize(self, resource)
    except exceptions.AccessDeniedError as denied:
        raise JsonRESTError("AccessDeniedException", denied.message)


kms_responses.KmsResponse._authenticate_and_authorize_normal_action = _kms_refusals_as_json
