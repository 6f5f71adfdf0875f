"""Seed 003's three queries and a registration through a client generated from the server's
/openapi.json by openapi-python-client (issue 24 item 1: a generated client crashed on every
projected read, since every field of a case was marked required).

Usage: test_generated_client.py BASE_URL DATA_DIR, with the generated package `indriva_client`
on PYTHONPATH (.ci/python-generated-client does all of it).
"""

import json
import sys

import httpx

from indriva_client import AuthenticatedClient
from indriva_client.api.cases import get_case, list_cases, register_case
from indriva_client.models.register_case_body import RegisterCaseBody

base, data = sys.argv[1], sys.argv[2]
code = json.load(open(f"{data}/sandbox-credentials.json"))["api_code"]
token = httpx.post(f"{base}/authenticates/api-code", json={"api_code": code}).json()["token"]
client = AuthenticatedClient(base_url=base, token=token, prefix="", auth_header_name="X-API-Key")

# A registration (seed 002's body), through the typed body model.
body = RegisterCaseBody.from_dict({
    "account": "674dbeaf08847b9501cc9132",
    "creditor": "674dbeb208847b9501cc9138",
    "first_action": "debt_collection",
    "currency": "SEK",
    "customer": {
        "name": "ACME Inc.", "id_number": "5560269986", "is_company": True,
        "address": {"address_line_1": "Storgatan 42", "zip_code": "12345",
                    "city": "Stockholm", "country": "SE"},
    },
    "debts": [{
        "invoice_number": "INV-GENERATED-1", "debt_description": "Services",
        "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT", "capital_to_claim": 2000.0,
        "invoice_due_days_after_invoice_date": 31,
    }],
})
registered = register_case.sync_detailed(client=client, body=body)
assert registered.status_code == 201, registered.content
case_id = registered.parsed.field_cases[0]

# Seed 003, query 1: one case, projected.
one = get_case.sync_detailed(case_id, client=client, projection=json.dumps({
    "_id": 1, "state": 1, "status": 1, "closed": 1,
    "debt.invoice_number": 1, "total_remaining_capital_amount": 1,
}))
assert one.status_code == 200, one.content
case = one.parsed
assert case.debt.invoice_number == "INV-GENERATED-1", case
assert case.total_remaining_capital_amount == 2000.0, case

# Query 2: open cases, newest first.
open_cases = list_cases.sync_detailed(client=client, where=json.dumps({"closed": {"$exists": False}}),
    projection=json.dumps({"_id": 1, "state": 1, "status": 1, "debt.invoice_number": 1,
                           "total_remaining_capital_amount": 1}),
    sort="-_created", max_results=50)
assert open_cases.status_code == 200, open_cases.content
invoices = [c.debt.invoice_number for c in open_cases.parsed.field_items]
assert "INV-GENERATED-1" in invoices, invoices

# Query 3: cases closed after a date, latest first.
closed = list_cases.sync_detailed(client=client,
    where=json.dumps({"closed.close_date": {"$gt": "Mon, 13 Jan 2026 00:00:00 GMT"}}),
    projection=json.dumps({"_id": 1, "closed": 1, "debt.invoice_number": 1,
                           "total_remaining_capital_amount": 1}),
    sort="-closed.close_date", max_results=50)
assert closed.status_code == 200, closed.content
assert isinstance(closed.parsed.field_items, list)
print(f"generated client OK: registered {case_id}, {len(invoices)} open, "
      f"{len(closed.parsed.field_items)} closed since 13 Jan 2026")
