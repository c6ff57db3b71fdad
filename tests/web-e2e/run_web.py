#!/usr/bin/env python3
"""The web form of `carelevel serve` in a real browser (issue 12, part 2).

Starts a real `carelevel serve` on a free loopback port (the bundled default ruleset's
file and the six-level example), waits until /readyz answers 200, and drives the page
at `/` in headless Debian Chromium through Playwright (`executable_path`, no browser
download). Then:

1. Every file under examples/ is offered to `carelevel assess --format json` (JSON and
   YAML answer files; JSON/NDJSON FHIR QuestionnaireResponses with
   `--input-format fhir`; every record of JSON Lines and CSV case files). Each file
   the default ruleset does not accept is listed with the reason, never skipped
   silently; examples/answers/* must all be accepted.
2. For every distinct answer set found, the form is filled in as a person would: the
   answer files with the keyboard alone (Tab into each radio group, arrow keys to the
   answer, typing into number fields), the case records with mouse clicks on the answer
   labels. The page must then show the same level (id and label), refer flag, refer
   flags, other flags, needs-review state, missing questions and fired rules as
   `carelevel assess --format json`, the refer flags above the level, and a print view
   (PDF) of one page with the ruleset id, version and SHA-256, the answers and the
   decision-support statement.
3. The same for every case of examples/rulesets/six-levels.test.yaml with the six-level
   ruleset chosen in the page's ruleset list (integer questions typed in).
4. The page has no request to another origin, no console error, no CSP violation; every
   control has a label, every question is a fieldset with a legend, the result headline
   is an aria-live region.
5. With auth on (a second server with the test issuer) the page says it needs a token.

Screenshots (empty form, a REFER case, its print view, auth on) go to --shots.
Exit 1 if anything failed.
"""

import argparse
import csv
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# How long the page may take to show a state (ms). Not a timing assertion: a slower
# machine only waits longer; the test fails only if the state never comes.
WAIT_MS = 30000
DEFAULT_RULES = ROOT / "rules" / "default.yaml"
SIX_RULES = ROOT / "examples" / "rulesets" / "six-levels.yaml"
SIX_TESTS = ROOT / "examples" / "rulesets" / "six-levels.test.yaml"
TEST_ISSUER = "https://ehr.web-e2e.test"
TEST_JWKS = ROOT / "crates" / "carelevel-server" / "tests" / "keys" / "test-jwks.json"


class Failure(Exception):
    """One check failed; the message says what and where."""


def run(cmd, check=True):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise Failure(f"`{' '.join(map(str, cmd))}` exited {p.returncode}:\n{p.stderr}")
    return p


# ---------------------------------------------------------------- the cases


class Case:
    """One answer set to enter, with what `carelevel assess` says about it."""

    def __init__(self, name, ruleset, answers, expected, method):
        self.name = name
        self.ruleset = ruleset
        self.answers = {k: v for k, v in answers.items() if v is not None}
        self.expected = expected
        self.method = method  # "keyboard" or "click"
        self.same_as = []  # other sources with exactly these answers

    def key(self):
        return (self.ruleset, json.dumps(self.answers, sort_keys=True))


def assess_json(binary, path, extra=()):
    p = run([binary, "assess", "--format", "json", *extra, path], check=False)
    if p.returncode == 0:
        return json.loads(p.stdout), None
    lines = [l.strip() for l in p.stderr.strip().splitlines() if l.strip()] or [f"exit {p.returncode}"]
    return None, " ".join(lines[:2])


def qr_answers(qr):
    """The answers of a QuestionnaireResponse (valueCoding code, boolean, integer)."""
    answers = {}

    def walk(items):
        for it in items or []:
            for a in it.get("answer", []):
                if "valueCoding" in a:
                    answers[it["linkId"]] = a["valueCoding"]["code"]
                elif "valueBoolean" in a:
                    answers[it["linkId"]] = a["valueBoolean"]
                elif "valueInteger" in a:
                    answers[it["linkId"]] = a["valueInteger"]
                else:
                    raise Failure(f"item {it['linkId']}: an answer this harness cannot enter: {a}")
                walk(a.get("item"))
            walk(it.get("item"))

    walk(qr.get("item"))
    return answers


