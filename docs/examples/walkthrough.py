"""The README's walk-through as one script, top to bottom, on a fresh server:

    cargo run --release -- serve --webhook-allow-private     # in one terminal
    python3 docs/examples/walkthrough.py                      # in another

It takes an access token as Amili's authentication guide does, registers a case and uploads
its original invoice (seeds 000 and 001), reads cases the three ways of the case-status guide
(seed 003), then replays seed 002 on the sandbox clock (registration, the flow, the
creditor's payment that closes the case) while a local webhook receiver hears the case move.
Without `--webhook-allow-private` the server refuses a webhook on this machine; the script
says so and goes on without it. CI runs it against a fresh data dir.

Needs: pip install requests pyjwt cryptography
Usage: python3 walkthrough.py [base url] [data dir]   (default http://127.0.0.1:8080 indriva-data)
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import queue
import sys
import threading
import time

import jwt
import requests

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
data_dir = sys.argv[2] if len(sys.argv) > 2 else "indriva-data"
creds = json.load(open(os.path.join(data_dir, "sandbox-credentials.json")))


def check(r, status):
    assert r.status_code == status, f"{r.request.method} {r.url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


# --- An access token: a JWT signed with the API user's key, exchanged for a token ---------
signed = jwt.encode({"api_code": creds["api_code"], "exp": int(time.time()) + 600},
                    creds["private_key_pem"], algorithm=creds["algorithm"])
auth = check(requests.get(f"{base}/authenticates/api-code", headers={"X-API-Key": signed}), 200)
headers = {"X-API-Key": auth["token"]}      # valid until auth["expires"]
print("token until", auth["expires"])

# --- Register a case and upload its original invoice (seeds 000 and 001) -----------------
case_data = {
    "account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
    "first_action": "debt_collection", "currency": "SEK",
    "customer": {"name": "ACME Inc.", "id_number": "5560269986", "is_company": True,
                 "address": {"address_line_1": "Storgatan 42", "zip_code": "12345",
                             "city": "Stockholm", "country": "SE"}},
    "debts": [{"invoice_number": "INV-2025-003", "debt_description": "Services",
               "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT", "capital_to_claim": 2050.0,
               "invoice_due_days_after_invoice_date": 31,
               "fees_included_in_capital_to_claim": {"invoice_fee": 50.0},
               "fees_already_claimed": {"reminder": {"amount": 60.0,
                   "fee_registration_date": "Mon, 11 Aug 2025 00:00:00 GMT"}}}]}
r = requests.post(f"{base}/case--registrations", json=case_data,
                  headers={**headers, "Idempotency-Key": "INV-2025-003"})
result = check(r, 201)     # {"_id", "_cases": [...], "_ocr_numbers_ocr": ["2025…"], ...}
case_id = result["_cases"][0]
print("registered case", case_id, "OCR", result["_ocr_numbers_ocr"][0])

with open("original_invoice.pdf", "wb") as f:
    f.write(b"%PDF-1.4\n% an original invoice\n%%EOF\n")
files = {"file": ("original_invoice.pdf", open("original_invoice.pdf", "rb"), "application/pdf")}
r = requests.post(f"{base}/media--upload/{case_id}", files=files,
                  data={"domain": "cases", "dotted_path": "original_invoice"}, headers=headers)
url = check(r, 201)["url"]          # signed, valid one hour; GET it without a token
assert requests.get(url).content.startswith(b"%PDF")
os.remove("original_invoice.pdf")

# The same invoice number again, while the first case is open: 422, and why.
r = requests.post(f"{base}/case--registrations", json=case_data, headers=headers)
print("again:", r.status_code, check(r, 422)["_issues"])

# --- Reading cases (seed 003) --------------------------------------------------------------
# 1. open cases of a creditor, newest first
page = check(requests.get(f"{base}/cases", params={
    "where": json.dumps({"creditor": "674dbeb208847b9501cc9138", "closed": {"$exists": False}}),
    "projection": json.dumps({"_id": 1, "state": 1, "status": 1, "debt.invoice_number": 1,
                              "total_remaining_capital_amount": 1}),
    "sort": "-_created", "max_results": 50}, headers=headers), 200)
print(page["_meta"])                # {'page': 1, 'max_results': 50, 'total': ...}
assert page["_items"][0]["_id"] == case_id

# 2. cases closed since a date, for reconciliation
closed = check(requests.get(f"{base}/cases", params={
    "where": json.dumps({"closed.close_date": {"$gt": "Mon, 13 Jan 2025 00:00:00 GMT"}}),
    "projection": json.dumps({"_id": 1, "closed": 1, "debt.invoice_number": 1}),
    "sort": "-closed.close_date", "max_results": 50}, headers=headers), 200)
for c in closed["_items"]:
    print(c["_id"], c["closed"]["reason"])

# 3. one case, with a projection; the ETag makes re-reads cheap
r = requests.get(f"{base}/cases/{case_id}", headers=headers,
                 params={"projection": json.dumps({"state": 1, "status": 1, "closed": 1})})
etag = check(r, 200) and r.headers["ETag"]
assert requests.get(f"{base}/cases/{case_id}",
                    headers={**headers, "If-None-Match": etag}).status_code == 304


# --- Seed 002 on the sandbox clock, with a webhook listening -------------------------------
def clock(now):
    return check(requests.post(f"{base}/sandbox/clock", json={"now": now}, headers=headers), 200)


check(requests.post(f"{base}/sandbox/reset", headers=headers), 200)   # start empty
clock("Wed, 03 Sep 2025 07:56:11 GMT")

# A receiver on this machine that verifies each event (docs/webhooks.md).
events = queue.Queue()
secret = None


def verify(headers, body, tolerance=300):
    if abs(time.time() - int(headers["webhook-timestamp"])) > tolerance:
        raise ValueError("timestamp too old or too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in headers["webhook-signature"].split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise ValueError("no valid signature")


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        events.put(verify(self.headers, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
r = requests.post(f"{base}/webhooks", headers=headers, json={
    "url": f"http://127.0.0.1:{receiver.server_port}/events",
    "events": ["case.state_changed", "case.letter_sent", "case.closed", "payment.settled"]})
if r.status_code == 201:
    secret = r.json()["secret"]          # shown once: keep it
    print("webhook", r.json()["_id"])
else:
    print("no webhook:", r.json()["_issues"]["url"])   # start the server with --webhook-allow-private


def heard(kind, timeout=15):
    """Waits for an event of this type (the worker sends within a second or two)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            event = events.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            break
        print("  webhook:", event["type"], event["data"])
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event within {timeout} s")


