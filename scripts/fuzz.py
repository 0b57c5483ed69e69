#!/usr/bin/env python3
"""Throws Schemathesis at a running weelo-server, from its own OpenAPI
document: one pass per role (customer, transporter, driver), each signed in
as a user of that role and covering the operations that role may call (the
public ones in the customer's pass). Fails on any 5xx, an answer that does
not match its schema, or a request the server accepted that the schema
forbids.

    python3 scripts/fuzz.py --url http://127.0.0.1:3000 --max-time 60

Needs a server that shows OTPs in its answers (config/local.toml or
test.toml) and Schemathesis (tests/python/requirements.txt).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

CHECKS = "not_a_server_error,response_schema_conformance,negative_data_rejection"
# Ending the session would sign the rest of the pass out.
EXCLUDED = {("post", "/auth/logout")}


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(
        f"{base}/api/v1/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["data"]


def sign_in(base):
    """Tokens of a customer, a transporter and its driver."""
    tokens = {}
    for role, phone in (("customer", "9811100001"), ("transporter", "9811100002")):
        otp = call(base, "POST", "auth/send-otp", {"phone": phone, "role": role})["otp"]
        answer = call(base, "POST", "auth/verify-otp", {"phone": phone, "role": role, "otp": otp})
        tokens[role] = answer["tokens"]["accessToken"]
    driver_phone = "9811100003"
    try:
        started = call(base, "POST", "driver/onboard/initiate",
                       {"phone": driver_phone, "name": "Fuzz Driver"}, tokens["transporter"])
        call(base, "POST", "driver/onboard/verify",
             {"phone": driver_phone, "otp": started["otp"]}, tokens["transporter"])
    except urllib.error.HTTPError as error:
        if error.code != 409:  # DRIVER_EXISTS: a pass before this one onboarded it
            raise
    otp = call(base, "POST", "driver-auth/send-otp", {"driverPhone": driver_phone})["otp"]
    answer = call(base, "POST", "driver-auth/verify-otp", {"driverPhone": driver_phone, "otp": otp})
    tokens["driver"] = answer["accessToken"]
    return tokens


def for_role(document, role):
    """The document with only the operations `role` may call."""
    kept = json.loads(json.dumps(document))
    for path, methods in list(kept["paths"].items()):
        for method, operation in list(methods.items()):
            roles = operation.get("x-roles", [])
            public = not roles
            mine = role in roles if not public else role == "customer"
            if not mine or (method, path) in EXCLUDED:
                del methods[method]
        if not methods:
            del kept["paths"][path]
    return kept


def summary_numbers(output):
    """(operations tested, test cases) from Schemathesis's summary."""
    operations = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"Test cases:\s+(\d+) generated", output)
    return (
        int(operations.group(1)) if operations else 0,
        int(cases.group(1)) if cases else 0,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:3000")
    parser.add_argument("--max-time", type=int, default=60, help="seconds per role")
    parser.add_argument("--st", default=os.environ.get("SCHEMATHESIS", "st"),
                        help="the schemathesis command")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if os.sep in args.st:
        # Schemathesis runs in a folder of its own (below): a path to it
        # must not depend on where we started.
        args.st = os.path.abspath(args.st)

    with urllib.request.urlopen(f"{args.url}/api/v1/openapi.json", timeout=10) as answer:
        document = json.load(answer)
    tokens = sign_in(args.url)
    failed = False
    totals = {"operations": 0, "cases": 0}
    for role in ("customer", "transporter", "driver"):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as schema:
            json.dump(for_role(document, role), schema)
        command = [
            args.st, "run", schema.name,
            "--url", f"{args.url}/api/v1",
            "--header", f"Authorization: Bearer {tokens[role]}",
            "--checks", CHECKS,
            "--max-time", str(args.max_time),
            # One worker: CPython 3.11 before 3.11.8 can fail `ast.parse` in
            # two threads at once ("AST constructor recursion depth
            # mismatch"), which Hypothesis calls while describing filters.
            "--workers", "1",
            "--request-timeout", "10",
            "--suppress-health-check", "all",
            "--output-truncate", "true",
        ]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        print(f"fuzz: {role}: {' '.join(command[:3])} … ({args.max_time} s)", flush=True)
        # In a folder of its own: Schemathesis and Hypothesis keep caches in
        # the working directory, which must not be the repository.
        with tempfile.TemporaryDirectory() as scratch:
            run = subprocess.run(command, capture_output=True, text=True, cwd=scratch)
        os.unlink(schema.name)
        output = run.stdout + run.stderr
        operations, cases = summary_numbers(output)
        totals["operations"] += operations
        totals["cases"] += cases
        phases = re.search(r"Test Phases:\n((?:  .*\n)+)", output)
        ran = " ".join(line.strip() for line in phases.group(1).splitlines()) if phases else "?"
        print(f"fuzz: {role}: {operations} operations, {cases} test cases, phases: {ran}; "
              f"exit {run.returncode}")
        if run.returncode != 0:
            failed = True
            print(output[-20000:])
    print(f"fuzz: {totals['operations']} operations, {totals['cases']} test cases in all; "
          f"{'FAILURES above' if failed else 'no failure'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
