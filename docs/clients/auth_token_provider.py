"""AuthTokenProvider for Indriva (and Amili's creditor API).

Signs a short-lived JWT ({"api_code", "exp"}) with your private key, exchanges it at
GET /authenticates/api-code for an access token, caches the token and renews it shortly
before it expires. Use the token as the X-API-Key header on every other request.

    pip install requests pyjwt cryptography

    auth = AuthTokenProvider.from_credentials_file("indriva-data/sandbox-credentials.json",
                                                   "http://127.0.0.1:8080")
    requests.get(f"{base}/cases", headers={"X-API-Key": auth.get_valid_token()})
"""

import json
import threading
import time
from email.utils import parsedate_to_datetime

import jwt
import requests


class AuthTokenProvider:
    def __init__(self, api_url, api_code, private_key_pem, algorithm="ES256",
                 jwt_lifetime_seconds=600, renew_before_seconds=60, session=None):
        self.api_url = api_url.rstrip("/")
        self.api_code = api_code
        self.private_key_pem = private_key_pem
        self.algorithm = algorithm
        self.jwt_lifetime_seconds = min(jwt_lifetime_seconds, 600)  # the server allows 10 minutes
        self.renew_before_seconds = renew_before_seconds
        self.session = session or requests.Session()
        self._token = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_credentials_file(cls, path, api_url, **kwargs):
        with open(path) as f:
            c = json.load(f)
        return cls(api_url, c["api_code"], c["private_key_pem"], c.get("algorithm", "ES256"), **kwargs)

    def _signed_jwt(self):
        claims = {"api_code": self.api_code, "exp": int(time.time()) + self.jwt_lifetime_seconds}
        return jwt.encode(claims, self.private_key_pem, algorithm=self.algorithm)

    def _authenticate(self):
        r = self.session.get(f"{self.api_url}/authenticates/api-code",
                             headers={"X-API-Key": self._signed_jwt()}, timeout=30)
        r.raise_for_status()
        body = r.json()
        self._token = body["token"]
        self._expires_at = parsedate_to_datetime(body["expires"]).timestamp()

    def get_valid_token(self):
        """A token valid for at least `renew_before_seconds` more."""
        with self._lock:
            if self._token is None or time.time() >= self._expires_at - self.renew_before_seconds:
                self._authenticate()
            return self._token
