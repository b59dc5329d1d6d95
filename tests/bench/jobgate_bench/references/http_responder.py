"""The trivial HTTP responders: nginx from Debian, on a free loopback port, with its own
configuration and pid file in a temporary directory, and jobgate-bench-responder, a Beast server
built like the gateway. Both respond to every request with a fixed status and a body as large as
the gateway's."""
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from ..stack import free_port

# nginx worker processes and Beast responder threads; the gateway runs with its default of 2
# threads.
WORKER_PROCESSES = 2


def filler_json(size):
    """Return a JSON object of exactly `size` bytes that needs no escaping in nginx."""
    prefix, suffix = '{"pad":"', '"}'
    return prefix + "x" * max(0, size - len(prefix) - len(suffix)) + suffix


def _wait_until_serving(process, url, timeout, name):
    """Return once url responds, or raise RuntimeError when the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(url + "/", timeout=1).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not respond at {url} within {timeout} s")


class HttpResponder:
    def __init__(self, status, body_size, headers=None):
        self.status = status
        self.body = filler_json(body_size)
        # Header values of the same length as the gateway's, so responses match in size too.
        self.headers = dict(headers or {})
        self.port = free_port()
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="jobgate-bench-nginx-"))
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _config(self):
        d = self.directory
        header_lines = "".join(f"      add_header {name} '{value}' always;\n"
                               for name, value in self.headers.items())
        return f"""# Written by tests/bench for one benchmark run.
worker_processes {WORKER_PROCESSES};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  server {{
    listen 127.0.0.1:{self.port};
    location / {{
      default_type application/json;
{header_lines}      return {self.status} '{self.body}';
    }}
  }}
}}
"""

    def start(self, timeout=10):
        config = self.directory / "nginx.conf"
        config.write_text(self._config())
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        log = open(self.directory / "stdout.log", "ab")
        try:
            self.process = subprocess.Popen(
                [nginx, "-p", str(self.directory), "-c", str(config),
                 "-e", str(self.directory / "error.log")],
                stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        try:
            _wait_until_serving(self.process, self.url, timeout, "nginx")
        except RuntimeError as error:
            error_log = self.directory / "error.log"
            raise RuntimeError(f"{error}: " + (
                error_log.read_text(errors="replace")[-2000:] if error_log.exists() else ""))
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class BeastResponder:
    """jobgate-bench-responder from the build directory: the cost of Beast and Asio alone, with the
    gateway's thread count and connection handling."""

    def __init__(self, binary, status, body_size, headers=None):
        self.binary = binary
        self.status = status
        self.body_size = body_size
        self.headers = dict(headers or {})
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=10):
        arguments = [str(self.binary), str(self.port), str(self.status), str(self.body_size),
                     str(WORKER_PROCESSES)]
        arguments += [f"{name}: {value}" for name, value in self.headers.items()]
        self.process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL)
        try:
            _wait_until_serving(self.process, self.url, timeout, "jobgate-bench-responder")
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
