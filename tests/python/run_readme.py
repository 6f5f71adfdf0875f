"""Runs every fenced code block of README.md, in order, as a newcomer would, against a fresh
server in an empty directory. A block that fails stops the run with its number and line.

    python3 tests/python/run_readme.py README.md path/to/indriva

How the blocks are run, the only liberties taken with the text:

* ``sh`` blocks run in one bash session in spirit: each block is a bash script, and the shell
  variables it sets (``ACCOUNT=…``) are there for the next block. ``$TOKEN`` is the access
  token the Python blocks obtained (the README says "after ``TOKEN=…``"). ``curl`` fails on
  an HTTP error status (``--fail-with-body``): every request the README shows must succeed.
  ``indriva`` is the
  binary given on the command line, and ``cargo run --release --`` runs that binary too (a
  release build is minutes; the command line is the same).
* ``cargo test`` lines are not run here: CI runs the suite as its own step.
* A line that starts the server (``indriva serve``) starts it in the background and waits
  until it answers. The first is the server the rest of the README talks to, on
  127.0.0.1:8080 as written; a later one (a restored backup) is started on a free port,
  checked to answer, and stopped.
* ``python`` blocks run in one interpreter, in order, sharing their names, as pasted into one
  Python session. A comment line right after a ``print(…)`` line is what the README says it
  prints: the printed line must match it (``...`` stands for what the README leaves out).
* A block preceded by ``<!-- readme-runner: skip REASON -->`` is skipped, and the reason
  printed (only what needs another kind of database).
"""

import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

README_PORT = 8080


def blocks(text):
    """(number, language, first line number, code, skip reason) for every fenced block."""
    out, lines, i, skip = [], text.split("\n"), 0, None
    while i < len(lines):
        line = lines[i]
        m = re.match(r"<!-- readme-runner: skip (.*) -->", line.strip())
        if m:
            skip = m.group(1)
        fence = re.match(r"^```(\w*)\s*$", line)
        if fence:
            start, lang, code = i + 1, fence.group(1), []
            i += 1
            while not lines[i].startswith("```"):
                code.append(lines[i])
                i += 1
            out.append((len(out) + 1, lang, start + 1, "\n".join(code), skip))
            skip = None
        i += 1
    return out


def logical_lines(code):
    """The block's commands, continuation lines joined."""
    out, cur = [], ""
    for line in code.split("\n"):
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        out.append(cur + line)
        cur = ""
    if cur:
        out.append(cur)
    return out


def expected_outputs(code):
    """(line in the block, shown output) for every ``print(…)`` line directly followed by a
    comment line: that comment is what the README says it prints."""
    lines, out = code.split("\n"), []
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1].strip()
        if line.strip().startswith("print(") and nxt.startswith("# "):
            out.append((i + 1, nxt[2:].strip()))
    return out


def shown_matches(shown, printed):
    """Whether the printed line is what the README shows, ``...`` (or ``…``) standing for
    anything left out."""
    parts = re.split(r"\.\.\.|…", shown)
    pattern = ".*".join(re.escape(p) for p in parts)
    return re.fullmatch(pattern, printed.strip(), flags=re.S) is not None


def wait_until_answers(port, proc, log):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); its log:\n{open(log).read()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer on {port} within 60 s")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Runner:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.servers = []
        self.state = os.path.join(workdir, ".readme-shell-state")
        open(self.state, "w").close()
        bindir = os.path.join(workdir, ".bin")
        os.makedirs(bindir)
        os.symlink(binary, os.path.join(bindir, "indriva"))
        self.env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
        self.env.pop("DATABASE_URL", None)
        self.py = {"__name__": "__readme__"}

    def serve(self, command, number):
        args = shlex.split(command.split("#")[0])
        first = not self.servers
        port = README_PORT if first else free_port()
        if not first:
            args += ["--bind", f"127.0.0.1:{port}"]
        log = os.path.join(self.workdir, f".server-{len(self.servers)}.log")
        proc = subprocess.Popen(args, cwd=self.workdir, env=self.env,
                                stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.servers.append(proc)
        wait_until_answers(port, proc, log)
        print(f"  started: {' '.join(args)} (answers on {port})")
        if not first:
            proc.terminate()
            proc.wait(timeout=30)
            print("  stopped it again")

    def sh(self, number, start, code):
        script = []
        for line in logical_lines(code):
            line = line.replace("cargo run --release -- ", "indriva ")
            bare = line.strip()
            if bare.startswith("cargo test"):
                print(f"  not run here (CI's own step): {bare}")
                continue
            if re.match(r"^indriva serve\b", bare):
                self.flush(number, start, script)
                script = []
                self.serve(bare, number)
                continue
            script.append(line)
        self.flush(number, start, script)

    def flush(self, number, start, lines):
        if not any(l.strip() and not l.strip().startswith("#") for l in lines):
            return
        token = self.py.get("headers", {}).get("X-API-Key", "")
        body = "\n".join(lines)
        script = (
            "set -euo pipefail\nset -a\n"
            f"source {shlex.quote(self.state)}\n"
            f"TOKEN={shlex.quote(token)}\n"
            # Every request the README makes is expected to succeed.
            'curl() { command curl --fail-with-body "$@"; echo; }\n'
            f"{body}\n"
            f"set +a\nexport -p | grep -v ' TOKEN=' > {shlex.quote(self.state)}\n"
        )
        env = dict(self.env)
        r = subprocess.run(["bash", "-c", script], cwd=self.workdir, env=env)
        if r.returncode != 0:
            raise SystemExit(f"block {number} (README line {start}) failed with {r.returncode}")

    def python(self, number, start, code):
        printed = {}

        def readme_print(*args, **kwargs):
            # What a print line of the block printed, by its line in the block.
            line = sys._getframe(1).f_lineno
            text = kwargs.get("sep", " ").join(str(a) for a in args)
            printed.setdefault(line, []).append(text)
            print(*args, **kwargs)

        self.py["print"] = readme_print
        cwd = os.getcwd()
        os.chdir(self.workdir)
        try:
            exec(compile(code, f"README.md block {number} (line {start})", "exec"), self.py)
        finally:
            os.chdir(cwd)
        for line, expected in expected_outputs(code):
            got = printed.get(line)
            where = f"block {number}, README line {start + line}"
            if not got:
                raise SystemExit(f"{where}: printed nothing; the README shows {expected!r}")
            if not shown_matches(expected, got[-1]):
                raise SystemExit(f"{where}: printed\n  {got[-1]}\nthe README shows\n  {expected}")
            print(f"  as the README shows (line {start + line + 1})")

    def stop(self):
        for p in self.servers:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=30)


def main():
    readme, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", README_PORT)) == 0:
            raise SystemExit(f"127.0.0.1:{README_PORT} is taken; the README's server needs it")
    found = blocks(open(readme).read())
    with tempfile.TemporaryDirectory() as work:
        runner = Runner(binary, work)
        try:
            for number, lang, start, code, skip in found:
                print(f"== block {number} ({lang}, README line {start})", flush=True)
                if skip:
                    print(f"  skipped: {skip}")
                elif lang == "sh":
                    runner.sh(number, start, code)
                elif lang == "python":
                    runner.python(number, start, code)
                else:
                    raise SystemExit(f"block {number}: no way to run a '{lang}' block")
                sys.stdout.flush()
        finally:
            runner.stop()
    ran = sum(1 for b in found if not b[4])
    print(f"all {ran} of {len(found)} README blocks ran in order")


if __name__ == "__main__":
    main()
