"""A gateway that gets SIGTERM stops accepting connections, fails readiness, ends event streams,
and lets requests in progress finish before it exits."""
import http.client
import json
import signal
import socket
import threading
import time

from jobgate_client import multipart_body


class SlowUpload:
    """An import whose body is sent in two halves, so the request stays in progress between them."""

    def __init__(self, stack, client):
        body, content_type = multipart_body([
            ("importRequest", None, "application/json",
             json.dumps({"objectType": "contacts"}).encode()),
            ("files", "contacts.csv", "text/csv",
             b"email\r\n" + b"".join(f"drain{i}@example.com\r\n".encode() for i in range(200))),
        ])
        self.body = body
        self.socket = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
        self.socket.sendall(
            (f"POST /v1/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             f"Authorization: Bearer {client.api_key}\r\nContent-Type: {content_type}\r\n"
             f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:len(body) // 2])

    def finish(self):
        """Sends the rest of the body and returns (status, headers, body) of the response."""
        self.socket.sendall(self.body[len(self.body) // 2:])
        response = http.client.HTTPResponse(self.socket)
        response.begin()
        data = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        self.socket.close()
        return response.status, headers, data


def wait_for_exit(process, timeout):
    try:
        return process.wait(timeout=timeout)
    except Exception as error:
        raise AssertionError(f"the gateway did not exit within {timeout} s") from error


def restart_gateway(stack):
    stack.gateway = stack._spawn("jobgate-gateway", stack.gateway_arguments, "gateway.log")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if stack.client.request("GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway did not start again:\n" + stack.log("gateway.log")[-3000:])


def test_upload_in_progress_finishes(make_stack):
    stack = make_stack({"JOBGATE_SHUTDOWN_TIMEOUT": 20}, worker_count=1)
    client = stack.new_client()
    upload = SlowUpload(stack, client)
    time.sleep(0.3)

    stack.gateway.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while "gateway draining" not in stack.log("gateway.log") and time.monotonic() < deadline:
        time.sleep(0.05)
    # The listener is closed, so new connections are refused while the upload goes on.
    try:
        socket.create_connection(("127.0.0.1", stack.port), timeout=5).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    assert refused
    assert stack.gateway.poll() is None

    status, headers, body = upload.finish()
    assert status == 202, body
    assert headers["connection"] == "close"
    location = json.loads(body)["links"]["self"]
    assert wait_for_exit(stack.gateway, 10) == 0
    assert "gateway drained" in stack.log("gateway.log")

    # The accepted job was queued before the gateway stopped, so it completes.
    restart_gateway(stack)
    job = client.wait(location)
    assert job["status"] == "DONE"
    assert job["counts"]["created"] == 200


def test_draining_gateway_ends_streams(make_stack):
    stack = make_stack({"JOBGATE_SHUTDOWN_TIMEOUT": 20}, worker_count=1)
    client = stack.new_client()
    # With the worker stopped the export stays PENDING, so its event stream stays open.
    stack.workers[0].send_signal(signal.SIGTERM)
    stack.workers[0].wait(timeout=30)
    response = client.post_json("/v1/exports", {"objectType": "contacts", "properties": ["email"]})
    assert response.status == 202, response.body
    job_path = "/v1/exports/" + response.json()["id"]

    stream = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    stream.request("GET", job_path + "/events", headers={
        "Authorization": f"Bearer {client.api_key}", "Accept": "text/event-stream"})
    events = stream.getresponse()
    assert events.status == 200
    stream_ended = threading.Event()

    def read_to_end():
        events.read()
        stream_ended.set()

    reader = threading.Thread(target=read_to_end, daemon=True)
    reader.start()
    kept_alive = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    kept_alive.request("GET", "/healthz")
    assert kept_alive.getresponse().read() == b'{"status":"ok"}'
    upload = SlowUpload(stack, client)
    time.sleep(0.3)

    started = time.monotonic()
    stack.gateway.send_signal(signal.SIGTERM)
    assert stream_ended.wait(10), "the event stream stayed open"
    assert time.monotonic() - started < 5

    # A kept-alive connection still gets responses, with readiness failing and Connection: close.
    kept_alive.request("GET", "/readyz")
    ready = kept_alive.getresponse()
    assert ready.status == 503
    assert ready.getheader("Connection") == "close"
    assert ready.getheader("Content-Type") == "application/problem+json"
    assert "shutting down" in json.loads(ready.read())["detail"]

    status, _, body = upload.finish()
    assert status == 202, body
    assert wait_for_exit(stack.gateway, 10) == 0


def test_shutdown_timeout_cuts_stalled_request(make_stack):
    stack = make_stack({"JOBGATE_SHUTDOWN_TIMEOUT": 1}, worker_count=1)
    client = stack.new_client()
    upload = SlowUpload(stack, client)
    time.sleep(0.3)

    started = time.monotonic()
    stack.gateway.send_signal(signal.SIGTERM)
    assert wait_for_exit(stack.gateway, 10) == 0
    assert time.monotonic() - started < 5
    assert "shutdown timeout reached" in stack.log("gateway.log")
    upload.socket.close()
