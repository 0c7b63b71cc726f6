"""Checks the infrastructure as code Crossview gives people, as copied from its connection page by
the Playwright suite (end2end/tests/doctor.spec.ts writes them under DIR):

  - the Terraform module deploy/terraform/crossview-role and DIR/snippet/main.tf (the page's
    module call) parse with python-hcl2, and the snippet passes this connection's values;
  - checkov scans the snippet with the module beside it (as `source` names it) and fails none of
    its checks (a skip must be justified in the file itself);
  - cfn-lint finds nothing in DIR/template.json (the page's CloudFormation template).

Usage: python3 scripts/iac_check.py DIR CHECKOV
"""

import json
import pathlib
import shutil
import subprocess
import sys

import hcl2

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE = ROOT / "deploy" / "terraform" / "crossview-role"


def parse(path):
    with open(path) as f:
        return hcl2.load(f)


def unquote(text):
    """python-hcl2 8 keeps a string's quotes (block labels too): the value they hold."""
    return json.loads(text) if isinstance(text, str) and text[:1] == '"' else text


def fields(block):
    """A block's attributes by name, unquoted, without python-hcl2's own markers."""
    return {unquote(k): unquote(v) for k, v in block.items() if not k.startswith("__")}


def main():
    out, checkov = pathlib.Path(sys.argv[1]), sys.argv[2]
    for tf in sorted(MODULE.glob("*.tf")):
        parse(tf)
    variables = {unquote(name) for block in parse(MODULE / "variables.tf")["variable"] for name in block}
    snippet = out / "snippet"
    call = fields(fields(parse(snippet / "main.tf")["module"][0])["crossview_role"])
    given = set(call) - {"source"}
    assert given <= variables, f"the snippet passes inputs the module lacks: {given - variables}"
    facts = json.loads((out / "connection.json").read_text())
    assert call["external_id"] == facts["external_id"], call
    assert call["crossview_principal_arn"] == facts["principal_arn"], call
    assert call["access"] == facts["access"], call
    print(f"python-hcl2: the module ({len(variables)} inputs) and the page's snippet parse")

    # The snippet's `source` is ./modules/crossview-role: the module goes there, as in a repo.
    shutil.rmtree(snippet / "modules", ignore_errors=True)
    shutil.copytree(MODULE, snippet / "modules" / "crossview-role")
    scan = subprocess.run(
        [checkov, "-d", str(snippet), "--framework", "terraform", "--download-external-modules", "false",
         "--skip-download", "--compact", "--quiet", "--output", "json"],
        capture_output=True, text=True,
    )
    report = json.loads(scan.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = [r["summary"] for r in reports]
    failed = sum(s["failed"] for s in summary)
    passed = sum(s["passed"] for s in summary)
    if failed or not passed:
        for r in reports:
            for check in r.get("results", {}).get("failed_checks", []):
                print(f"checkov: {check['check_id']} {check['check_name']} ({check['file_path']})")
        sys.exit(f"checkov: {failed} failed, {passed} passed")
    print(f"checkov: {passed} checks passed, none failed")

    lint = subprocess.run(
        [sys.executable, "-c", "import sys, cfnlint.runner; sys.exit(cfnlint.runner.main())", str(out / "template.json")],
        capture_output=True, text=True,
    )
    if lint.returncode != 0:
        sys.exit(f"cfn-lint:\n{lint.stdout}{lint.stderr}")
    print("cfn-lint: the page's CloudFormation template is clean")


if __name__ == "__main__":
    main()