seed_002 = json.loads(json.dumps(case_data))
seed_002["debts"][0].update(capital_to_claim=2000.0)     # seed 002's debt: no fees
del seed_002["debts"][0]["fees_included_in_capital_to_claim"]
del seed_002["debts"][0]["fees_already_claimed"]
case_id = check(requests.post(f"{base}/case--registrations", json=seed_002,
                              headers=headers), 201)["_cases"][0]     # state: initializing

print(clock("Wed, 03 Sep 2025 09:10:17 GMT"))
case = check(requests.get(f"{base}/cases/{case_id}", headers=headers), 200)
print(case["state"], case["local_added_interest_amount"])
assert (case["state"], case["local_added_interest_amount"]) == ("debt_collection", 14.0)
print(case["next_flow_item"]["item"], case["next_flow_item"]["schedule_to_execute"])
if secret:
    assert heard("case.state_changed")["data"]["state"] == "debt_collection"
    heard("case.letter_sent")

deadline = time.time() + 30   # the worker typesets the letter's PDF within a second or two
while True:
    letters = check(requests.get(f"{base}/case--letters", headers=headers,
                                 params={"where": json.dumps({"case": case_id})}), 200)["_items"]
    if letters[0]["status"] == "rendered" or time.time() > deadline:
        break
    time.sleep(0.5)
print(letters[0]["type"], letters[0]["status"], letters[0].get("url"))   # the inkassokrav PDF
# Sent, the letter interrupts limitation: ten years from its day (a company owes the debt).
case = check(requests.get(f"{base}/cases/{case_id}", headers=headers), 200)
print(case["limitation"]["limitation_date"], case["limitation"]["locale_annotation"])
assert case["limitation"]["locale_annotation"] == "api.log_messages.letter_sent_debt_collection"
forecast = check(requests.get(f"{base}/cases/{case_id}/forecast", headers=headers), 200)
print([(s["item"], s["date"]) for s in forecast["steps"][:2]])

# Seed 002's step 4: the debtor paid the creditor directly, and the creditor reports it.
clock("Wed, 03 Sep 2025 11:18:58 GMT")
payment_data = {
    "account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
    "case": case_id, "currency": "SEK", "amount": 2000.0,
    "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
    "creditor_payment_reference": "PAY-REF-001", "origin": "creditor_system",
}
paid = check(requests.post(f"{base}/creditor--payments", json=payment_data, headers=headers), 201)
print(paid)                                              # _payment_status: completed
case = check(requests.get(f"{base}/cases/{case_id}", headers=headers), 200)
print(case["status"], case["closed"]["reason"])          # closed fully_paid_depreciation
assert case["closed"]["reason"] == "fully_paid_depreciation"
print([(t["type"], t["amount"]) for t in case["transactions"]])
if secret:
    assert heard("payment.settled")["data"]["amount"] == 2000.0
    assert heard("case.closed")["data"]["close_reason"] == "fully_paid_depreciation"
    deliveries = check(requests.get(f"{base}/webhook--deliveries", headers=headers,
                                    params={"where": json.dumps({"status": "delivered"})}), 200)
    print(deliveries["_meta"]["total"], "deliveries delivered")

receiver.shutdown()
print("walk-through done")
