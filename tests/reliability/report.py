"""Write docs/RELIABILITY.md from the figures of the last run (test-artifacts/reliability.json).

python -m pytest tests/reliability && python tests/reliability/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "reliability.json"
DOC = ROOT / "docs" / "RELIABILITY.md"

INTRO = """# Reliability and security

aacli edits the file every AWS tool reads and holds the keys to production, so
`tests/reliability/` proves with figures that it loses nothing, leaks nothing and
fails clearly. The suite is part of the normal test run (`make test`, or
`python -m pytest`; marker `reliability`, so `-m reliability` runs it alone, in
about 3 minutes on 2 cores). Each run writes its figures to
`test-artifacts/reliability.json`; `python tests/reliability/report.py` turns
them into this page. Knobs (environment): `AACLI_LOAD_WORKERS`, `AACLI_LOAD_OPS`,
`AACLI_LOAD_SECONDS`, `AACLI_CRASH_TRIALS`, `AACLI_CRASH_SERVICE_TRIALS`,
`AACLI_CRASH_CLI_TRIALS`, `AACLI_FUZZ_EXAMPLES`.
"""

METHOD = {
    "concurrency": """## Load and concurrency (`test_concurrency.py`)

Eight worker processes, each with its own hub user and MFA device in the sandbox,
run random `aacli auth` (60 %) / `aacli unauth` (40 %) on their own three targets;
each worker calls the real CLI entry point (`trayapp.cli.main.main`) in a loop, so
an operation is exactly `aacli auth TARGET --code C` minus interpreter start-up.
The sandbox runs with `mfa_check = False` for this test (it still checks the
caller, the role and the duration, and the app's own reuse guard still runs):
with real TOTP checking a device allows about three codes per 30 s, which would
make the test measure the clock. Credentials live 20 s, so sessions expire
during the run. Meanwhile the tray runs headless in its own process
(`tray_sweeper.py`: its scheduler's sweep, its file poller and its menu model
every 0.5 s; the pystray icon itself is covered by the display tests).
The credentials and config files start with 2,000 foreign profiles and comments.
Each worker stops after `AACLI_LOAD_OPS` operations (default 100) or when the
time budget `AACLI_LOAD_SECONDS` (default 420 s) is spent, whichever is first.
An operation costs about 0.2-0.5 s of CPU, most of it reading, editing and
re-verifying (with configparser) a 424 KB pair of files under the lock, so on 2
cores the full 8 x 100 takes a few minutes; on a slower machine the budget ends
it early and the table says how many operations ran. This test found that the lock
wait could pass the old 10 s (and then 30 s) limit with eight processes and the
tray queueing for minutes (the lock is polled, so it is not fair); the limit is now
120 s (`credfile.LOCK_TIMEOUT`), and repeated parses of one text are cached.
Checked afterwards: the foreign part of both files is byte-identical (the files
start with it; aacli only appends its own sections), the sections after it are
exactly the ledger's (profiles and key ids; config sections = the ledger's
`config_sections_created`), no pending edit is left in the ledger, no temp or
lock file is in the AWS folder, both files parse with configparser and the AWS
CLI v2 (`aws configure list-profiles`), and `aacli unauth --all` gives back both
files byte for byte.
""",
    "crashes": """## Crashes (`test_crashes.py`)

- **File writes.** A forked child rewrites a 2.6 MB credentials file in a loop,
  alternating two versions, under the lock; its writes are slowed from inside
  the child only (64 KiB pieces, a lingering fsync) so that kills land inside
  the write, between write and rename, and after. The parent kills it with
  SIGKILL after a random 5-120 ms, then checks the file is exactly one of the
  two versions and that the dead writer's lock is free at once (`flock` dies
  with the process). The next write removes the temp files killed writers left
  once they are stale (the writer is gone and the file is over a minute old; the
  test ages them), never a live writer's.
