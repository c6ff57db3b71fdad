"""One answer set at a time: assess, decide, level, and their errors."""

import json
import subprocess

import pytest
import yaml

import carelevel


def load_answers(path):
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def answer_files(root):
    return sorted((root / "examples" / "answers").iterdir())


def test_every_example_answer_file_matches_the_cli_byte_for_byte(root, cli, rs):
    files = answer_files(root)
    assert len(files) >= 7
    for path in files:
        expected = subprocess.run(
            [cli, "assess", str(path), "--format", "json"],
            check=True, capture_output=True, text=True,
        ).stdout
        got = rs.assess(load_answers(path))
        assert json.dumps(got, indent=2, ensure_ascii=False) + "\n" == expected, path.name


def test_assess_under_another_ruleset_matches_the_cli(root, cli, six):
    rules = root / "examples" / "rulesets" / "six-levels.yaml"
    answers = {"use_severity": "moderate", "ciwa_score": 12, "stepping_down": False}
    bad = [k for k in answers if k not in {q["id"] for q in six.questions}]
    assert not bad, f"six-levels asks {[q['id'] for q in six.questions]}"
    expected = subprocess.run(
        [cli, "assess", "--rules", str(rules), "-", "--format", "json"],
        input=json.dumps(answers), check=True, capture_output=True, text=True,
    ).stdout
    assert json.dumps(six.assess(answers), indent=2, ensure_ascii=False) + "\n" == expected


def test_decide_and_level_agree_with_assess(root, rs):
    for path in answer_files(root):
        answers = load_answers(path)
        a = rs.assess(answers)
        d = rs.decide(answers)
        assert d == {
            "level": a["level"]["id"],
            "deciding_rules": a["deciding_rules"],
            "flags": [f["id"] for f in a["flags"]],
            "refer": a["refer"],
            "needs_review": a["needs_review"],
        }
        assert rs.level(answers) == a["level"]["id"]