def discover(binary, tmp):
    """Every answer set under examples/ that the default ruleset accepts."""
    cases, refused = [], []
    scratch = pathlib.Path(tmp) / "records"
    scratch.mkdir()
    counter = [0]

    def record_file(obj):
        counter[0] += 1
        path = scratch / f"r{counter[0]:04}.json"
        path.write_text(json.dumps(obj))
        return path

    for path in sorted((ROOT / "examples").rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(ROOT)
        suffix = path.suffix
        if suffix in (".yaml", ".yml", ".json"):
            expected, why = assess_json(binary, path)
            if expected is not None:
                answers = yaml.safe_load(path.read_text()) or {}
                cases.append(Case(str(rel), "default", answers, expected, "keyboard"))
                continue
            if suffix == ".json":
                fhir, why_fhir = assess_json(binary, path, ["--input-format", "fhir"])
                if fhir is not None:
                    answers = qr_answers(json.loads(path.read_text()))
                    cases.append(Case(f"{rel} (FHIR)", "default", answers, fhir, "keyboard"))
                    continue
                why = f"{why}; as FHIR: {why_fhir}"
            refused.append((str(rel), why))
        elif suffix in (".jsonl", ".ndjson"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                name = f"{rel} line {n}"
                if obj.get("resourceType") == "QuestionnaireResponse":
                    expected, why = assess_json(binary, record_file(obj), ["--input-format", "fhir"])
                    answers = qr_answers(obj) if expected else None
                else:
                    rid = obj.pop("id", None)
                    if rid is not None:
                        name += f" (id {rid})"
                    expected, why = assess_json(binary, record_file(obj))
                    answers = obj
                if expected is None:
                    refused.append((name, why))
                else:
                    cases.append(Case(name, "default", answers, expected, "click"))
        elif suffix == ".csv":
            kinds = describe_kinds(binary)
            with path.open(newline="") as f:
                for n, row in enumerate(csv.DictReader(f), 2):
                    name = f"{rel} line {n}"
                    rid = row.pop("id", None)
                    if rid:
                        name += f" (id {rid})"
                    obj = {k: csv_value(kinds.get(k), v) for k, v in row.items() if v != ""}
                    expected, why = assess_json(binary, record_file(obj))
                    if expected is None:
                        refused.append((name, why))
                    else:
                        cases.append(Case(name, "default", obj, expected, "click"))
        else:
            refused.append((str(rel), f"not an answer file ({suffix or 'no extension'})"))
    return cases, refused


def describe_kinds(binary):
    described = json.loads(run([binary, "describe", "--format", "json"]).stdout)
    return {q["id"]: q["kind"] for q in described.get("questions", described.get("factors", []))}


def csv_value(kind, text):
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "integer":
        return int(text)
    return text


def six_level_cases(binary, tmp):
    cases = []
    doc = yaml.safe_load(SIX_TESTS.read_text())
    for i, c in enumerate(doc["cases"]):
        path = pathlib.Path(tmp) / f"six{i:02}.json"
        path.write_text(json.dumps(c["answers"]))
        expected, why = assess_json(binary, path, ["--rules", SIX_RULES])
        if expected is None:
            raise Failure(f"six-levels case {i} ({c['name']}): assess refused it: {why}")
        cases.append(Case(f"six-levels case {i}: {c['name']}", "six-levels", c["answers"], expected,
                          "keyboard" if i % 2 == 0 else "click"))
    return cases


def dedupe(cases):
    """One case per distinct answer set; the others are recorded as the same."""
    seen = {}
    for c in cases:
        first = seen.get(c.key())
        if first is None:
            seen[c.key()] = c
            continue
        if summary(first.expected) != summary(c.expected):
            raise Failure(f"{c.name} and {first.name} have the same answers but assess differs")
        first.same_as.append(c.name)
    return list(seen.values())


def summary(a):
    """What the page must show, from an Assessment."""
    return {
        "level": a["level"]["id"],
        "label": a["level"]["label"],
        "refer": a["refer"],
        "refer_flags": sorted(f["id"] for f in a["flags"] if f["kind"] == "refer"),
        "flags": sorted(f["id"] for f in a["flags"]),
        "needs_review": a["needs_review"],
        "missing": sorted(m["factor"] for m in a["missing"]),
        "fired_rules": [r["id"] for r in a["fired_rules"]],
        # "By dimension": one row per dimension, only when the Assessment has them.
        "dimensions": [
            {"id": d["id"], "label": d["label"], "level": d["level"]["id"],
             "could_rise_to": d["could_rise_to"]["id"] if d["could_rise_to"] else None,
             "fired_rules": d["fired_rules"], "summary": " ".join(d["summary"].split())}
            for d in a["dimensions"]
        ] if "dimensions" in a else None,
    }


# ---------------------------------------------------------------- the server


class Server:
    """`carelevel serve` on a free loopback port, its stderr kept for messages."""

    def __init__(self, binary, args):
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.stderr = []
        threading.Thread(target=self._drain, daemon=True).start()
        line = self.proc.stdout.readline()
        m = re.fullmatch(r"carelevel serve: listening on (http://127\.0\.0\.1:\d+)\n", line)
        if not m:
            self.stop()
            raise Failure(f"serve printed {line!r}, not the listening line:\n" + "".join(self.stderr))
        self.url = m.group(1)
        deadline = time.monotonic() + WAIT_MS / 1000
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise Failure("serve never became ready:\n" + "".join(self.stderr))
            time.sleep(0.1)

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


# ---------------------------------------------------------------- the page


class Watch:
    """Console errors, page errors and requests to other origins, per page."""

    def __init__(self, page, origin):
        self.problems = []
        self.origin = origin
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("request", self._request)

    def _console(self, msg):
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type}: {msg.text}")

    def _request(self, request):
        url = request.url
        if not (url.startswith(self.origin + "/") or url == self.origin):
            self.problems.append(f"request to another origin: {url}")

    def check(self, what):
        if self.problems:
            raise Failure(f"{what}: " + "; ".join(self.problems))


def open_form(context, server, ruleset):
    page = context.new_page()
    watch = Watch(page, server.url)
    page.goto(f"{server.url}/")
    page.wait_for_selector("#result[data-state=ready]", timeout=WAIT_MS)
    if ruleset != page.eval_on_selector("#ruleset", "s => s.value"):
        # Choose the ruleset in the page's list.
        page.select_option("#ruleset", ruleset)
        page.wait_for_function(
            "id => document.getElementById('meta-id').textContent === id", arg=ruleset,
            timeout=WAIT_MS)
        page.wait_for_selector("#result[data-state=ready]", timeout=WAIT_MS)
    return page, watch


def wanted_radio_value(kind, value):
    if value is None:
        return ""
    if kind == "boolean":
        if not isinstance(value, bool):
            raise Failure(f"boolean question, answer {value!r}")
        return "true" if value else "false"
    return str(value)


def fill_by_keyboard(page, questions, answers):
    """Tab through the whole form once; in each question choose the answer with the
    arrow keys (radios) or type it (numbers). Nothing but keys is used."""
    page.focus("body")
    page.keyboard.press("Tab")  # the skip link
    visited = set()
    for _ in range(40 * len(questions) + 20):
        info = page.evaluate(
            """() => { const e = document.activeElement;
                       const f = e && e.closest('fieldset[data-question]');
                       return {tag: e.tagName, type: e.type || null, id: e.id,
                               question: f ? f.dataset.question : null}; }""")
        if info["id"] == "print":
            break
        qid = info["question"]
        if qid and qid not in visited and info["tag"] == "INPUT":
            visited.add(qid)
            kind = questions[qid]["kind"]
            value = answers.get(qid)
            if info["type"] == "number":
                if value is not None:
                    page.keyboard.type(str(value))
            else:
                want = wanted_radio_value(kind, value)
                for _ in range(12):
                    now = page.evaluate("() => document.activeElement.value")
                    if now == want:
                        break
                    page.keyboard.press("ArrowRight")
                else:
                    raise Failure(f"{qid}: the arrow keys never reached {want!r}")
        page.keyboard.press("Tab")
    else:
        raise Failure("Tab never reached the Print summary button")
    if visited != set(questions):
        raise Failure(f"the keyboard reached only {sorted(visited)} of {sorted(questions)}")


def fill_by_clicks(page, questions, answers):
    for qid, q in questions.items():
        value = answers.get(qid)
        if q["kind"] == "integer":
            if value is not None:
                page.click(f"#a-{qid}")
                page.keyboard.type(str(value))
            continue
        want = wanted_radio_value(q["kind"], value)
        radio = page.locator(f'fieldset[data-question="{qid}"] input[type=radio][value="{want}"]')
        if radio.count() != 1:
            raise Failure(f"{qid}: {radio.count()} radios for {want!r}")
        label = page.locator(f'label[for="{radio.get_attribute("id")}"]')
        label.click()


def read_page(page):
    """What the page shows (visible elements only)."""
    def ids(selector, attr):
        return page.eval_on_selector_all(
            selector, f"(els, a) => els.filter(e => e.offsetParent !== null).map(e => e.getAttribute(a))",
            attr)
    refer_visible = page.is_visible("#refer")
    return {
        "level": page.get_attribute("#level", "data-level"),
        "level_id_text": page.inner_text("#level-id"),
        "label": page.inner_text("#level"),
        "refer": refer_visible,
        "refer_flags": sorted(ids("#refer-flags li[data-flag]", "data-flag")) if refer_visible else [],
        "flags": sorted(ids("#refer-flags li[data-flag], #flags li[data-flag]", "data-flag")),
        "needs_review": page.inner_text("#review").startswith("NEEDS REVIEW"),
        "missing": sorted(ids("#missing li[data-missing]", "data-missing")),
        "fired_rules": ids("#fired li[data-rule]", "data-rule"),
        "dimensions": read_dimensions(page) if page.is_visible("#dimensions-block") else None,
    }


def read_dimensions(page):
    """The rows of the "By dimension" table, as `summary` gives them."""
    return page.eval_on_selector_all("#dimensions-body tr[data-dimension]", """rows => rows.map(r => ({
        id: r.getAttribute('data-dimension'),
        label: r.querySelector('th[scope=row]').textContent,
        level: r.getAttribute('data-level'),
        could_rise_to: r.getAttribute('data-could-rise-to'),
        fired_rules: Array.from(r.querySelectorAll('li[data-rule]')).map(li => li.getAttribute('data-rule')),
        summary: r.nextElementSibling.getAttribute('data-summary-of') === r.getAttribute('data-dimension')
            ? r.nextElementSibling.querySelector('.dimension-summary').textContent.split(/\s+/).filter(Boolean).join(' ')
            : null,
    }))""")


def check_case(context, server, described, case, shots, pdf_dir):
    page, watch = open_form(context, server, case.ruleset)
    questions = {q["id"]: q for q in described[case.ruleset]["questions"]}
    unknown = set(case.answers) - set(questions)
    if unknown:
        raise Failure(f"answers to unknown questions {sorted(unknown)}")
    if case.method == "keyboard":
        fill_by_keyboard(page, questions, case.answers)
    else:
        fill_by_clicks(page, questions, case.answers)
    want_answers = {k: case.answers[k] for k in questions if k in case.answers}
    try:
        page.wait_for_function(
            """want => { const r = document.getElementById('result');
                         return r.dataset.state === 'ready' &&
                                r.dataset.answers === JSON.stringify(want); }""",
            arg=want_answers, timeout=WAIT_MS)
    except PlaywrightError as e:
        got = page.get_attribute("#result", "data-answers")
        state = page.get_attribute("#result", "data-state")
        problem = page.inner_text("#assess-problem") if page.is_visible("#assess-problem") else ""
        raise Failure(f"the page never showed the result for {json.dumps(want_answers)} "
                      f"(state {state}, answers {got}, problem {problem!r}): {e}") from e
    want = summary(case.expected)
    # The default ruleset declares dimensions, six-levels none: the section must appear
    # for the one and not for the other (so the comparison below cannot pass vacuously).
    if (want["dimensions"] is not None) != (case.ruleset == "default"):
        raise Failure(f"`carelevel assess` gave dimensions {want['dimensions'] is not None} "
                      f"for ruleset {case.ruleset}")
    got = read_page(page)
    if want["dimensions"] is not None:
        heading = page.get_by_role("heading", name="By dimension")
        if not heading.is_visible():
            raise Failure("no visible \"By dimension\" heading")
        if page.get_by_role("table", name="By dimension").count() != 1:
            raise Failure("the \"By dimension\" table is not named by its heading")
    if got.pop("level_id_text") != f"({want['level']})":
        raise Failure("the level id shown is not the level's id")
    if got != want:
        raise Failure(f"the page differs from `carelevel assess`:\n  expected {json.dumps(want)}\n"
                      f"  shown    {json.dumps(got)}")
    # The refer flags come first: above the level, and first in the result.
    if want["refer"]:
        refer_box = page.locator("#refer").bounding_box()
        level_box = page.locator("#level").bounding_box()
        if not refer_box or not level_box or refer_box["y"] >= level_box["y"]:
            raise Failure("the refer flags are not shown above the level")
        for f in case.expected["flags"]:
            if f["kind"] == "refer":
                text = page.inner_text(f'#refer-flags li[data-flag="{f["id"]}"]')
                if " ".join(f["message"].split()) not in " ".join(text.split()):
                    raise Failure(f"refer flag {f['id']}: its message is not shown")
    check_print(page, case, pdf_dir)
    if shots and case.name == "examples/answers/refer.yaml":
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(shots / "refer.png"))
        # The "By dimension" table, below the first screen of the result.
        page.locator("#dimensions-block").screenshot(path=str(shots / "dimensions.png"))
        # The print view at the width of an A4 page (210 mm at 96 px per inch).
        page.set_viewport_size({"width": 794, "height": 1123})
        page.emulate_media(media="print")
        page.screenshot(path=str(shots / "print-refer.png"), full_page=True)
        page.emulate_media(media="screen")
    watch.check(case.name)
    page.close()
    return want


