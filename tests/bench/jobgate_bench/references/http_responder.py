"""The trivial HTTP responder: nginx from Debian, on a free loopback port, with its own
configuration and pid file in a temporary directory, responding to every request with a fixed
status and a body as large as the gateway's."""
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from ..stack import free_port

# nginx worker processes; the gateway runs with its default of 2 threads.
WORKER_PROCESSES = 2


def filler_json(size):
    """Return a JSON object of exactly `size` bytes that needs no escaping in nginx."""
    prefix, suffix = '{"pad":"', '"}'
    return prefix + "x" * max(0, size - len(prefix) - len(suffix)) + suffix


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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.url + "/", timeout=1).read()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.05)
        error_log = self.directory / "error.log"
        raise RuntimeError("nginx did not start: " + (
            error_log.read_text(errors="replace")[-2000:] if error_log.exists() else ""))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
