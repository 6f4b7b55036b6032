"""Runs pip-audit on requirements.lock and decides what the result means.

pip-audit alone is not enough for CI: when its vulnerability service cannot answer (no network,
a proxy that refuses per-version lookups), it marks every package "skipped" and still prints
"No known vulnerabilities found", or it dies with a traceback. This gate

* fails (exit 1) on any known vulnerability in a locked package that is not a reviewed
  exception in ``pip-audit-ignore.txt``;
* proves the database really answered by auditing a canary pin known to be vulnerable
  (``CANARY``): if the canary is not flagged, nothing was checked, and the gate says so loudly
  and exits 3 — it never reports "no known vulnerabilities" for packages it could not check;
* says so the same way (exit 3) when the service cannot be reached at all; the caller
  (tools/ci/audit.sh) does not fail the build on 3;
* fails (exit 2) on anything else (a malformed lock file, an ignore without a reason, ...).

Usage: python tools/ci/pip_audit_gate.py [requirements.lock]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
IGNORE_FILE = HERE / "pip-audit-ignore.txt"
# A release with many published advisories (PYSEC/GHSA), not among our dependencies: when the
# service answers, it is always reported vulnerable.
CANARY = ("django", "3.2")
# Tried in order; the first whose answer flags the canary is believed.
SERVICES = ("pypi", "osv")
NETWORK_SIGNS = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "ProxyError",
    "SSLError",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "ServiceError",
    "Connection refused",
)


@dataclass
class Verdict:
    code: int  # 0 checked and clean, 1 vulnerable, 2 broken, 3 nothing could be checked
    lines: list[str] = field(default_factory=list)


def read_ignores(path: Path = IGNORE_FILE) -> dict[str, str]:
    """``ID  reason`` per line; lines starting with ``#`` are comments. An ignore without a
    reason is an error."""
    ignores: dict[str, str] = {}
    if not path.exists():
        return ignores
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"{path.name}:{n}: {vuln_id} has no reason; say why it is ignored")
        ignores[vuln_id] = reason.strip()
    return ignores


def locked_names(lock: Path) -> set[str]:
    names = set()
    for raw in lock.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            names.add(line.split("==", 1)[0].split("[", 1)[0].strip().lower().replace("_", "-"))
    return names


def judge(report: dict, ignores: dict[str, str], canary: str = CANARY[0]) -> Verdict | None:
    """The verdict on one pip-audit JSON report, or None when the database did not answer
    (the canary was not flagged), in which case the report proves nothing."""
    deps = report.get("dependencies", [])
    canary_rows = [d for d in deps if d.get("name", "").lower() == canary]
    if not canary_rows or not canary_rows[0].get("vulns"):
        return None
    ours = [d for d in deps if d.get("name", "").lower() != canary]
    vulnerable = [d for d in ours if d.get("vulns")]
    skipped = [d for d in ours if d.get("skip_reason")]
    checked = len(ours) - len(skipped)
    lines: list[str] = []
    for d in vulnerable:
        for v in d["vulns"]:
            fixes = ", ".join(v.get("fix_versions") or []) or "no fixed release"
            aliases = ", ".join(v.get("aliases") or [])
            lines.append(
                f"VULNERABLE {d['name']} {d['version']}: {v['id']}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in: {fixes}"
            )
    for vuln_id, reason in ignores.items():
        lines.append(f"ignored (reviewed) {vuln_id}: {reason}")
    for d in skipped:
        lines.append(f"NOT CHECKED {d['name']}: {d['skip_reason']}")
    if vulnerable:
        lines.append(
            f"pip-audit: {sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities in "
            f"{len(vulnerable)} of {checked} checked packages. Raise the lower bound in "
            "pyproject.toml and run tools/lock.sh, or add a reviewed exception with its reason "
            "to tools/ci/pip-audit-ignore.txt when no fixed release exists."
        )
        return Verdict(1, lines)
    summary = f"pip-audit: no known vulnerabilities in the {checked} packages checked"
    if skipped:
        summary += f"; {len(skipped)} packages could NOT be checked (listed above)"
    lines.append(summary + ".")
    return Verdict(0, lines)


def unreachable(detail: str) -> Verdict:
    bar = "!" * 78
    return Verdict(
        3,
        [
            bar,
            "pip-audit: the vulnerability database could not be consulted; NOTHING WAS CHECKED.",
            f"  ({detail})",
            "  Not failing the build for a network problem; run tools/ci/audit.sh again where",
            "  pypi.org's JSON API (or api.osv.dev) answers before trusting this dependency set.",
            bar,
        ],
    )


def run_service(
    service: str, requirements: Path, ignores: dict[str, str]
) -> tuple[dict | None, str]:
    """pip-audit's JSON report for one service, or None and why there is none."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--output",
            str(out),
        ]
        for vuln_id in ignores:
            cmd += ["--ignore-vuln", vuln_id]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
        if out.exists() and out.stat().st_size:
            return json.loads(out.read_text(encoding="utf-8")), ""
        err = proc.stderr.strip()
        if any(sign in err for sign in NETWORK_SIGNS):
            last = err.splitlines()[-1] if err else ""
            return None, f"{service}: unreachable: {last[:300]}"
        raise RuntimeError(f"pip-audit ({service}) failed with exit {proc.returncode}:\n{err}")


def main(argv: list[str]) -> int:
    lock = Path(argv[1]) if len(argv) > 1 else ROOT / "requirements.lock"
    try:
        ignores = read_ignores()
        names = locked_names(lock)
        if CANARY[0] in names:
            raise ValueError(f"the canary {CANARY[0]} is a dependency now; pick another")
        with tempfile.TemporaryDirectory() as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text(
                lock.read_text(encoding="utf-8") + f"\n{CANARY[0]}=={CANARY[1]}\n",
                encoding="utf-8",
            )
            reasons = []
            verdict = None
            for service in SERVICES:
                report, why = run_service(service, requirements, ignores)
                if report is not None:
                    verdict = judge(report, ignores)
                    if verdict is None:
                        skip = next(
                            (
                                d.get("skip_reason", "not flagged")
                                for d in report.get("dependencies", [])
                                if d.get("name", "").lower() == CANARY[0]
                            ),
                            "missing from the report",
                        )
                        why = f"{service}: canary {CANARY[0]}=={CANARY[1]} not flagged: {skip}"
                if verdict is not None:
                    print(f"pip-audit: {len(names)} locked packages, database: {service}")
                    break
                reasons.append(why)
            else:
                verdict = unreachable("; ".join(reasons))
    except (ValueError, RuntimeError, OSError, json.JSONDecodeError) as exc:
        print(f"pip-audit gate: {exc}", file=sys.stderr)
        return 2
    for line in verdict.lines:
        print(line)
    return verdict.code


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main(sys.argv))
