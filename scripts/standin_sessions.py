"""AssumeRole's session length as STS limits it, for the stand-in (imported by
scripts/moto_server.py after its own limits): moto grants any DurationSeconds, while STS refuses
one longer than the role's MaxSessionDuration (3,600 seconds unless its owner raised it)."""

from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts import responses as sts_responses
from moto.sts.exceptions import STSValidationError

_assume_role = sts_responses.TokenResponse.assume_role


def _max_session(role_arn):
    parts = (role_arn or "").split(":")
    if len(parts) < 6:
        return None
    try:
        role = iam_backends[parts[4]]["aws"].get_role_by_arn(role_arn)
    except NotFoundException:
        return None
    return int(getattr(role, "max_session_duration", None) or 3600)


def _assume_role_for_its_length(self):
    duration = self._get_param("DurationSeconds")
    longest = _max_session(self._get_param("RoleArn"))
    if duration and longest and int(duration) > longest:
        raise STSValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        )
    return _assume_role(self)


sts_responses.TokenResponse.assume_role = _assume_role_for_its_length
