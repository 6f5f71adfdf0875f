"""Seed 002 (the Swedish case flow example) replayed on the sandbox clock: register the case
at the guide's time, upload the original invoice, move the clock to when the guide looks at
the case, find the documented case and its collection letter, then send the guide's creditor
payment and find the closed case. Only the base URL and the token are changed from the guide;
the clock calls are Indriva's own.
Usage: python test_seed_002.py <base url> <data dir>"""

import os
import sys

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "docs", "clients"))
from auth_token_provider import AuthTokenProvider  # noqa: E402

base, data_dir = sys.argv[1], sys.argv[2]
auth = AuthTokenProvider.from_credentials_file(os.path.join(data_dir, "sandbox-credentials.json"), base)


def headers():
    return {"X-API-Key": auth.get_valid_token(), "Content-Type": "application/json"}


def clock(now):
    r = requests.post(f"{base}/sandbox/clock", json={"now": now}, headers=headers())
    assert r.status_code == 200, r.text
    return r.json()


# Start from an empty sandbox at the guide's registration time.
assert requests.post(f"{base}/sandbox/reset", headers=headers()).status_code == 200
clock("Wed, 03 Sep 2025 07:56:11 GMT")

# 1. Register the case (the guide's Python variant, verbatim).
case_data = {
    "account": "674dbeaf08847b9501cc9132",
    "creditor": "674dbeb208847b9501cc9138",
    "first_action": "debt_collection",
    "currency": "SEK",
    "customer": {
        "name": "ACME Inc.",
        "id_number": "5560269986",
        "is_company": True,
        "address": {
            "address_line_1": "Storgatan 42",
            "zip_code": "12345",
            "city": "Stockholm",
            "country": "SE"
        }
    },
    "debts": [{
        "invoice_number": "INV-2025-003",
        "debt_description": "Services",
        "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT",
        "capital_to_claim": 2000.0,
        "invoice_due_days_after_invoice_date": 31
    }]
}
token = auth.get_valid_token()
response = requests.post(f"{base}/case--registrations", json=case_data,
                         headers={"X-API-Key": token, "Content-Type": "application/json"})
response.raise_for_status()
result = response.json()
assert result["_created"] == "Wed, 03 Sep 2025 07:56:11 GMT", result
case_id = result["_cases"][0]
ocr = result["_ocr_numbers_ocr"][0]

# 2. Upload the original invoice (a one-page PDF of our own).
pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
files = {"file": ("original_invoice.pdf", pdf, "application/pdf")}
data = {"domain": "cases", "dotted_path": "original_invoice"}
response = requests.post(f"{base}/media--upload/{case_id}", files=files, data=data,
                         headers={"X-API-Key": auth.get_valid_token()})
response.raise_for_status()

# 3. The guide looks at the case at 09:10:17 the same day.
moved = clock("Wed, 03 Sep 2025 09:10:17 GMT")
assert moved["flow_items_run"] == 3 and moved["letters_queued"] == 1, moved
response = requests.get(f"{base}/cases/{case_id}", headers={"X-API-Key": auth.get_valid_token()})
response.raise_for_status()
case = response.json()
assert case["state"] == "debt_collection", case
assert [s["state"] for s in case["state_history"]] == ["initializing", "debt_collection"], case
assert [s["status"] for s in case["status_history"]] == ["initializing", "initialized", "debt_collection"]
assert case["local_added_interest_amount"] == 14.0, case
assert case["total_remaining_transaction_amount"] == 2014.0, case
assert [(t["type"], t["amount"]) for t in case["transactions"]] == [("capital", 2000.0), ("interest", 14.0)]
assert case["next_flow_item"]["item"] == "case--debt-collections__debt_statement"
assert case["next_flow_item"]["schedule_to_execute"] == "Fri, 19 Sep 2025 00:00:00 GMT"
# The collection letter is queued: limitation is interrupted once it has been sent.
assert case["original_invoice"]["filename"] == "original_invoice.pdf"

# The collection letter, as a PDF, within a few seconds.
import json  # noqa: E402
import time  # noqa: E402

where = json.dumps({"case": case_id})
for _ in range(100):
    letters = requests.get(f"{base}/case--letters", params={"where": where},
                           headers={"X-API-Key": auth.get_valid_token()}).json()
    if letters["_items"] and letters["_items"][0]["status"] == "rendered":
        break
    time.sleep(0.1)
letter = letters["_items"][0]
assert letter["type"] == "debt_collection" and letter["status"] == "rendered", letter
pdf = requests.get(letter["url"])
assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-"), pdf.status_code
# Sent, the letter interrupted limitation: ten years from its day (a company owes the debt).
case = requests.get(f"{base}/cases/{case_id}", headers={"X-API-Key": auth.get_valid_token()}).json()
assert case["limitation"]["locale_annotation"] == "api.log_messages.letter_sent_debt_collection"
assert "2035" in case["limitation"]["limitation_date"], case["limitation"]
assert case["limitation"]["break_date"] == letter["sent_date"], (case["limitation"], letter)

# 4. The debtor paid the creditor directly: the guide's payment, verbatim, at 11:18:58.
clock("Wed, 03 Sep 2025 11:18:58 GMT")
payment_data = {
    "account": "674dbeaf08847b9501cc9132",
    "creditor": "674dbeb208847b9501cc9138",
    "case": case_id,
    "currency": "SEK",
    "amount": 2000.0,
    "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
    "creditor_payment_reference": "PAY-REF-001",
    "origin": "creditor_system"
}
token = auth.get_valid_token()
response = requests.post(
    f'{base}/creditor--payments',
    json=payment_data,
    headers={
        'X-API-Key': token,
        'Content-Type': 'application/json'
    }
)
response.raise_for_status()
result = response.json()
assert result["_status"] == "OK" and result["_payment_status"] == "completed", result
assert result["_created"] == "Wed, 03 Sep 2025 11:18:58 GMT", result

# 5. The final case status: closed, as the guide shows.
response = requests.get(f'{base}/cases/{case_id}', headers={'X-API-Key': auth.get_valid_token()})
response.raise_for_status()
case = response.json()
assert case["status"] == "closed", case
assert case["closed"]["reason"] == "fully_paid_depreciation", case
assert [s["status"] for s in case["status_history"]] == [
    "initializing", "initialized", "debt_collection", "closed"]
assert [(t["type"], t["amount"], t["description_locale_tag"]) for t in case["transactions"]] == [
    ("capital", 2000.0, "api.transaction.case_registration"),
    ("interest", 14.0, "api.transaction.case_flow"),
    ("capital", -2000.0, "creditor_payment.payment_settled"),
    ("interest", -14.0, "api.transaction.depreciated"),
], case["transactions"]
assert case["transactions"][2]["creditor_payment"] == result["_id"]
assert case["local_remaining_transaction_amount"] == 0.0
assert case["next_flow_item_on_close"]["item"] == "case--debt-collections__debt_statement"
assert "next_flow_item" not in case

# Leave the sandbox empty for the next script (seed 001 registers INV-2025-003 too).
assert requests.post(f"{base}/sandbox/reset", headers=headers()).status_code == 200
print(f"seed 002 replayed: case {case_id} through debt_collection (interest 14.0, letter {letter['_id']}, OCR {ocr}) to fully_paid_depreciation")
