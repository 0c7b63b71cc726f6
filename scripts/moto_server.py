"""Starts moto's server (the local AWS stand-in) with one fix that makes it behave like AWS.

moto 5.2 treats a trust-policy condition key that is absent from the request as a match, so an
AssumeRole *without* an ExternalId succeeds against a role that requires one. AWS denies it, and
Crossview's verify step relies on that denial. The replacement below makes an absent key fail
`StringEquals` (and its list form), as AWS does. Everything else is moto's own server.

Usage: python3 scripts/moto_server.py [moto_server args, e.g. -H 127.0.0.1 -p 5000]
Strict mode: set INITIAL_NO_AUTH_ACTION_COUNT=N in the environment.
"""

import sys

from moto.iam import access_control
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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
