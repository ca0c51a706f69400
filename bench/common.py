"""What the benchmarks share: timing a command with its peak memory, the machine's description, docs sections."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests import live

# Runs its arguments as the only child of a fresh process, so that RUSAGE_CHILDREN is that command's alone.
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'seconds': time.perf_counter() - t, 'rc': rc, 'maxrss_kb': usage.ru_maxrss,"
    " 'cpu_seconds': usage.ru_utime + usage.ru_stime}))\n"
)


def measured_command(command: Sequence[str], env: Mapping[str, str] | None = None) -> dict:
    """Run a command (its output discarded) in a wrapper process: wall seconds, CPU seconds, peak RSS in KB."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=live.ROOT, env=env, capture_output=True,
                          text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {result['rc']}: {done.stderr[-2000:]}")
    return result


def measured(server: live.LiveServer, *args: str) -> dict:
    """Run ``flask --app wsgi ARGS`` against the server's database; return `measured_command`'s figures."""
    return measured_command([str(live.BIN / "flask"), "--app", "wsgi", *args], env=server.env)


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=live.ROOT, capture_output=True,
                            text=True).stdout.strip() or "?"
    # Changes not committed when the run started, other than to the file the benchmarks write.
    changed = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!docs/benchmarks.md"], cwd=live.ROOT,
                             capture_output=True, text=True).stdout.strip()
    if changed:
        commit += " with uncommitted changes"
    return {"cores": os.cpu_count(), "cpu": cpu, "mem_gb": mem / 2**20, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "load": os.getloadavg(), "commit": commit}


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section under ``heading`` (up to the next level-2 heading) of ``path``, or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        kept_after = lines[end:]
        new = "\n".join(lines[:start] + section.rstrip("\n").splitlines() + ([""] + kept_after if kept_after else []))
        new = new.rstrip("\n") + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)
