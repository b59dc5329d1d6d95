"""Slow and idle clients: the header deadline, the keep-alive idle timeout, the body stall timeout,
and a slowloris crowd beside a well-behaved client. Every socket here is bounded by a timeout."""
import http.client
import json
import os
import resource
import select
import socket
import threading
import time

import pytest

from jobgate_client import multipart_body

HEADER_TIMEOUT = 2
IDLE_TIMEOUT = 4
BODY_IDLE_TIMEOUT = 2
# Scheduling on a shared machine delays a deadline a little but never brings it forward.
LATE_MARGIN = 1.5

TIMEOUT_SETTINGS = {
    "JOBGATE_HEADER_TIMEOUT": HEADER_TIMEOUT,
    "JOBGATE_IDLE_TIMEOUT": IDLE_TIMEOUT,
    "JOBGATE_BODY_IDLE_TIMEOUT": BODY_IDLE_TIMEOUT,
}


def connect(stack):
    return socket.create_connection(("127.0.0.1", stack.port), timeout=30)


def read_until_closed(sock, limit_seconds):
    """Read until the peer closes, and return the bytes received and the time of the close."""
    received = b""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.05)
        if not ready:
            continue
        try:
            piece = sock.recv(65536)
        except ConnectionResetError:
            return received, time.monotonic()
        if not piece:
            return received, time.monotonic()
        received += piece
    raise AssertionError(f"connection still open after {limit_seconds} s, received {received!r}")


