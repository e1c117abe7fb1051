"""Every numeric input is range-checked: 400 or 422 with the reason (or an `error` object on the
socket), never a 500, a traceback or a silent close; hammering them hurts nobody."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.adversarial.harness import Watch, scaled
from tests.support.auth import refused_status
from tests.support.clients import JsonClient
from tests.support.server import ServerFactory, ServerProcess

HUGE = "9" * 5000
TOO_BIG = str(2**63)


# A browser percent-encodes what is not ASCII: "²" arrives as %C2%B2, which str.isdigit() took.
BAD_HISTORY = ["²", "٣", HUGE, TOO_BIG, "-1", "1.5", "501", " 5", ""]
BAD_IDS = ["superscript", "arabic-indic", "5000-digits", "2**63", "-1", "1.5", "501", "space", ""]


@pytest.mark.parametrize("history", BAD_HISTORY, ids=BAD_IDS)
def test_a_handshake_history_out_of_range_is_refused_with_400(
    server: ServerProcess, history: str
) -> None:
    value = quote(history)
    assert refused_status(f"{server.ws}?history={value}") == 400
    assert refused_status(f"{server.ws}?format=json&room=r&history={value}") == 400


@pytest.mark.parametrize("name", ["after", "before", "limit"])
@pytest.mark.parametrize(
    "value",
    [TOO_BIG, HUGE, "-1", "1.5", "²", "1e3", ""],
    ids=["2**63", "5000-digits", "-1", "1.5", "superscript", "1e3", "empty"],
)
def test_a_history_query_out_of_range_is_refused_with_422(
    server: ServerProcess, name: str, value: str
) -> None:
    answer = httpx.get(f"{server.http}/rooms/r/messages", params={name: value})
    assert answer.status_code == 422, answer.text
    assert name in answer.text  # the reason names the parameter


def test_the_largest_ids_are_accepted(server: ServerProcess) -> None:
    largest = str(2**63 - 1)
    for name in ("after", "before"):
        answer = httpx.get(f"{server.http}/rooms/r/messages", params={name: largest})
        assert answer.status_code == 200
        assert answer.json()["messages"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("since", 2**63), ("since", -1), ("since", 10**30), ("history", 501), ("history", -1)],
)
def test_a_subscribe_number_out_of_range_is_an_error_and_the_socket_stays(
    server: ServerProcess, field: str, value: int
) -> None:
    client = JsonClient(server.ws)
    client.send(type="subscribe", room="r", **{field: value})
    error = client.next_of("error")
    assert error["code"] == "invalid_field"
    assert field in error["detail"]
    client.send(type="ping")
    assert client.next_of("pong") == {"type": "pong"}


def test_hammering_numeric_inputs_hurts_nobody(make_server: ServerFactory) -> None:
    server = make_server()
    with Watch(server), httpx.Client(base_url=server.http) as http:
        for _ in range(scaled(100)):
            for name in ("after", "before"):
                assert http.get("/rooms/r/messages", params={name: HUGE}).status_code == 422
            assert refused_status(f"{server.ws}?history={HUGE}") == 400
            assert refused_status(f"{server.ws}?history=%C2%B2") == 400