def check_print(page, case, pdf_dir):
    """The print view: one page, with the ruleset id, version, SHA-256, the answers,
    the level and the decision-support statement; the form's controls not printed."""
    p = case.expected["provenance"]
    page.emulate_media(media="print")
    try:
        for selector in ("#answers", "#ruleset", "footer", "#dimensions-block"):
            if page.is_visible(selector):
                raise Failure(f"print view: {selector} is printed")
        for selector, text in (("#meta-id", p["ruleset_id"]), ("#meta-version", p["ruleset_version"]),
                               ("#meta-sha256", p["ruleset_sha256"]),
                               ("#level", case.expected["level"]["label"])):
            if not page.is_visible(selector) or page.inner_text(selector) != text:
                raise Failure(f"print view: {selector} does not show {text!r}")
        if not page.is_visible("#print-answers"):
            raise Failure("print view: the answers are not printed")
        shown = dict(page.eval_on_selector_all(
            "#print-answers-list li[data-question]",
            "ls => ls.map(l => [l.dataset.question, l.querySelector('.answer').textContent])"))
        given = {q: ("yes" if v else "no") if isinstance(v, bool) else str(v)
                 for q, v in case.answers.items()}
        for q in shown:
            given.setdefault(q, "not answered")
        if shown != given:
            raise Failure(f"print view: answers {shown}, expected {given}")
        notice = page.inner_text(".support-notice")
        if not page.is_visible(".support-notice") or "Decision support" not in notice:
            raise Failure("print view: no decision-support statement")
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    if pages != 1:
        out = pdf_dir / (re.sub(r"[^A-Za-z0-9]+", "_", case.name) + ".pdf")
        out.write_bytes(pdf)
        raise Failure(f"print view: {pages} pages, not one ({out})")


