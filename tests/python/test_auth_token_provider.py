"""Runs docs/clients/auth_token_provider.py against a live `indriva serve` (started by
.ci/run-python-client). Usage: python test_auth_token_provider.py <base url> <data dir>"""

import json
import os
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "docs", "clients"))
from auth_token_provider import AuthTokenProvider  # noqa: E402

base, data_dir = sys.argv[1], sys.argv[2]
creds_path = os.path.join(data_dir, "sandbox-credentials.json")
auth = AuthTokenProvider.from_credentials_file(creds_path, base)

token = auth.get_valid_token()
assert token and auth.get_valid_token() == token, "the token is cached"

r = requests.get(f"{base}/cases", params={
    "where": json.dumps({"closed": {"$exists": False}}),
    "projection": json.dumps({"state": 1, "debt.invoice_number": 1}),
    "sort": "-_created", "max_results": 50,
}, headers={"X-API-Key": token})
assert r.status_code == 200, r.text
assert set(r.json()["_meta"]) == {"page", "max_results", "total"}, r.text

assert requests.get(f"{base}/cases").status_code == 401, "no token, no data"

# Renewal: a provider that renews once less than an hour is left renews every time.
eager = AuthTokenProvider.from_credentials_file(creds_path, base, renew_before_seconds=3600)
t1 = eager.get_valid_token()
time.sleep(1.1)
t2 = eager.get_valid_token()
assert t1 != t2, "a token close to expiry is renewed"
assert requests.get(f"{base}/cases", headers={"X-API-Key": t2}).status_code == 200

print("1 passed, 0 failed")
