"""Seeds 000 and 001 as written (only the base URL and the token changed): register a case,
upload the original invoice with `requests`' multipart, fetch the signed URL.
Usage: python test_case_flow.py <base url> <data dir>"""

import os
import sys
import tempfile

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "docs", "clients"))
from auth_token_provider import AuthTokenProvider  # noqa: E402

base, data_dir = sys.argv[1], sys.argv[2]
auth = AuthTokenProvider.from_credentials_file(os.path.join(data_dir, "sandbox-credentials.json"), base)

# Seed 000, verbatim.
seed_000 = {
  "account": "674dbeaf08847b9501cc9132",
  "creditor": "674dbeb208847b9501cc9138",
  "first_action": "debt_collection",
  "currency": "SEK",
  "customer": {
    "name": "Jane Doe",
    "id_number": "202501012385",
    "address": {
      "address_line_1": "Business Street 456",
      "zip_code": "54321",
      "city": "Gothenburg",
      "country": "SE"
    },
    "mobile_number": "+46709876543",
    "email": "jane.doe@domain.se"
  },
  "debts": [
    {
      "invoice_number": "778899",
      "debt_description": "Consulting fee",
      "invoice_date": "Mon, 16 Jun 2025 00:00:00 GMT",
      "capital_to_claim": 250.0,
      "invoice_due_days_after_invoice_date": 10
    }
  ]
}
r = requests.post(f"{base}/case--registrations", json=seed_000,
                  headers={"x-api-key": auth.get_valid_token(), "Content-Type": "application/json"})
assert r.status_code == 201, r.text
result = r.json()
assert result["_status"] == "OK" and len(result["_cases"]) == 1, result
assert len(result["_ocr_numbers_ocr"][0]) == 20, result

# Seed 001, verbatim (the Python variant).
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
        "capital_to_claim": 2050.0,  # 2000 + 50 invoice fee
        "invoice_due_days_after_invoice_date": 31,
        "fees_included_in_capital_to_claim": {
            "invoice_fee": 50.0
        },
        "fees_already_claimed": {
            "reminder": {
                "amount": 60.0,
                "fee_registration_date": "Mon, 11 Aug 2025 00:00:00 GMT"
            }
        }
    }]
}

token = auth.get_valid_token()
response = requests.post(
    f'{base}/case--registrations',
    json=case_data,
    headers={
        'X-API-Key': token,
        'Content-Type': 'application/json'
    }
)
response.raise_for_status()
result = response.json()
case_id = result["_cases"][0]

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "original_invoice.pdf")
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4\n% an original invoice\n%%EOF\n")
    os.chdir(d)
    # Seed 001's upload, verbatim.
    token = auth.get_valid_token()

    files = {
        'file': ('original_invoice.pdf', open('original_invoice.pdf', 'rb'), 'application/pdf')
    }
    data = {
        'domain': 'cases',
        'dotted_path': 'original_invoice'
    }

    response = requests.post(
        f'{base}/media--upload/{case_id}',
        files=files,
        data=data,
        headers={'X-API-Key': token}
    )
    response.raise_for_status()
    result = response.json()

assert response.status_code == 201, response.text
url = result["url"]
got = requests.get(url)
assert got.status_code == 200 and got.content.startswith(b"%PDF-"), got.status_code
assert got.headers["Content-Type"] == "application/pdf"
case = requests.get(f"{base}/cases/{case_id}", headers={"X-API-Key": token}).json()
assert case["original_invoice"]["filename"] == "original_invoice.pdf", case
# The sandbox clock stands where seed 002 left it (Wed, 03 Sep 2025 11:18:58): the case is
# 27 days past its due date (7 Aug), so the upload, a change to the case, posted the interest
# due: 2050 x 10 % (reference rate 2 % + 8) x 27 / 365 = 15.16, whole kronor 15.
clock = requests.get(f"{base}/sandbox/clock", headers={"X-API-Key": token}).json()
assert clock["now"] == "Wed, 03 Sep 2025 11:18:58 GMT", clock
assert case["local_remaining_interest_amount"] == 15.0, case
assert case["local_remaining_transaction_amount"] == 2050.0 + 60.0 + 15.0, case
print("case flow OK:", case_id, url.split("?")[0])
