"""The recorder's one subprocess wrapper for ffmpeg and ffprobe (STYLE.md habit 7).

Argument lists only, never a shell string; every command is logged, and the caller keeps the
exact list as provenance for the record.
"""

from __future__ import annotations

import logging
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger("taspa.recorder")


@dataclass(frozen=True)
class ToolResult:
    command: list[str]
    returncode: int | None  # None: killed at the timeout
    stdout: bytes
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def run_tool(command: list[str], *, timeout: float) -> ToolResult:
    """Run a short-lived tool; at the timeout kill it and keep what it wrote so far."""
    log.debug("run %s", command)
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            code = None
    return ToolResult(command, code, out, err.decode("utf-8", "replace")[-4000:])


def spawn(command: list[str], *, pass_fds: tuple[int, ...], log_path: Path) -> subprocess.Popen:
    """Start a long-running ffmpeg: stdout piped to us, stderr appended to ``log_path``."""
    log.info("spawn %s", command)
    with open(log_path, "ab") as stderr:
        stderr.write(("$ " + " ".join(command) + "\n").encode())
        stderr.flush()
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            pass_fds=pass_fds,
            bufsize=0,
        )


def stop_gracefully(process: subprocess.Popen, *, timeout: float = 3.0) -> int:
    """SIGINT lets ffmpeg flush its encoders and muxer; SIGKILL if it will not go."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def close_stream(stream: IO[bytes] | None) -> None:
    if stream is not None:
        stream.close()


def descendant_processes(root: int) -> dict[int, str]:
    """Every live process below ``root`` (children, grandchildren…): pid → command name, read
    from /proc. Zombies count as gone. Used to prove no ffmpeg outlives its recording."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        fields = rest.split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            names[int(entry.name)] = name
    found: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found[pid] = names[pid]
        todo += children.get(pid, [])
    return found