def check_structure(context, server, shots):
    """Labels, fieldsets and legends, aria-live; the empty form's screenshot."""
    page, watch = open_form(context, server, "default")
    problems = page.evaluate(
        """() => {
            const out = [];
            for (const i of document.querySelectorAll('input, select')) {
                if (!i.labels || i.labels.length === 0) out.push(`no label: ${i.id || i.name}`);
            }
            for (const r of document.querySelectorAll('input[type=radio]')) {
                const f = r.closest('fieldset');
                if (!f || !f.querySelector(':scope > legend')) out.push(`radio outside a fieldset with a legend: ${r.id}`);
            }
            for (const e of document.querySelectorAll('[tabindex]')) {
                if (e.tabIndex > 0) out.push(`positive tabindex: ${e.id}`);
            }
            const live = document.getElementById('headline');
            if (!live || live.getAttribute('aria-live') !== 'polite') out.push('the headline is not aria-live');
            if (!document.documentElement.lang) out.push('no lang');
            return out;
        }""")
    if problems:
        raise Failure("structure: " + "; ".join(problems))
    if shots:
        page.set_viewport_size({"width": 1280, "height": 1100})
        page.screenshot(path=str(shots / "empty-form.png"))
    watch.check("empty form")
    page.close()


def check_refusal(context, server):
    """A number outside its range: the server refuses it (422), the page hides the
    result, says why next to the question, and recovers once the answer is fixed."""
    page, watch = open_form(context, server, "six-levels")
    field = page.locator("#a-ciwa_score")
    field.click()
    page.keyboard.type("99")
    page.wait_for_selector("#result[data-state=error]", timeout=WAIT_MS)
    if page.is_visible("#outcome"):
        raise Failure("a result is still shown for answers the server refused")
    text = page.inner_text("#assess-problem")
    if "422" not in text or "ciwa_score" not in text:
        raise Failure(f"the refusal says {text!r}")
    if not page.is_visible("#problem-ciwa_score"):
        raise Failure("the refusal is not shown next to the question")
    field.fill("")
    page.keyboard.type("10")
    page.wait_for_function(
        """() => { const r = document.getElementById('result');
                   return r.dataset.state === 'ready' && r.dataset.answers === '{"ciwa_score":10}'; }""",
        timeout=WAIT_MS)
    if not page.is_visible("#outcome") or page.is_visible("#problem-ciwa_score"):
        raise Failure("the page did not recover after the answer was fixed")
    # The refused request is logged by the browser as a failed resource (422).
    others = [p for p in watch.problems if "422" not in p]
    if others:
        raise Failure("; ".join(others))
    page.close()


