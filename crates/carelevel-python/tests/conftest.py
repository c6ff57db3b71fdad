"""Shared fixtures: the repository root, the `carelevel` CLI binary, rulesets."""

import os
import pathlib
import shutil

import pytest

import carelevel

ROOT = pathlib.Path(__file__).resolve().parents[3]


def cli_binary() -> str:
    """The CLI to compare against: $CARELEVEL_BIN, else the workspace's release or
    debug build. A missing binary fails the test that needs it (never a skip)."""
    env = os.environ.get("CARELEVEL_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "carelevel"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("carelevel")
    if found:
        return found
    pytest.fail(
        "no carelevel binary: build it (`cargo build --release -p carelevel-cli`) "
        "or set CARELEVEL_BIN"
    )


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def cli() -> str:
    return cli_binary()


@pytest.fixture(scope="session")
def rs() -> carelevel.Ruleset:
    return carelevel.Ruleset.default()


@pytest.fixture(scope="session")
def six() -> carelevel.Ruleset:
    return carelevel.Ruleset.from_file(ROOT / "examples" / "rulesets" / "six-levels.yaml")