def test_answer_errors_are_the_cli_messages(root, cli, rs, tmp_path):
    answers = {"severity": "extreme", "harm_risk": "hihg", "nonsense": 1}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(answers))
    run = subprocess.run([cli, "assess", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    with pytest.raises(carelevel.AnswersError) as info:
        rs.assess(answers)
    e = info.value
    assert isinstance(e, ValueError)
    # The CLI prints each problem prefixed with the file name and the line and column
    # of its key (`FILE:1:2: ...`); a dict has no lines, so Python's problems have none.
    problems = [f"`{p['factor']}`: {p['message']}" for p in e.problems]
    assert str(e) == "; ".join(problems)
    lines = run.stderr.splitlines()
    for problem in problems:
        assert any(l.startswith(f"  {path}:1:") and l.endswith(f": {problem}") for l in lines), run.stderr
    assert all("location" not in p for p in e.problems)
    assert [p["factor"] for p in e.problems] == ["severity", "harm_risk", "nonsense"]
    assert "did you mean `high`" in e.problems[1]["message"]
    # decide and level (fast path) give the same error as assess (exact path).
    for f in (rs.decide, rs.level):
        with pytest.raises(carelevel.AnswersError) as other:
            f(answers)
        assert str(other.value) == str(e)
        assert other.value.problems == e.problems


def test_control_characters_in_answers_are_escaped_in_messages(rs):
    # Keys and values with ESC, NUL and a right-to-left override (issue 8, item 10): the
    # messages show them as visible escapes, as the CLI does; a huge key is cut.
    answers = {"sev\x1b[2J": 1, "severity": "mod\x00\u202e", "k" * (1 << 20): 1}
    for f in (rs.assess, rs.decide, rs.level):
        with pytest.raises(carelevel.AnswersError) as info:
            f(answers)
        text = str(info.value)
        for raw in ("\x1b", "\x00", "\u202e"):
            assert raw not in text
        assert "`sev\\u{1b}[2J`: unknown question" in text
        assert "`mod\\u{0}\\u{202e}` is not one of" in text
        assert "… (1048576 bytes)`: unknown question" in text
        assert len(text) < 5_000
        factors = [p["factor"] for p in info.value.problems]
        assert factors[:2] == ["sev\\u{1b}[2J", "severity"]
        assert factors[2] == "k" * 200 + "… (1048576 bytes)"


@pytest.mark.parametrize(
    "value",
    [2.5, 3.0, float("inf"), [1], {"a": 1}, True, 7, "true", 10**30, -(10**20)],
)
def test_every_kind_of_value_gives_the_same_outcome_on_both_paths(six, value):
    for question in ("use_severity", "ciwa_score", "stepping_down"):
        answers = {question: value}
        outcomes = []
        for f in (six.assess, six.level):
            try:
                r = f(answers)
                outcomes.append(("ok", r if isinstance(r, str) else r["level"]["id"]))
            except carelevel.AnswersError as e:
                outcomes.append(("error", str(e)))
        assert outcomes[0] == outcomes[1], (question, value)


def test_nan_and_none_are_unanswered_and_whole_floats_are_numbers(six):
    base = {"use_severity": "moderate", "stepping_down": False}
    assert six.assess({**base, "ciwa_score": None}) == six.assess({**base, "ciwa_score": float("nan")})
    assert six.assess({**base, "ciwa_score": 12.0}) == six.assess({**base, "ciwa_score": 12})
    with pytest.raises(carelevel.AnswersError, match="not a whole number"):
        six.level({**base, "ciwa_score": 12.5})


def test_non_answers_are_type_errors(rs):
    with pytest.raises(TypeError, match="mapping"):
        rs.assess(["severity", "mild"])
    with pytest.raises(TypeError, match="question ids"):
        rs.level({1: "mild"})
    with pytest.raises(TypeError, match="`severity`"):
        rs.decide({"severity": object()})


def test_numpy_scalars_are_answers(six):
    import numpy as np
    answers = {"use_severity": np.str_("moderate"), "ciwa_score": np.int64(12), "stepping_down": np.bool_(True)}
    plain = {"use_severity": "moderate", "ciwa_score": 12, "stepping_down": True}
    assert six.assess(answers) == six.assess(plain)
    assert six.level(answers) == six.level(plain)


def test_mappings_other_than_dict(rs):
    from collections import OrderedDict
    from types import MappingProxyType

    answers = {"severity": "severe", "housing": "homeless"}
    for m in (OrderedDict(answers), MappingProxyType(answers)):
        assert rs.assess(m) == rs.assess(answers)
        assert rs.level(m) == "residential"


def test_ruleset_properties(rs, root):
    assert rs.id == "default"
    assert rs.version == "1.1.0"
    assert len(rs.sha256) == 64
    assert rs.sha256 == rs.assess({})["provenance"]["ruleset_sha256"]
    assert [l["id"] for l in rs.levels] == ["outpatient", "iop", "residential"]
    assert [l["rank"] for l in rs.levels] == [0, 1, 2]
    q = {x["id"]: x for x in rs.questions}
    assert q["harm_risk"]["values"] == ["none", "low", "moderate", "high", "imminent"]
    assert q["harm_risk"]["missing"] == "ask"
    assert q["step_down_from_inpatient"]["kind"] == "boolean"
    assert q["step_down_from_inpatient"]["missing"] == {"assume": False}
    same = carelevel.Ruleset.from_file(root / "rules" / "default.yaml")
    assert same.sha256 == rs.sha256
    assert repr(rs) == "<carelevel.Ruleset default 1.1.0>"


def test_ruleset_errors_carry_locations(root):
    text = (root / "rules" / "default.yaml").read_text()
    broken = text.replace("level: iop\n", "level: iopp\n", 1)
    with pytest.raises(carelevel.RulesetError) as info:
        carelevel.Ruleset.from_yaml(broken)
    e = info.value
    assert isinstance(e, ValueError)
    [d] = [d for d in e.diagnostics if "iopp" in d["message"]]
    line = broken.splitlines().index("    level: iopp") + 1
    assert d["line"] == line and d["column"] > 0
    assert d["path"].startswith("rules[") and d["path"].endswith("].level")
    assert d["severity"] == "error"
    assert f"{line}:{d['column']}: error: {d['path']}: {d['message']}" in str(e)
    with pytest.raises(OSError, match="cannot read the ruleset"):
        carelevel.Ruleset.from_file(root / "no-such-file.yaml")


def test_ruleset_error_message_matches_the_cli_check(root, cli, tmp_path):
    text = (root / "rules" / "default.yaml").read_text().replace("level: iop\n", "level: iopp\n", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    out = subprocess.run([cli, "check", str(path)], capture_output=True, text=True).stdout
    with pytest.raises(carelevel.RulesetError) as info:
        carelevel.Ruleset.from_yaml(text)
    for d in info.value.diagnostics:
        assert d["message"] in out
        assert f"{path}:{d['line']}:{d['column']}" in out
