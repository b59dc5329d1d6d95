"""Gateway memory with many open keep-alive connections. One client process opens N connections
to a gateway started for this scenario alone. Each connection sends one GET /healthz, reads the
response and stays open, waiting in the gateway's idle timeout for a next request that does not
come. A connection that sends nothing would be closed by the header timeout (10 s by default)."""
import collections
import errno
import http.client
import pathlib
import re
import resource
import select
import selectors
import socket
import time

from ..process_memory import (open_files_limit, read_memory_kb, reset_peak, settled_rss_kb,
                              to_mb)
from ..results import Result
from ..stack import Stack

NAME = "connection-memory"
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# Connections whose response has not arrived yet, kept below the listen backlog.
IN_FLIGHT = 256
# Descriptors beyond the connections: the gateway's Redis and Kafka sockets, logs and files.
SPARE_DESCRIPTORS = 1024
SETTLE_SECONDS = 1.0


def raise_open_files_limit(needed):
    """Raise this process's soft RLIMIT_NOFILE to needed, at most to the hard limit, and return
    the soft limit in effect. A gateway started afterwards inherits the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def idle_timeout_seconds(stack):
    """Return the idle timeout that the gateway logged in its start-up settings line."""
    text = (stack.workdir / "gateway.log").read_text(errors="replace")
    match = re.search(r"idle_timeout_seconds=(\d+)", text)
    if not match:
        raise RuntimeError("the gateway log has no idle_timeout_seconds setting")
    return int(match.group(1))


def response_complete(data):
    """Return the status code once data contains a whole response with its Content-Length body,
    else None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    header = bytes(data[:end]).decode("latin-1")
    match = re.search(r"^content-length:\s*(\d+)", header, re.IGNORECASE | re.MULTILINE)
    length = int(match.group(1)) if match else 0
    if len(data) < end + 4 + length:
        return None
    return int(header.split(" ", 2)[1])


class ConnectionOpener:
    """Connections opened with non-blocking sockets on one selector, at most IN_FLIGHT of them
    waiting for their response at a time. Those that got a 200 stay open."""

    def __init__(self, port):
        self.address = ("127.0.0.1", port)
        self.selector = selectors.DefaultSelector()
        self.open_sockets = []
        self.failures = collections.Counter()
        self.first_response = None
        self.pending = 0

    def _fail(self, sock, reason):
        self.failures[reason] += 1
        self.selector.unregister(sock)
        sock.close()
        self.pending -= 1

    def _start_one(self):
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as error:
            self.failures[f"client socket(): {error.strerror}"] += 1
            return False
        sock.setblocking(False)
        code = sock.connect_ex(self.address)
        if code not in (0, errno.EINPROGRESS):
            self.failures[f"connect: {errno.errorcode.get(code, code)}"] += 1
            sock.close()
            return True
        self.selector.register(sock, selectors.EVENT_WRITE, bytearray())
        self.pending += 1
        return True

    def _on_writable(self, sock):
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self._fail(sock, f"connect: {errno.errorcode.get(code, code)}")
            return
        # The request is far smaller than an empty socket buffer, so one send takes all of it.
        if sock.send(REQUEST) != len(REQUEST):
            self._fail(sock, "request not sent in one send()")
            return
        self.selector.modify(sock, selectors.EVENT_READ, bytearray())

    def _on_readable(self, sock, received):
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            self._fail(sock, "reset before the response")
            return
        if not data:
            self._fail(sock, "closed before the response")
            return
        received.extend(data)
        status = response_complete(received)
        if status is None:
            return
        if status != 200:
            self._fail(sock, f"status {status}")
            return
        self.selector.unregister(sock)
        self.pending -= 1
        self.open_sockets.append(sock)
        if self.first_response is None:
            self.first_response = time.monotonic()

    def open(self, count, deadline):
        """Open count connections, or stop at the monotonic deadline. The connections still
        waiting then count as failures."""
        started = 0
        can_start = True
        while (started < count and can_start) or self.pending:
            if time.monotonic() > deadline:
                break
            while can_start and started < count and self.pending < IN_FLIGHT:
                can_start = self._start_one()
                started += can_start
            for key, events in self.selector.select(timeout=0.5):
                if events & selectors.EVENT_WRITE:
                    self._on_writable(key.fileobj)
                elif events & selectors.EVENT_READ:
                    self._on_readable(key.fileobj, key.data)
        for key in list(self.selector.get_map().values()):
            self._fail(key.fileobj, "no response before the deadline")
        self.selector.close()

    def closed_count(self):
        """Count the open connections that the gateway closed meanwhile: their socket reads end of
        file."""
        watcher = select.poll()
        for sock in self.open_sockets:
            watcher.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        return len(watcher.poll(0))

    def close(self):
        for sock in self.open_sockets:
            sock.close()
        self.open_sockets = []


