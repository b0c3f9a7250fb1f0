"""The fault-injection proxy, seen by a plain httpx client: each fault kind, the schedules, forwarding."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.fault_proxy import KINDS, FaultProxy, Rule
from tests.support.scim_server import ScimTestServer

SCIM = "application/scim+json"


@pytest.fixture
def proxy(scim: ScimTestServer) -> Iterator[FaultProxy]:
    with FaultProxy(scim.base_url, seed=7) as p:
        yield p


@pytest.fixture
def http(proxy: FaultProxy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.base_url, timeout=5.0, headers={"Content-Type": SCIM}) as client:
        yield client


def _user(name: str) -> bytes:
    return json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}).encode()


def _names(server: ScimTestServer) -> list[str]:
    return sorted(u["userName"] for u in server.resources("Users"))


def test_base_url_keeps_the_servers_suffix(proxy: FaultProxy, scim: ScimTestServer) -> None:
    assert proxy.base_url.endswith("/v2")
    assert proxy.base_url != scim.base_url


def test_forwards_requests_unchanged(proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer) -> None:
    created = http.post("/Users", content=_user("ada"))
    assert created.status_code == 201
    assert created.json()["userName"] == "ada"
    assert created.headers["ETag"]
    uid = created.json()["id"]
    found = http.get("/Users", params={"filter": 'userName eq "ada"'})
    assert found.status_code == 200 and found.json()["totalResults"] == 1
    patch = {"Operations": [{"op": "replace", "path": "displayName", "value": "Ada L."}]}
    assert http.patch(f"/Users/{uid}", content=json.dumps(patch)).status_code == 204
    assert http.get(f"/Users/{uid}").json()["displayName"] == "Ada L."
    assert http.delete(f"/Users/{uid}").status_code == 204
    assert http.get(f"/Users/{uid}").status_code == 404
    stats = proxy.stats()
    assert stats.received == stats.forwarded == {"POST": 1, "GET": 3, "PATCH": 1, "DELETE": 1}
    assert stats.injected == {}
    assert scim.counts() == stats.forwarded


@pytest.mark.parametrize("kind", ["500", "502", "503", "401"])
def test_status_faults_answer_a_scim_error_and_never_reach_the_server(
    kind: str, proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule(kind, probability=1.0))
    response = http.post("/Users", content=_user("ada"))
    assert response.status_code == int(kind)
    body = response.json()
    assert body["status"] == kind
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    if kind == "401":
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="SCIM"'
    assert scim.counts() == {}
    assert _names(scim) == []
    assert proxy.stats().injected == {kind: 1}
    assert proxy.stats().forwarded == {}


def test_429_carries_retry_after(proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer) -> None:
    proxy.set_rules(Rule("429", probability=1.0, retry_after=2))
    response = http.get("/Users")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["scimType"] == "tooMany"
    assert scim.counts() == {}


def test_timeout_holds_the_request_past_the_client_timeout(
    proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule("timeout", probability=1.0, hold=1.0))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post("/Users", content=_user("ada"), timeout=0.3)
    assert 0.25 < time.monotonic() - started < 1.0
    assert _names(scim) == []
    # after the hold, the proxy drops the connection without a byte of answer
    proxy.set_rules(Rule("timeout", probability=1.0, hold=0.2))
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/Users", timeout=2.0)
    assert proxy.stats().injected == {"timeout": 2}


def test_reset_aborts_the_connection(proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer) -> None:
    proxy.set_rules(Rule("reset", probability=1.0))
    started = time.monotonic()
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)) as caught:
        http.post("/Users", content=_user("ada"))
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert time.monotonic() - started < 1.0
    assert _names(scim) == []
    # the client recovers on a new connection
    proxy.set_rules()
    assert http.get("/Users").status_code == 200


def test_malformed_json_is_a_200_with_a_cut_body(
    proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule("malformed_json", probability=1.0))
    response = http.get("/Users", params={"filter": 'userName eq "ada"'})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == SCIM
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert scim.counts() == {}


@pytest.mark.parametrize("status", [502, 200])
def test_html_error_page(status: int, proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer) -> None:
    proxy.set_rules(Rule("html", probability=1.0, status=status))
    response = http.get("/Users")
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")
    assert scim.counts() == {}


def test_lost_response_performs_the_write(
    proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule("lost_response", probability=1.0, methods={"POST"}))
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/Users", content=_user("ada"))
    assert _names(scim) == ["ada"]  # the create happened, the client saw a failure
    # the retry a client makes meets its own object
    proxy.set_rules()
    assert http.post("/Users", content=_user("ada")).status_code == 409
    assert _names(scim) == ["ada"]
    assert proxy.stats().forwarded == {"POST": 2}
    assert proxy.stats().injected == {"lost_response": 1}


def test_lost_response_with_hold_looks_like_a_timeout(
    proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule("lost_response", probability=1.0, hold=1.0))
    with pytest.raises(httpx.ReadTimeout):
        http.post("/Users", content=_user("ada"), timeout=0.3)
    assert _names(scim) == ["ada"]


def test_forward_true_replaces_the_answer_of_a_write_that_happened(
    proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule("500", probability=1.0, forward=True))
    assert http.post("/Users", content=_user("ada")).status_code == 500
    assert _names(scim) == ["ada"]


def test_first_every_burst_and_limit(proxy: FaultProxy, http: httpx.Client) -> None:
    def pattern(rule: Rule, n: int) -> str:
        proxy.set_rules(rule)
        return "".join("x" if http.get("/Users").status_code == 503 else "." for _ in range(n))

    assert pattern(Rule("503", first=3), 6) == "xxx..."
    assert pattern(Rule("503", every=3), 9) == "..x..x..x"
    assert pattern(Rule("503", every=4, burst=2), 10) == "...xx..xx."
    assert pattern(Rule("503", probability=1.0, limit=2), 4) == "xx.."


def test_method_and_path_filters(proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer) -> None:
    proxy.set_rules(Rule("502", probability=1.0, methods={"POST"}, path=r"/Groups$"))
    assert http.post("/Users", content=_user("ada")).status_code == 201
    assert http.get("/Groups").status_code == 200
    group = json.dumps({"displayName": "g"})
    assert http.post("/Groups", content=group).status_code == 502
    # the query string is not part of the path a rule sees
    proxy.set_rules(Rule("502", probability=1.0, path=r"^/v2/Users$"))
    assert http.get("/Users", params={"filter": 'userName eq "ada"'}).status_code == 502
    assert http.get("/Groups").status_code == 200


def test_rules_are_tried_in_order(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.set_rules(Rule("429", first=1), Rule("500", every=2))
    statuses = [http.get("/Users").status_code for _ in range(4)]
    # request 1 is the 429's; the 500 rule counts it too, so it fires on requests 2 and 4
    assert statuses == [429, 500, 200, 500]
    assert proxy.stats().injected == {"429": 1, "500": 2}


def test_probability_is_seeded_and_close_to_the_rate(scim: ScimTestServer) -> None:
    def run(seed: int) -> str:
        with (
            FaultProxy(scim.base_url, [Rule("500", probability=0.3)], seed=seed) as p,
            httpx.Client(base_url=p.base_url) as client,
        ):
            return "".join("x" if client.get("/Users").status_code == 500 else "." for _ in range(200))

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert first != other
    assert 40 <= first.count("x") <= 80


def test_counters_are_exact_under_concurrency(
    proxy: FaultProxy, http: httpx.Client, scim: ScimTestServer
) -> None:
    proxy.set_rules(Rule("503", every=5))
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: http.get("/Users").status_code, range(200)))
    stats = proxy.stats()
    assert statuses.count(503) == stats.injected["503"] == 40
    assert stats.received == {"GET": 200}
    assert stats.forwarded == {"GET": 160} == scim.counts()
    proxy.reset_counters()
    assert proxy.stats().requests == 0


def test_unknown_kinds_and_bad_rules_are_refused() -> None:
    assert "lost_response" in KINDS
    with pytest.raises(ValueError, match="unknown fault kind"):
        Rule("418")
    with pytest.raises(ValueError):
        Rule("500", probability=1.5)
    with pytest.raises(ValueError):
        Rule("lost_response", forward=True)


def test_stop_lets_held_requests_go(scim: ScimTestServer) -> None:
    proxy = FaultProxy(scim.base_url, [Rule("timeout", probability=1.0, hold=30)])
    proxy.start()
    with httpx.Client(base_url=proxy.base_url, timeout=0.2) as client, pytest.raises(httpx.ReadTimeout):
        client.get("/Users")
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 3


def test_cap_limits_the_faults_of_one_identical_request(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.set_rules(Rule("500", probability=1.0), Rule("503", probability=1.0), cap=2)
    assert [http.get("/Users").status_code for _ in range(3)] == [500, 500, 200]
    # another query or another body is another request
    assert http.get("/Users", params={"count": "1"}).status_code == 500
    assert http.post("/Users", content=_user("ada")).status_code == 500
    assert http.post("/Users", content=_user("bob")).status_code == 500
    assert http.post("/Users", content=_user("ada")).status_code == 500
    assert http.post("/Users", content=_user("ada")).status_code == 201
    # set_rules starts the count again
    proxy.set_rules(Rule("500", probability=1.0), cap=1)
    assert [http.get("/Users").status_code for _ in range(2)] == [500, 200]