- **The ledger.** `auth` and `unauth` write the session they are about to write
  or remove into the ledger's `pending` list before touching a file, and clear
  it when done. Whoever takes the lock next (every command, the tray's sweep)
  finds a pending entry of a killed process and undoes it: its keys are removed
  where the key id is still its own, ledger entries whose keys are no longer in
  the file are dropped, and config sections it created are removed when no
  remaining session uses them. So an interrupted `auth` leaves nothing behind
  and an interrupted `unauth` is finished. Tested by forking a child that runs
  `Service.authenticate`/`unauth` in a loop against the sandbox and killing it
  at random, then `status` (as every command starts) and a check that the
  ledger and the files agree exactly.
- **The whole CLI.** `aacli auth dev/DEVELOPER --code …` (an unambiguous
  target: the fixture's `dev` has two roles, so `auth dev` would fail at once
  and write nothing) or `aacli unauth --all` when a session is live, run as a
  real process with the same slowed writes, is killed once the ledger shows its
  edit pending (written ahead, before either AWS file changes), after a random
  0-20 ms more; then `aacli status` and the same agreement check. A run that
  ends before the kill must have exited 0; the test asserts at least 80 % of
  the trials were killed inside their edit (`cli_kills_with_a_pending_edit`;
  `cli_kills_that_left_the_edit_pending` counts the kills that landed before
  the plan was cleared, so the next command had to finish or undo it).
- **A section without its ledger entry** can then only come from a lost or
  damaged ledger (it is set aside as `sessions.json.damaged-<UTC time>`, never over an
  earlier copy; `status` and `sweep` name the copy and what to do). aacli cannot
  prove such keys are its own, so it never removes them; `auth` of that target
  refuses with one line naming the section. Tested too.
""",
    "faults": """## Faults (`test_faults.py`)

The sandbox injects faults per request (`trayapp/sandbox/faults.py`;
`sandbox.faults.next(kind, count=…, seconds=…, action="AssumeRole")`). STS calls
use botocore's standard retry mode with `MAX_ATTEMPTS = 3` attempts in all
(`trayapp/core/sts.py`); `AACLI_STS_TIMEOUT` sets the connect and read timeout
(default 5 s / 10 s; 1 s in these tests), so a call gives up after at most
3 * (connect + read) plus botocore's backoff. Each kind is tried once (a
transient fault: retried, `auth` succeeds) and on every attempt (a clear
one-line error, exit ≠ 0, no traceback, the AWS files and the ledger
unchanged, within the bound). Malformed XML is not retried.
Disk full is a file-size limit (`RLIMIT_FSIZE`, SIGXFSZ ignored) on the CLI
process; the read-only AWS folder is a read-only bind mount in a private mount
namespace when run as root (root ignores modes), else `chmod 500`.
The tray: `TrayApp`'s worker runs an `auth` while STS answers 503 on every
attempt, then again without faults.
""",
    "fuzz": """## Bad input, fuzzed (`test_fuzz.py`)

Hypothesis, derandomised (the same cases every run), no deadline. Building on
the INI generator of `tests/test_inifile.py`, with NUL, BOM, CR/CRLF, tabs,
brackets, duplicate headers and `[DEFAULT]` spliced in, or any text at all:
the editor either keeps every foreign byte (a fresh section is appended and
removed without a trace; an existing one gets exactly our keys) or refuses
with `CredFileError`, and on disk the file is then byte-identical with no temp
file left. The config loader (`parse_config` on random TOML-shaped data,
`load_config` on random bytes) raises only `ConfigError`, whose message is
`FILE: KEY: reason` on one line. Target texts resolve to one target whose
label contains the text's parts in order, or a `UsageError`. MFA codes are six
ASCII digits or refused. `map_error` turns any code/message/status into one
line of at most 400 characters.
""",
    "secrets": """## Secrets (`test_secrets.py`, `test_permissions.py`)

A full flow with `--debug`: `config add-profile` (secret on stdin), `set-key`,
`add-account`, `add-role`, `config totp --seed-from-stdin`, `auth` (code from the
stored seed), `status`, `web --print`, `web` (through `BROWSER=true`), `exec`,
`env`, `credential-process`, `config link-aws`, the AWS CLI calling
`aacli credential-process` through that link, `unauth --all`. Tracked: the hub
secret key, the TOTP seed, the vault passphrase, the session secret key and
token, the sign-in token. Expected and checked exactly: while the session is
live the credentials file holds the session key and token; stdout of
`web --print` holds the sign-in token; stdout of `exec` (its child printed
them), `env` and `credential-process` hold the session key and token. Every
other stdout, every stderr (the debug log), and every file under HOME,
`AACLI_HOME` and the AWS folder after `unauth` (the vault is encrypted): zero
hits. While the AWS CLI runs `credential_process`, a sampler reads
`/proc/PID/cmdline` and `/proc/PID/environ` of the AWS CLI and all its
descendants every 10 ms: no secret in any argv, and none in any environment
except the passphrase the test itself passes as `AACLI_PASSPHRASE`.
Permissions: every file aacli writes is 0600 and every folder 0700; a config
file or folder that others can write is refused with `chmod 600 FILE` /
`chmod 700 FOLDER` in the message. The vault's parameters and its tests (fresh
salt and nonce per save, header as AAD, kill during a passphrase change,
permission refusals) are in `docs/SECURITY.md` and `tests/test_vault.py`; its cost
bounds, re-key of weak vaults on save, passphrase rule, NFC, symlinked vault, and the
secrets `config remove` and `reset` delete (keyring and vault) in
`tests/test_trust_secrets.py`.
""",
}


TRUST = """## Another user, hostile files, interrupted rotations (`tests/test_trust_*.py`)

