"""Half-open and oversized requests: a request head must arrive within
HANDSHAKE_TIMEOUT_SECONDS (408) and fit in MAX_REQUEST_HEAD_BYTES (431); a request line or header
line over websockets' 8 KiB gets its 414/431; a body over MAX_REQUEST_BODY_BYTES gets 413. Each
answer is sent, and the socket closed, while a healthy pair goes on."""

from __future__ import annotations

import contextlib
import select
import socket
import time

import pytest

from tests.adversarial.harness import (
    Watch,
    json_body,
    raw_socket,
    read_until_closed,
    scaled,
    status_of,
    upgrade_request,
)
from tests.support.auth import refused_status
from tests.support.server import ServerFactory

TIMEOUT = 2.0  # HANDSHAKE_TIMEOUT_SECONDS in these tests


def trickle(sockets: list[socket.socket], seconds: float) -> dict[socket.socket, bytes]:
    """Send one header byte a second on every socket still open, as a slowloris does; collect
    what the server answers; return when all are closed or after `seconds`."""
    answers = {sock: b"" for sock in sockets}
    open_ = set(sockets)
    deadline = time.monotonic() + seconds
    next_byte = 0.0
    while open_ and time.monotonic() < deadline:
        if time.monotonic() >= next_byte:
            for sock in list(open_):
                try:
                    sock.send(b"X")
                except OSError:
                    open_.discard(sock)
            next_byte = time.monotonic() + 1.0
        readable, _, _ = select.select(list(open_), [], [], 0.1)
        for sock in readable:
            try:
                chunk = sock.recv(4096)
            except OSError:
                chunk = b""
            answers[sock] += chunk
            if not chunk:
                open_.discard(sock)
    assert not open_, f"{len(open_)} of {len(sockets)} slow handshakes still open after {seconds}s"
    return answers


def test_slow_handshakes_are_answered_408_and_closed_at_the_deadline(
    make_server: ServerFactory,
) -> None:
    server = make_server({"HANDSHAKE_TIMEOUT_SECONDS": str(TIMEOUT)})
    with Watch(server):
        started = time.monotonic()
        sockets = [raw_socket(server) for _ in range(scaled(100))]
        for sock in sockets:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        answers = trickle(sockets, TIMEOUT + 4)
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + 4
    for answer in answers.values():
        assert status_of(answer) == 408, answer[:100]
        assert json_body(answer)["error"]["code"] == "request_timeout"


def test_a_silent_connection_is_closed_at_the_deadline(make_server: ServerFactory) -> None:
    server = make_server({"HANDSHAKE_TIMEOUT_SECONDS": str(TIMEOUT)})
    sock = raw_socket(server)
    assert status_of(read_until_closed(sock, TIMEOUT + 3)) == 408


def test_a_request_line_over_8_kib_is_answered_414_and_closed(make_server: ServerFactory) -> None:
    server = make_server()
    with Watch(server):
        for _ in range(scaled(30)):
            sock = raw_socket(server)
            sock.sendall(upgrade_request("/ws?pad=" + "a" * 9000))
            assert status_of(read_until_closed(sock, 5)) == 414


def test_a_header_line_over_8_kib_is_answered_431_and_closed(make_server: ServerFactory) -> None:
    server = make_server()
    sock = raw_socket(server)
    sock.sendall(upgrade_request(extra=f"X-Pad: {'b' * 9000}\r\n"))
    assert status_of(read_until_closed(sock, 5)) == 431


@pytest.mark.parametrize("path", ["/healthz", "/ws"])
def test_a_head_over_the_limit_sent_in_one_write_is_answered_431(
    make_server: ServerFactory, path: str
) -> None:
    server = make_server({"MAX_REQUEST_HEAD_BYTES": "4096"})
    # 30 headers of 1 KB: no line over the parser's own limits, 30 KB in all, one write.
    pads = "".join(f"X-Pad-{n}: {'d' * 1000}\r\n" for n in range(30))
    sock = raw_socket(server)
    sock.sendall(upgrade_request(path, extra=pads))
    answer = read_until_closed(sock, 5)
    assert status_of(answer) == 431, answer[:100]
    assert json_body(answer)["error"]["code"] == "request_too_large"
    # Under the limit, the same request is answered.
    sock = raw_socket(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + pads[:2000].encode() + b"\r\n\r\n")
    assert status_of(sock.recv(4096)) == 200


def test_endless_request_heads_are_cut_at_the_limit_and_memory_stays_flat(
    make_server: ServerFactory,
) -> None:
    server = make_server()
    with Watch(server):
        sockets = [raw_socket(server) for _ in range(scaled(20))]
        chunk = b"GET /ws HTTP/1.1\r\nX-Pad: " + b"c" * 65536
        answers = []
        for sock in sockets:
            sock.setblocking(False)
            try:  # up to 2 MiB of one header, as far as the server lets us
                for _ in range(32):
                    sock.send(chunk)
            except (BlockingIOError, OSError):
                pass
            sock.setblocking(True)
            answers.append(read_until_closed(sock, 5))
    for answer in answers:
        assert status_of(answer) == 431, answer[:100]
        assert json_body(answer)["error"]["code"] == "request_too_large"