def request_on_new_connection(port):
    """Send GET /healthz on a new connection and return (status, milliseconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        started = time.monotonic()
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status, (time.monotonic() - started) * 1000
    finally:
        connection.close()


def measure_connections(context, count):
    client_limit = raise_open_files_limit(count + SPARE_DESCRIPTORS)
    stack = Stack(context.build_dir, pathlib.Path(context.workdir) / NAME, context.redis_url,
                  context.brokers)
    context.log(f"{NAME}: starting a gateway of its own")
    stack.start()
    opener = ConnectionOpener(stack.port)
    try:
        pid = stack.gateway.pid
        gateway_limit = open_files_limit(pid)
        idle_timeout = idle_timeout_seconds(stack)
        for _ in range(3):
            request_on_new_connection(stack.port)
        time.sleep(0.5)
        baseline_kb = settled_rss_kb(pid)
        reset_peak(pid)

        started = time.monotonic()
        # Half the idle timeout leaves the other half for the measurement below.
        opener.open(count, started + idle_timeout / 2)
        open_seconds = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        open_kb = settled_rss_kb(pid)
        peak_kb = read_memory_kb(pid)["VmHWM"]
        status, new_connection_ms = request_on_new_connection(stack.port)
        closed = opener.closed_count()
        oldest_idle = time.monotonic() - (opener.first_response or time.monotonic())
        if oldest_idle >= idle_timeout:
            raise RuntimeError(f"the measurement took {oldest_idle:.1f} s, longer than the "
                               f"gateway's idle timeout of {idle_timeout} s")
        still_open = len(opener.open_sockets) - closed
        opener.close()
        time.sleep(SETTLE_SECONDS)
        after_close_kb = settled_rss_kb(pid)
    finally:
        opener.close()
        stack.stop()

    failures = dict(opener.failures)
    if closed:
        failures["closed by the gateway while open"] = closed
    metrics = {
        "connections_open": still_open,
        "connections_failed": sum(failures.values()),
        "baseline_rss_mib": to_mb(baseline_kb),
        "rss_open_mib": to_mb(open_kb),
        "peak_rss_mib": to_mb(peak_kb),
        "rss_after_close_mib": to_mb(after_close_kb),
        "kib_per_connection": ((open_kb - baseline_kb) / still_open if still_open
                               else float("nan")),
        "open_seconds": open_seconds,
        "oldest_idle_seconds": oldest_idle,
        "new_connection_status": status,
        "new_connection_ms": new_connection_ms,
    }
    parameters = {"connections": count, "request": "GET /healthz", "in_flight": IN_FLIGHT,
                  "idle_timeout_s": idle_timeout, "gateway_open_files_limit": gateway_limit,
                  "client_open_files_limit": client_limit}
    return metrics, parameters, failures


def run(context):
    count = context.sizes.idle_connections
    metrics, parameters, failures = measure_connections(context, count)
    result = Result(NAME, "scenario",
                    "One client process opens N TCP connections to a gateway started for this "
                    "scenario, sends GET /healthz on each, reads the 200 and keeps the connection "
                    "open, waiting in the gateway's idle timeout. Figures: VmRSS of "
                    "/proc/PID/status before and with all connections open, its increase per "
                    "connection, and a GET /healthz on a new connection while they are open.",
                    parameters)
    entry = result.measurement("gateway", f"{count} connections", parameters)
    entry.add_run(metrics)
    if failures:
        result.notes.append(f"{metrics['connections_failed']} of {count} connections were not "
                            f"kept open: {failures}. Gateway RLIMIT_NOFILE "
                            f"{parameters['gateway_open_files_limit']}, client "
                            f"{parameters['client_open_files_limit']}")
    context.log(f"{NAME}: {metrics['connections_open']} of {count} connections open in "
                f"{metrics['open_seconds']:.1f} s; RSS {metrics['baseline_rss_mib']:.1f} -> "
                f"{metrics['rss_open_mib']:.1f} MiB ({metrics['kib_per_connection']:.2f} KiB per "
                f"connection), {metrics['rss_after_close_mib']:.1f} MiB after closing them; new "
                f"connection got {metrics['new_connection_status']} in "
                f"{metrics['new_connection_ms']:.1f} ms")
    if failures:
        context.log(f"{NAME}: {result.notes[-1]}")
    return [result]