def check_auth_on(context, binary, shots):
    server = Server(binary, ["--issuer", TEST_ISSUER, "--jwks", TEST_JWKS])
    try:
        page = context.new_page()
        watch = Watch(page, server.url)
        page.goto(f"{server.url}/")
        page.wait_for_selector("#problem:not([hidden])", timeout=WAIT_MS)
        text = page.inner_text("#problem")
        if "authentication on" not in text or "token" not in text:
            raise Failure(f"auth on: the page says {text!r}")
        if page.is_visible("#answers"):
            raise Failure("auth on: the form is shown without any ruleset")
        if shots:
            page.set_viewport_size({"width": 1280, "height": 500})
            page.screenshot(path=str(shots / "auth-on.png"))
        # The refused call itself is logged by the browser as a failed resource (401):
        # that one console error is expected here, and nothing else.
        others = [p for p in watch.problems if "401" not in p]
        if others:
            raise Failure("auth on: " + "; ".join(others))
        page.close()
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--carelevel", required=True, help="the carelevel binary")
    ap.add_argument("--shots", help="directory for the screenshots (e.g. docs/web)")
    args = ap.parse_args()
    binary = pathlib.Path(args.carelevel).resolve()
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"run_web: {CHROMIUM} is missing: apt-get install chromium")
    shots = pathlib.Path(args.shots) if args.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)

    passed, failed = 0, 0
    with tempfile.TemporaryDirectory(prefix="carelevel-web-") as tmp:
        try:
            found, refused = discover(binary, tmp)
            six = six_level_cases(binary, tmp)
        except Failure as e:
            sys.exit(f"run_web: {e}")
        for name, why in refused:
            print(f"not an answer set for the default ruleset: {name}: {why}")
        must = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "answers").iterdir())
        missing = [m for m in must if m not in {c.name for c in found}]
        if missing:
            sys.exit(f"run_web: the default ruleset refused example answer files {missing}")
        distinct = dedupe(found)
        cases = distinct + dedupe(six)
        print(f"run_web: {len(found)} answer sets under examples/ ({len(distinct)} distinct), "
              f"{len(six)} six-level cases; {len(refused)} files or records refused (listed above)")

        server = Server(binary, ["--rules", DEFAULT_RULES, "--rules", SIX_RULES])
        described = {}
        for rid in ("default", "six-levels"):
            with urllib.request.urlopen(f"{server.url}/v1/rulesets/{rid}") as r:
                described[rid] = json.load(r)
        pdf_dir = pathlib.Path(tmp) / "pdf"
        pdf_dir.mkdir()
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                user_data_dir=str(pathlib.Path(tmp) / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            checks = [("structure and empty form", lambda: check_structure(context, server, shots))]
            for case in cases:
                checks.append((f"{case.name} [{case.method}]",
                               lambda case=case: check_case(context, server, described, case, shots, pdf_dir)))
            checks.append(("a refused answer hides the result and says why",
                           lambda: check_refusal(context, server)))
            checks.append(("auth on: the page says it needs a token",
                           lambda: check_auth_on(context, binary, shots)))
            for name, check in checks:
                try:
                    result = check()
                    extra = ""
                    case = next((c for c in cases if f"{c.name} [{c.method}]" == name), None)
                    if case and case.same_as:
                        extra = f" (same answers: {', '.join(case.same_as)})"
                    print(f"ok   {name}: {json.dumps(result) if result else 'ok'}{extra}")
                    passed += 1
                except (Failure, PlaywrightError) as e:
                    print(f"FAIL {name}: {e}")
                    failed += 1
            context.close()
        code = server.stop()
        if code != 0:
            print(f"FAIL serve exited {code} after SIGTERM:\n" + "".join(server.stderr))
            failed += 1
    print(f"web-e2e: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
