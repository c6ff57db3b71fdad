"""Policy-author tools: check, diff and schema return the CLI's JSON as dicts."""

import json
import subprocess

import yaml

import carelevel


def cli_json(cli, *args):
    return json.loads(subprocess.run([cli, *args], capture_output=True, text=True).stdout)


def test_schema_matches_the_cli(cli, rs):
    assert rs.schema("answers") == cli_json(cli, "schema", "--what", "answers")
    assert rs.schema("assessment") == cli_json(cli, "schema", "--what", "assessment")
    try:
        rs.schema("nope")
    except ValueError as e:
        assert "expected \"answers\" or \"assessment\"" in str(e)
    else:
        raise AssertionError("schema('nope') must raise")


def test_diff_matches_the_cli(root, cli):
    old_path = root / "examples" / "policy-change" / "default-1.0.0.yaml"
    new_path = root / "examples" / "policy-change" / "limited-support.yaml"
    old, new = carelevel.Ruleset.from_file(old_path), carelevel.Ruleset.from_file(new_path)
    assert carelevel.diff(old, new) == cli_json(cli, "diff", str(old_path), str(new_path), "--format", "json")
    cases_path = root / "examples" / "cases" / "people.jsonl"
    cases = [json.loads(line) for line in cases_path.read_text().splitlines() if line.strip()]
    got = carelevel.diff(old, new, cases=cases)
    want = cli_json(cli, "diff", str(old_path), str(new_path), "--cases", str(cases_path), "--format", "json")
    # Case errors name a JSON Lines line in the CLI and a position here; the corpus has
    # no blank lines, so they coincide.
    assert got == want
    assert got["case_matrix"] is not None


def test_diff_names_the_cases_that_move_as_the_cli_does(root, cli, tmp_path):
    old_path = root / "examples" / "policy-change" / "default-1.0.0.yaml"
    new_path = root / "examples" / "policy-change" / "limited-support.yaml"
    old, new = carelevel.Ruleset.from_file(old_path), carelevel.Ruleset.from_file(new_path)
    moves = {"severity": "none", "withdrawal_risk": "moderate", "medical": "none",
             "housing": "stable", "support": "limited", "harm_risk": "none",
             "mental_health": "none", "readiness": "ready", "step_down_from_inpatient": False}
    stays = dict(moves, support="strong")
    cases = [dict(stays, pid="s1"), dict(moves, pid="m1"), dict(moves), {"pid": "bad", "nope": 1}]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    got = carelevel.diff(old, new, cases=cases, id_field="pid")
    want = cli_json(cli, "diff", str(old_path), str(new_path), "--cases", str(path),
                    "--id-field", "pid", "--format", "json")
    assert got == want
    changes = got["case_changes"]
    assert changes["id_field"] == "pid"
    assert changes["moved"] == [{"from": "iop", "to": "residential", "direction": "escalation",
                                 "cases": [{"line": 2, "id": "m1"}, {"line": 3, "id": None}]}]
    [error] = got["case_errors"]
    assert (error["line"], error["id"]) == (4, "bad")
    try:
        carelevel.diff(old, new, cases=cases, id_field="support")
    except ValueError as e:
        assert "names a question" in str(e)
    else:
        raise AssertionError("an id_field that is a question must raise")


def test_diff_case_errors_are_listed_not_counted(root):
    old = carelevel.Ruleset.from_file(root / "examples" / "policy-change" / "default-1.0.0.yaml")
    new = carelevel.Ruleset.from_file(root / "examples" / "policy-change" / "limited-support.yaml")
    report = carelevel.diff(old, new, cases=[{"id": "a", "severity": "mild"}, {"id": "b", "severity": "extreme"}])
    assert [e["id"] for e in report["case_errors"]] == ["b"]
    assert report["case_errors"][0]["line"] == 2
    assert report["case_errors"][0]["error"].startswith("OLD: `severity`: `extreme`")
    assert sum(map(sum, report["case_matrix"])) == 1


def test_check_reports_every_invariant_with_locations(root, rs):
    report = rs.check()
    assert report["classes"] > 0
    holds = [f for f in report["findings"] if f["kind"] == "invariant_holds"]
    invariants = yaml.safe_load((root / "rules" / "default.yaml").read_text())["invariants"]
    assert sorted(f["subject"] for f in holds) == sorted(i["id"] for i in invariants)
    assert all(f["location"]["line"] > 0 for f in holds)
    assert not [f for f in report["findings"] if f["severity"] == "error"]
    strict = rs.check(strict=True)
    assert strict["classes"] == report["classes"]
