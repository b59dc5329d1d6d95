"""pip installs into a directory under .cache for the python3 that runs the benchmarks, which
then imports from that directory or passes it to its children in PYTHONPATH."""
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]


def cache_dir(name):
    """Return .cache/NAME-pythonX.Y, one directory per Python version."""
    return ROOT / ".cache" / f"{name}-python{sys.version_info[0]}.{sys.version_info[1]}"


def pip_install(directory, arguments, timeout=900):
    """Run pip install --target directory with arguments (requirements or -r FILE)."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", "--target", str(directory), *arguments],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {' '.join(arguments)} into {directory}: "
                           f"{done.stderr[-1000:]}")


def install_requirements(directory, requirements_file):
    """Install requirements_file into directory unless it contains a copy of that exact file from an
    earlier install. Return the seconds the install took, or None when nothing was installed."""
    requirements_file = pathlib.Path(requirements_file)
    marker = directory / requirements_file.name
    expected = requirements_file.read_text()
    if marker.exists() and marker.read_text() == expected:
        return None
    started = time.monotonic()
    # pip --target does not replace packages that are already there, so a changed file starts
    # from an empty directory.
    shutil.rmtree(directory, ignore_errors=True)
    pip_install(directory, ["-r", str(requirements_file)])
    marker.write_text(expected)
    return time.monotonic() - started
