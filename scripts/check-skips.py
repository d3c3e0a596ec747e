#!/usr/bin/env python3
"""Lists the tests CTest skipped (from its JUnit report) with the reason each gave, and, in CI
(CI=true), fails unless every skipped test is on the allow-list with a reason.

usage: check-skips.py JUNIT_XML ALLOWLIST

The allow-list holds one entry per line: a test name (fnmatch glob: "CgroupTest.V2*") and, after
whitespace, why skipping it is expected on the machines CI runs on. Lines starting with # are comments.
A skip that hides a missing feature on CI must be fixed, not listed.
"""
import fnmatch
import os
import re
import sys
import xml.etree.ElementTree as ET


def load_allowlist(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or not parts[1].strip():
                sys.exit(f"{path}:{number}: '{parts[0]}' has no reason; every allowed skip says why")
            entries.append((parts[0], parts[1].strip()))
    return entries


def skip_reason(case):
    text = ""
    for tag in ("skipped", "system-out"):
        node = case.find(tag)
        if node is not None:
            text += (node.get("message") or "") + "\n" + (node.text or "")
    # GoogleTest prints "file:line: Skipped" and the reason on the next line(s).
    match = re.search(r"Skipped\s*\n(.+)", text)
    if match:
        return match.group(1).strip()
    return "(no reason printed)"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    report, allowlist_path = sys.argv[1], sys.argv[2]
    if not os.path.exists(report):
        print(f"check-skips: no test report at {report}; nothing to check")
        return 0
    allowlist = load_allowlist(allowlist_path)
    skipped = []
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.get("status") == "skipped" or case.find("skipped") is not None:
            skipped.append((case.get("name"), skip_reason(case)))
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    unexpected = []
    print(f"\n== {len(skipped)} skipped test(s)")
    for name, reason in sorted(skipped):
        allowed = next((why for pattern, why in allowlist if fnmatch.fnmatchcase(name, pattern)), None)
        mark = "allowed" if allowed else "NOT ALLOWED" if ci else "skipped"
        print(f"  {name}: {reason} [{mark}]")
        if allowed is None:
            unexpected.append(name)
    if ci and unexpected:
        print(f"\ncheck-skips: {len(unexpected)} test(s) skipped in CI without an entry in {allowlist_path}; "
              "a skip there hides a feature: fix the machine or the test, or list it with the reason")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
