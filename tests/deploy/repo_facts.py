"""Facts that the deploy files must agree with, read from the repository's own sources.

Each reader fails with a message naming the file and pattern when the source no longer has the
expected shape, so a refactoring there points at the check to update instead of passing silently.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WORKER_KINDS = ("imports", "exports", "webhooks")
# Kustomize folders under deploy/k8s that the tests render: the base and each overlay.
RENDER_TARGETS = ("base", "overlays/dev", "overlays/prod")
DAEMON_CONFIG_SOURCES = {
    "gateway": ROOT / "gateway" / "gateway_config.cpp",
    "worker": ROOT / "worker" / "worker_config.cpp",
}
# Settings read by helpers that both daemons' config readers call.
SHARED_SETTING_SOURCES = {
    "read_target_settings": ROOT / "common" / "webhooks" / "target_settings.cpp",
    "read_log_settings": ROOT / "common" / "config" / "settings_reader.cpp",
}


def read(relative):
    return (ROOT / relative).read_text()


def search(pattern, relative, flags=0):
    """Returns the match of pattern in a repository file, failing when there is none."""
    match = re.search(pattern, read(relative), flags)
    assert match, f"pattern {pattern!r} not found in {relative}; update tests/deploy/repo_facts.py"
    return match


def setting_names(text):
    return set(re.findall(r'reader\.(?:text|integer|list)\(\s*"([a-z0-9-]+)"', text))


def limit_setting_names(daemon):
    """Returns the tenant limits that read_limit_settings reads as settings of a daemon: the
    entries of the limit table in common/tenants/tenant_limits.cpp owned by it."""
    relative = "common/tenants/tenant_limits.cpp"
    entries = re.findall(r'\{"([a-z0-9-]+)",\s*&tenant_limits::\w+,[^{}]*?limit_owner::(\w+)\}',
                         read(relative))
    assert entries, f"no limit table found in {relative}; update tests/deploy/repo_facts.py"
    return {name for name, owner in entries if owner == daemon}


def variable_name(setting):
    """Maps a setting to its environment variable, as settings_reader::variable_name does."""
    return "JOBGATE_" + setting.upper().replace("-", "_")


def daemon_variables(daemon):
    """Returns every JOBGATE_* variable that jobgate-gateway or jobgate-worker reads."""
    text = DAEMON_CONFIG_SOURCES[daemon].read_text()
    names = setting_names(text)
    for helper, source in SHARED_SETTING_SOURCES.items():
        if helper + "(" in text:
            names |= setting_names(source.read_text())
    if "read_limit_settings(" in text:
        names |= limit_setting_names(daemon)
    assert names, f"no settings found in {DAEMON_CONFIG_SOURCES[daemon]}"
    return {variable_name(name) for name in names}


def topic_partitions():
    """Returns {topic: partitions} from the topics list of deploy/local/services."""
    line = search(r"^topics=\(([^)]*)\)", "deploy/local/services", re.MULTILINE).group(1)
    return {name: int(count) for name, count in (item.split(":") for item in line.split())}


def topic_of_kind(kind):
    """Returns the Kafka topic that workers of a kind consume, as common/ names it."""
    if kind == "webhooks":
        return search(r'job_events_topic\s*=\s*"([^"]+)"', "common/jobs/job_event.hpp").group(1)
    prefix = search(r'return\s+"([^"]+)"\s*\+\s*std::string\(to_string\(kind\)\)',
                    "common/jobs/job.cpp").group(1)
    return prefix + kind


def default_group_prefix():
    return search(r'std::string group_prefix = "([^"]+)"', "worker/worker_config.hpp").group(1)


def shutdown_constants():
    """Returns the hard-coded shutdown limits of jobgate-worker in seconds."""
    return {
        "dispatcher_drain": int(search(
            r"dispatcher\.run\(stopping,\s*std::chrono::seconds\((\d+)\)",
            "worker/main.cpp").group(1)),
        "producer_close": int(search(r"producer\.close\(std::chrono::seconds\((\d+)\)\)",
                                     "worker/main.cpp").group(1)),
        "event_timeout": int(search(r"event_timeout\s*=\s*std::chrono::seconds\((\d+)\)",
                                    "worker/job_runner.cpp").group(1)),
        "gateway_producer_close": int(search(
            r"producer_->close\(std::chrono::seconds\((\d+)\)\)",
            "gateway/kafka_job_queue.cpp").group(1)),
    }


def install_deps_build_packages():
    """Returns the packages listed under "# Build" in scripts/install-deps."""
    block = search(r"^\s*# Build\n(.*?)^\s*# Tests", "scripts/install-deps",
                   re.MULTILINE | re.DOTALL).group(1)
    return set(block.split())


def embedded_proto_files():
    """Returns the proto/ files that proto/CMakeLists.txt embeds into the binaries."""
    block = search(r"set\(proto_files\n(.*?)\)", "proto/CMakeLists.txt", re.DOTALL).group(1)
    return set(block.split())


def schema_files_loaded(daemon_main):
    """Returns the schema paths that a daemon's main.cpp passes to json::schema_validator."""
    return set(re.findall(r'schema_validator\s+\w+\("([^"]+)"\)', read(daemon_main)))