def test_a_body_over_the_limit_is_answered_413_before_it_is_read(
    make_server: ServerFactory,
) -> None:
    server = make_server({"MAX_REQUEST_BODY_BYTES": "65536"})
    with Watch(server):
        declared = raw_socket(server)
        declared.sendall(
            b"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n{"
        )
        answer = read_until_closed(declared, 5)
        assert status_of(answer) == 413
        assert json_body(answer)["error"]["code"] == "body_too_large"
        chunked = raw_socket(server)
        chunked.sendall(
            b"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"10000\r\n" + b"d" * 0x10000 + b"\r\n"
        try:
            for _ in range(scaled(32)):
                chunked.sendall(piece)
        except OSError:
            pass  # closed under our feet: that is the point
        assert status_of(read_until_closed(chunked, 5)) == 413


def test_trailers_after_a_chunked_body_count_as_head_and_memory_stays_flat(
    make_server: ServerFactory,
) -> None:
    server = make_server({"HANDSHAKE_TIMEOUT_SECONDS": str(TIMEOUT)})
    with Watch(server):
        for path in (b"/auth/token", b"/healthz"):
            sock = raw_socket(server)
            sock.sendall(
                b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\n1\r\na\r\n0\r\n"
            )
            pad = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 1000) for n in range(64))
            try:
                for _ in range(scaled(64)):  # 4 MiB of trailers (40 in make faults)
                    sock.sendall(pad)
            except OSError:
                pass  # answered and closed under our feet: that is the point
            answer = read_until_closed(sock, 5)
            assert status_of(answer) == 431, answer[:200]
            assert json_body(answer)["error"]["code"] == "request_too_large"


def test_many_tiny_header_lines_are_refused_before_they_are_kept_and_memory_stays_flat(
    make_server: ServerFactory,
) -> None:
    # 3,200 four-byte lines fit the byte limit, but uvicorn keeps each as ~130 B of objects.
    server = make_server({"HANDSHAKE_TIMEOUT_SECONDS": str(TIMEOUT)})
    lines = b"".join(b"a:%d\r\n" % (n % 10) for n in range(3_200))
    with Watch(server):
        sockets = [raw_socket(server) for _ in range(scaled(100, 300))]
        for sock in sockets:
            sock.sendall(b"POST /auth/token HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
        answers = [read_until_closed(sock, 5) for sock in sockets]
    assert {status_of(answer) for answer in answers} == {431}


def test_a_request_answered_before_it_ended_is_closed_once_idle_with_no_second_answer(
    make_server: ServerFactory,
) -> None:
    server = make_server({"HANDSHAKE_TIMEOUT_SECONDS": str(TIMEOUT)})
    sock = raw_socket(server)
    # The admin route answers 401 at once, before the chunked body has ended.
    sock.sendall(
        b"POST /admin/users/x/disable HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
    )
    time.sleep(0.3)
    sock.sendall(b"0\r\n\r\n")  # the request ends; then the client says nothing more
    answer = read_until_closed(sock, TIMEOUT + 3)
    assert answer.count(b"HTTP/1.1 ") == 1 and status_of(answer) == 401, answer[:300]


def test_refused_handshakes_write_no_error_lines(
    make_server: ServerFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    # uvicorn logged "ASGI callable returned without completing handshake" as an ERROR for every
    # refused handshake: a log anyone could fill, one request at a time.
    server = make_server({"LOG_LEVEL": "WARNING"})
    for query in ("?format=bad", "?history=%C2%B2", "?room=" + "r" * 100):
        for _ in range(scaled(20)):
            assert refused_status(server.ws + query) == 400
    assert "ERROR" not in capfd.readouterr().err


def test_pipelined_requests_never_read_are_bounded_even_from_a_trusted_proxy(
    make_server: ServerFactory,
) -> None:
    # 127.0.0.1 is a trusted proxy by default (FORWARDED_ALLOW_IPS), so the per-address request
    # rate does not apply: the bound is per connection. One socket sending pipelined GETs and
    # never reading its answers took 180 MiB in ten seconds.
    server = make_server()
    requests = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 2000
    with Watch(server):
        sockets = [raw_socket(server) for _ in range(scaled(2))]
        for sock in sockets:
            sock.setblocking(False)
        deadline = time.monotonic() + scaled(3, 10)
        sent = 0
        while time.monotonic() < deadline:
            for sock in sockets:
                with contextlib.suppress(BlockingIOError, OSError):
                    sent += sock.send(requests)
            time.sleep(0.02)
    # The server stopped reading, then closed: at most a few reads' worth were taken.
    assert sent < 16 * 1024 * 1024, sent
