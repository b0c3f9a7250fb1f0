"""The canary secrets the tests hand syncer (see :mod:`tests.support.canary`): distinctive, URL-safe,
found by a plain substring search. No pytest here, so a test server can import them freely."""

from __future__ import annotations

TARGET_TOKEN = "CANARY-TOKEN-7f3a51c9e2d84b06"
SOURCE_TOKEN = "CANARY-SOURCE-TOKEN-7f3a8d20c6b1"
LDAP_PASSWORD = "CANARY-LDAP-PW-7f3a46e1b97c"
WEBHOOK_SECRET = "CANARY-HOOK-7f3a0b5d33f2"
CLIENT_SECRET = "CANARY-CLIENT-SECRET-7f3a2e9b41d7"
WEBHOOK_PATH = f"/hooks/{WEBHOOK_SECRET}"

CANARIES = {
    "target token": TARGET_TOKEN,
    "SCIM source token": SOURCE_TOKEN,
    "LDAP bind password": LDAP_PASSWORD,
    "webhook URL secret": WEBHOOK_SECRET,
    "OAuth client secret": CLIENT_SECRET,
}