The attacker's view of the same promises (threats, defences and tests one by one in
`docs/SECURITY.md`): a second local uid (4242, through `setpriv`) plants files where aacli
looks: a demo state file in shared `/tmp`, a dialog lock folder, a config or ledger of its own,
an aacli folder swapped in under a shared parent; a FIFO, a `/dev/zero` symlink and a 20 MB
file stand where `~/.aws/credentials` should be (each one clear line within seconds, and a
second aacli needing the same lock meanwhile is not blocked); 8 concurrent `aacli config
add-account` keep all 8 accounts, 8 processes updating the MFA-session index and 6 the keyring
index lose nothing; 8 workers hand `[default]` around while the tray sweeps and both AWS files
come back byte for byte (`auth --default` + `unauth --all` over a user's `[default] region`
and an empty `[default]` too); a ledger that is a folder, damaged twice, or holding an edit that
cannot be applied is set aside with a clear line and never blocks a command.

Hub key rotation (`tests/reliability/test_rotation_crashes.py`): SIGKILL at each of the seven
steps (at the step, 2 ms and 20 ms after it: 21 trials, plus 2 with the MFA condition on the
hub policy): the next command finishes the rotation (from the switch to the new key on) or
rolls it back (before it); never zero working keys, one active key afterwards, the one aacli
uses, and no secret in the journal.
"""


def _figures(section: str, data: dict) -> str:
    if not data:
        return "_Not run in the last run._\n"
    lines = ["| figure | value |", "| --- | --- |"]
    for key in sorted(data):
        value = data[key]
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in sorted(value.items()))
        lines.append(f"| {key} | {value} |".replace("\n", " "))
    return "\n".join(lines) + "\n"


def _summary(sections: dict) -> str:
    c, k = sections.get("concurrency", {}), sections.get("crashes", {})
    f, s = sections.get("fuzz", {}), sections.get("secrets", {})
    faults = sections.get("faults", {})
    fuzz_cases = sum(
        v
        for key, v in f.items()
        if isinstance(v, int) and not key.startswith(("max_",)) and not key.endswith("_refused")
    )
    rows = [
        ("operations under concurrency (auth + unauth)", f"{c.get('auth', 0) + c.get('unauth', 0)} ({c.get('workers', '?')} workers, {c.get('wall_seconds', '?')} s), {c.get('failed_ops', '?')} failed"),
        ("foreign bytes changed", f"{c.get('foreign_bytes_changed', '?')} of {c.get('foreign_bytes', '?')}"),
        ("crash trials", f"{k.get('file_trials', 0) + k.get('service_trials', 0) + k.get('cli_trials', 0)} ({k.get('file_trials', 0)} file, {k.get('service_trials', 0)} service, {k.get('cli_trials', 0)} whole CLI)"),
        ("partial files / ledger disagreements", f"{k.get('partial_files', '?')} / {k.get('ledger_disagreements', '?')}"),
        ("fault kinds tried", ", ".join(sorted(faults)) or "none"),
        ("fuzz cases run", str(fuzz_cases)),
        ("secret-scan hits", f"{s.get('file_hits', '?')} in files, {s.get('stderr_hits', '?')} in stderr, {s.get('unexpected_stdout_hits', '?')} unexpected in stdout, {s.get('proc_hits', '?')} in argv/environ"),
    ]  # fmt: skip
    return (
        "\n".join(["| | last run |", "| --- | --- |", *(f"| {a} | {b} |" for a, b in rows)]) + "\n"
    )


def main() -> int:
    try:
        data = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"report.py: cannot read {ARTIFACT}: {exc}", file=sys.stderr)
        return 1
    sections = data.get("sections", {})
    parts = [
        INTRO,
        f"Last run: {data.get('run_at')} on {data.get('machine')} "
        f"(pytest exit status {data.get('exit_status')}).\n",
        _summary(sections),
    ]
    for name, text in METHOD.items():
        parts += [text, "Figures of the last run:\n", _figures(name, sections.get(name, {}))]
    parts.append(TRUST)
    DOC.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