def read_response(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.getheader("Connection"), response.read()


def import_upload(api_key, csv_bytes):
    """Build the header and body of a raw import request."""
    body, content_type = multipart_body([
        ("importRequest", None, "application/json", b'{"objectType":"contacts"}'),
        ("files", "slow.csv", "text/csv", csv_bytes)])
    head = (f"POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api_key}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head, body


def contact_rows(count):
    return b"email\r\n" + b"".join(b"slow%06d@example.com\r\n" % i for i in range(count))


# The header never completes, so only the deadline can end the request.
TRICKLED_HEADER = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200


def trickle_until_answer(sock):
    """Send the trickled header four bytes a second, and return the time the first response byte
    arrived, or None when the header ran out first."""
    for byte in TRICKLED_HEADER:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return None
        ready, _, _ = select.select([sock], [], [], 0.25)
        if ready:
            return time.monotonic()
    return None


def check_request_timeout(status, connection, body):
    assert status == 408
    assert connection == "close"
    document = json.loads(body)
    assert document["type"].endswith("/request-timeout")
    assert document["status"] == 408


def test_trickled_header_gets_408(make_stack):
    stack = make_stack(TIMEOUT_SETTINGS, worker_count=0)
    with connect(stack) as sock:
        started = time.monotonic()
        answered = trickle_until_answer(sock)
        assert answered is not None, "no response to the trickled header"
        status, connection, body = read_response(sock)
    elapsed = answered - started
    print(f"trickled header answered after {elapsed:.2f} s")
    check_request_timeout(status, connection, body)
    assert elapsed >= HEADER_TIMEOUT
    assert elapsed < HEADER_TIMEOUT + LATE_MARGIN


def test_trickled_keep_alive_header_gets_408(make_stack):
    stack = make_stack(TIMEOUT_SETTINGS, worker_count=0)
    with connect(stack) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = read_response(sock)
        assert status == 200

        # The deadline of the second request starts with its first byte, not at the response.
        time.sleep(1)
        started = time.monotonic()
        answered = trickle_until_answer(sock)
        assert answered is not None, "no response to the trickled header"
        status, connection, body = read_response(sock)
    elapsed = answered - started
    print(f"trickled keep-alive header answered after {elapsed:.2f} s")
    check_request_timeout(status, connection, body)
    assert elapsed >= HEADER_TIMEOUT - 0.05
    assert elapsed < HEADER_TIMEOUT + LATE_MARGIN


def test_silent_connection_closed_without_response(make_stack):
    stack = make_stack(TIMEOUT_SETTINGS, worker_count=0)
    with connect(stack) as sock:
        started = time.monotonic()
        received, closed = read_until_closed(sock, HEADER_TIMEOUT + 10)
    elapsed = closed - started
    assert received == b""
    assert elapsed >= HEADER_TIMEOUT
    assert elapsed < HEADER_TIMEOUT + LATE_MARGIN


def test_idle_keep_alive_closed(make_stack):
    stack = make_stack(TIMEOUT_SETTINGS, worker_count=0)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(stack) as sock:
        sock.sendall(request)
        status, connection, _ = read_response(sock)
        assert status == 200
        assert connection != "close"

        # A pause longer than the header timeout but shorter than the idle timeout keeps the
        # connection, because the header deadline starts with the next request's first byte.
        time.sleep(HEADER_TIMEOUT + 1)
        sock.sendall(request)
        status, _, _ = read_response(sock)
        assert status == 200

        answered = time.monotonic()
        received, closed = read_until_closed(sock, IDLE_TIMEOUT + 10)
    elapsed = closed - answered
    print(f"idle keep-alive connection closed after {elapsed:.2f} s")
    assert received == b""
    assert elapsed >= IDLE_TIMEOUT - 0.05
    assert elapsed < IDLE_TIMEOUT + LATE_MARGIN


# 16 KiB every quarter second is 64 KiB/s. At 8 KiB/s a 64 KiB read buffer takes longer than the
# body idle timeout to fill, so only a deadline restarted by every read lets that upload through.
@pytest.mark.parametrize("rows, piece, interval", [(16000, 16 * 1024, 0.25), (1700, 4096, 0.5)],
                         ids=["64KiB/s", "8KiB/s"])
def test_steady_slow_upload_completes(make_stack, rows, piece, interval):
    stack = make_stack(TIMEOUT_SETTINGS, worker_count=0)
    head, body = import_upload(stack.api_key, contact_rows(rows))
    with connect(stack) as sock:
        started = time.monotonic()
        sock.sendall(head)
        for offset in range(0, len(body), piece):
            sock.sendall(body[offset:offset + piece])
            time.sleep(interval)
        status, _, response_body = read_response(sock)
    elapsed = time.monotonic() - started
    print(f"slow upload of {len(body)} bytes took {elapsed:.2f} s")
    assert status == 202, response_body
    assert json.loads(response_body)["status"] == "PENDING"
    assert elapsed > 2 * BODY_IDLE_TIMEOUT
    assert elapsed > 2 * HEADER_TIMEOUT


def test_stalled_upload_is_cut(make_stack):
    stack = make_stack(TIMEOUT_SETTINGS, worker_count=0)
    head, body = import_upload(stack.api_key, contact_rows(4000))
    with connect(stack) as sock:
        sock.sendall(head + body[:16 * 1024])
        stalled = time.monotonic()
        received, closed = read_until_closed(sock, BODY_IDLE_TIMEOUT + 10)
    elapsed = closed - stalled
    print(f"stalled upload cut after {elapsed:.2f} s")
    # A timed-out body leaves the request unanswered, so the gateway only closes the connection.
    assert received == b""
    assert elapsed >= BODY_IDLE_TIMEOUT - 0.05
    assert elapsed < BODY_IDLE_TIMEOUT + LATE_MARGIN

    # The partial upload's temporary file is removed.
    time.sleep(0.5)
    leftovers = [name for _, _, files in os.walk(stack.env["JOBGATE_BLOB_DIR"]) for name in files
                 if ".tmp." in name]
    assert leftovers == []


SLOWLORIS_SOCKETS = 500
SLOWLORIS_SECONDS = 8
STATUS_POLLS = 50


def hold_slowloris(sockets, stop):
    """Send one more header byte on every socket each second until stop is set or time runs out."""
    deadline = time.monotonic() + SLOWLORIS_SECONDS + 5
    while not stop.is_set() and time.monotonic() < deadline:
        for sock in sockets:
            try:
                sock.send(b"a")
            except OSError:
                pass
        stop.wait(1.0)


def test_slowloris_leaves_polls_fast(make_stack):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = SLOWLORIS_SOCKETS + 512
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    # The header timeout outlasts the test, so every slow socket stays open throughout.
    stack = make_stack({"JOBGATE_HEADER_TIMEOUT": 60}, worker_count=0)
    client = stack.new_client()
    submitted = client.submit_import(b"email\r\nfast@example.com\r\n", {"objectType": "contacts"})
    assert submitted.status == 202, submitted.body
    status_path = f"/v1/jobs/{submitted.json()['id']}"

    sockets = []
    stop = threading.Event()
    sender = threading.Thread(target=hold_slowloris, args=(sockets, stop), daemon=True)
    latencies = []
    try:
        for _ in range(SLOWLORIS_SOCKETS):
            sock = connect(stack)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            sockets.append(sock)
        sender.start()

        started = time.monotonic()
        for _ in range(STATUS_POLLS):
            before = time.monotonic()
            response = client.get(status_path, timeout=10)
            latencies.append(time.monotonic() - before)
            assert response.status == 200, response.body
            time.sleep(max(0.0, SLOWLORIS_SECONDS / STATUS_POLLS - latencies[-1]))
        polled_for = time.monotonic() - started

        # No slow socket received a response or a close. poll() has no descriptor limit, unlike
        # select().
        watcher = select.poll()
        for sock in sockets:
            watcher.register(sock, select.POLLIN)
        assert watcher.poll(0) == []
    finally:
        stop.set()
        if sender.is_alive():
            sender.join(timeout=5)
        for sock in sockets:
            sock.close()

    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[max(0, -(-len(latencies) * 99 // 100) - 1)]
    print(f"{SLOWLORIS_SOCKETS} slowloris sockets for {polled_for:.1f} s: "
          f"status poll p50={p50 * 1000:.1f} ms p99={p99 * 1000:.1f} ms")
    assert len(latencies) == STATUS_POLLS
    assert p99 < 0.5
