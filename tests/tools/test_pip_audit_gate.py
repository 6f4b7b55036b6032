"""The pip-audit gate fails on vulnerabilities and never calls an unchecked set clean."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "pip_audit_gate", ROOT / "tools/ci/pip_audit_gate.py"
)
gate = importlib.util.module_from_spec(_spec)
sys.modules["pip_audit_gate"] = gate  # dataclasses look their module up there
_spec.loader.exec_module(gate)

CANARY_FLAGGED = {"name": "django", "version": "3.2", "vulns": [{"id": "PYSEC-2021-98"}]}
CANARY_SKIPPED = {"name": "django", "skip_reason": "Dependency not found on PyPI: django (3.2)"}


def report(*deps):
    return {"dependencies": list(deps), "fixes": []}


def test_a_vulnerable_locked_package_fails():
    verdict = gate.judge(
        report(
            CANARY_FLAGGED,
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
            },
        ),
        {},
    )
    assert verdict.code == 1
    text = "\n".join(verdict.lines)
    assert "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95; fixed in: 3.1.3" in text
    assert "no known vulnerabilities" not in text


def test_a_clean_answered_audit_passes_and_counts_only_our_packages():
    verdict = gate.judge(
        report(CANARY_FLAGGED, {"name": "flask", "version": "3.1.3", "vulns": []}), {}
    )
    assert verdict.code == 0
    assert verdict.lines[-1] == "pip-audit: no known vulnerabilities in the 1 packages checked."


def test_when_the_canary_is_not_flagged_the_report_proves_nothing():
    # What pip-audit returns when pypi.org refuses per-version lookups: every package skipped,
    # and pip-audit itself prints "No known vulnerabilities found".
    assert gate.judge(report(CANARY_SKIPPED, {"name": "flask", "skip_reason": "x"}), {}) is None
    assert gate.judge(report({"name": "flask", "version": "3.1.3", "vulns": []}), {}) is None


def test_packages_that_could_not_be_checked_are_named():
    verdict = gate.judge(
        report(
            CANARY_FLAGGED,
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {"name": "zxcvbn", "skip_reason": "Dependency not found on PyPI: zxcvbn (4.5.0)"},
        ),
        {},
    )
    text = "\n".join(verdict.lines)
    assert "NOT CHECKED zxcvbn" in text
    assert "1 packages could NOT be checked" in text


def test_an_unreachable_database_is_reported_and_does_not_claim_a_clean_result(
    monkeypatch, tmp_path, capsys
):
    lock = tmp_path / "requirements.lock"
    lock.write_text("flask==3.1.3\n")
    answers = iter(
        [
            (report(CANARY_SKIPPED, {"name": "flask", "skip_reason": "not found"}), ""),
            (None, "osv: unreachable: Name or service not known"),
        ]
    )
    monkeypatch.setattr(gate, "run_service", lambda *_a: next(answers))
    assert gate.main(["gate", str(lock)]) == 3
    out = capsys.readouterr().out
    assert "NOTHING WAS CHECKED" in out
    assert "no known vulnerabilities" not in out.lower()


def test_an_ignore_needs_a_reason(tmp_path):
    path = tmp_path / "ignore.txt"
    path.write_text("# comment\nGHSA-aaaa-bbbb-cccc  no fixed release; we never call it\n")
    assert gate.read_ignores(path) == {"GHSA-aaaa-bbbb-cccc": "no fixed release; we never call it"}
    path.write_text("GHSA-aaaa-bbbb-cccc\n")
    with pytest.raises(ValueError, match="no reason"):
        gate.read_ignores(path)


def test_the_reviewed_ignores_all_have_reasons():
    gate.read_ignores()


def test_the_lock_pins_every_declared_dependency_within_its_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in ("test", "postgres", "redis"):
        declared += project["optional-dependencies"][extra]
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[name.lower().replace("_", "-")] = version
    for text in declared:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.lock: run tools/lock.sh"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in requirements.lock breaks {text}: run tools/lock.sh"
        )
