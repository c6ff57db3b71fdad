#!/usr/bin/env python3
"""A real form renderer fills in carelevel's Questionnaire (issue 9, proof item).

For each answer file it loads the Questionnaire into NLM's LHC-Forms (lforms, from npm)
in headless Debian Chromium driven by Playwright, selects the file's answers through the
form's own widgets (clicks on the autocomplete list, the radio buttons, typing into number
fields), takes the QuestionnaireResponse that lforms produces
(`LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', ...)`), runs
`carelevel assess --input-format fhir` on it and checks that the level, the flags, refer,
needs_review and the missing and assumed questions equal those of
`carelevel assess --format json ANSWERS_FILE`.

Every failure is reported and the exit code is 1 if any file failed; nothing is skipped.

Usage:
  run_lforms.py --carelevel BIN --out DIR [--rules RULES] [--questionnaire Q.json]
                [--standin] ANSWERS_FILE...

--standin is for developing the harness before the carelevel-fhir CLI exists: it builds
the Questionnaire with standin_questionnaire.py and maps the QuestionnaireResponse back to
answers in Python (qr_to_answers below). It prints a warning on every use and CI never
passes it.
"""

import argparse
import functools
import http.server
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading

import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

HERE = pathlib.Path(__file__).resolve().parent
LFORMS_DIST = HERE / "node_modules" / "lforms" / "dist" / "lforms"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# How long one widget or the form may take to appear (ms). Not a timing assertion: a
# slower machine only waits longer; the test fails only if the element never appears.
WAIT_MS = 30000


class Failure(Exception):
    """One answer file did not survive the round trip; the message says why."""


def run(cmd, stdin=None):
    """Run a command; return its stdout, or raise Failure with its stderr."""
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise Failure(f"`{' '.join(map(str, cmd))}` exited {p.returncode}:\n{p.stderr}")
    return p.stdout


def rules_args(args):
    return ["--rules", args.rules] if args.rules else []


def questionnaire(args):
    """The Questionnaire under test: --questionnaire, the CLI's, or the stand-in."""
    if args.questionnaire:
        return json.loads(pathlib.Path(args.questionnaire).read_text())
    if args.standin:
        warn("--standin: using standin_questionnaire.py, NOT `carelevel fhir questionnaire`")
        described = run([args.carelevel, "describe", "--format", "json", *rules_args(args)])
        out = run([sys.executable, str(HERE / "standin_questionnaire.py")], stdin=described)
        return json.loads(out)
    return json.loads(run([args.carelevel, "fhir", "questionnaire", *rules_args(args)]))


def warn(msg):
    print(f"run_lforms: WARNING: {msg}", file=sys.stderr)


def serve(root):
    """A static file server on loopback for the page and the lforms files."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files; logs only errors (a 404 means the page is broken: it is printed)."""

    def log_message(self, fmt, *a):
        pass

    def log_error(self, fmt, *a):
        print(f"run_lforms: http: {fmt % a}", file=sys.stderr)


def items_by_link_id(q):
    """Every item of the Questionnaire, nested ones included, by linkId."""
    found = {}

    def walk(items):
        for it in items or []:
            found[it["linkId"]] = it
            walk(it.get("item"))

    walk(q.get("item"))
    return found


def select_answers(page, items, answers):
    """Fill the form through its widgets, as a person would."""
    for link_id, value in answers.items():
        if value is None:
            continue
        item = items.get(link_id)
        if item is None:
            raise Failure(f"answer {link_id!r} has no item with that linkId in the Questionnaire")
        kind = item["type"]
        if kind in ("choice", "coding"):
            select_choice(page, link_id, item, value)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise Failure(f"{link_id}: boolean item, answer {value!r}")
            group = page.locator(f'[name="radiogroup_{link_id}/1"]').first.locator(
                "xpath=ancestor::*[contains(@class,'ant-radio-group')][1]"
            )
            group.get_by_text("Yes" if value else "No", exact=True).click()
        elif kind == "integer":
            field = page.locator(f'[id="{link_id}/1"]')
            field.fill(str(value))
            field.press("Tab")
        else:
            raise Failure(f"{link_id}: item type {kind!r} is not one this harness can fill in")


def select_choice(page, link_id, item, value):
    """Open the autocomplete list of a choice item and click the option for `value`."""
    options = item.get("answerOption", [])
    index = [i for i, o in enumerate(options) if o.get("valueCoding", {}).get("code") == value]
    if len(index) != 1:
        raise Failure(f"{link_id}: {len(index)} answerOptions have code {value!r}")
    display = options[index[0]]["valueCoding"].get("display", value)
    field = page.locator(f'[id="{link_id}/1"]')
    field.click()
    # The autocomplete list is one shared element (#completionOptions) listing the options
    # of the focused field in answerOption order, each `<li autocomprawlistindex="N">`.
    # Its text is "N: display", plus " - weight" when the option has an itemWeight.
    option = page.locator(f'#completionOptions li[autocomprawlistindex="{index[0]}"]')
    text = option.inner_text(timeout=WAIT_MS)
    if display not in text:
        raise Failure(f"{link_id}: list entry {index[0]} reads {text!r}, expected {display!r}")
    option.click()
    # lforms commits a choice to its model when the field loses the focus.
    field.press("Tab")
    shown = field.input_value()
    if display not in shown:
        raise Failure(f"{link_id}: the field shows {shown!r} after choosing {display!r}")


def fill_in(context, base_url, q, answers):
    """Load the form in a fresh page, select the answers, return lforms' QR (R4)."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/page/index.html")
    # (A function-valued expression would be called by Playwright: test its type.)
    page.wait_for_function(
        "typeof window.LForms?.Util?.addFormToPage === 'function'", timeout=WAIT_MS
    )
    page.evaluate("q => LForms.Util.addFormToPage(q, 'formContainer', {})", q)
    page.wait_for_selector("lhc-item", timeout=WAIT_MS)
    select_answers(page, items_by_link_id(q), answers)
    # lforms updates its model asynchronously after a widget changes: wait until the QR it
    # would produce answers exactly the questions we answered (a state, not a delay).
    answered = sorted(k for k, v in answers.items() if v is not None)
    try:
        page.wait_for_function(
            """answered => {
                const qr = LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4',
                    document.getElementById('formContainer'));
                const ids = [];
                const walk = items => (items || []).forEach(it => {
                    if ((it.answer || []).length) ids.push(it.linkId);
                    walk(it.item);
                    (it.answer || []).forEach(a => walk(a.item));
                });
                walk(qr.item);
                return JSON.stringify(ids.sort()) === JSON.stringify(answered);
            }""",
            arg=answered,
            timeout=WAIT_MS,
        )
    except PlaywrightError as e:
        raise Failure(f"lforms' QR never answered exactly {answered}: {e}") from e
    qr = page.evaluate(
        "() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4',"
        " document.getElementById('formContainer'))"
    )
    page.close()
    if errors:
        raise Failure("the page raised errors:\n  " + "\n  ".join(errors))
    return qr


def qr_to_answers(qr):
    """--standin only: a minimal reference mapping of an lforms QR back to answers."""
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
                walk(a.get("item"))
            walk(it.get("item"))

    walk(qr.get("item"))
    return answers


def summary(assessment):
    """What must agree between the two paths."""
    return {
        "level": assessment["level"]["id"],
        "flags": sorted(f["id"] for f in assessment["flags"]),
        "refer": assessment["refer"],
        "needs_review": assessment["needs_review"],
        "missing": [m["factor"] for m in assessment["missing"]],
        "assumed": [a["factor"] for a in assessment["assumed"]],
    }


def check_one(args, context, base_url, q, answers_file, out_dir):
    answers = yaml.safe_load(pathlib.Path(answers_file).read_text()) or {}
    expected = json.loads(
        run([args.carelevel, "assess", "--format", "json", *rules_args(args), answers_file])
    )
    qr = fill_in(context, base_url, q, answers)
    stem = pathlib.Path(answers_file).name  # iop.yaml and iop.json both exist
    qr_path = out_dir / f"{stem}.lforms-qr.json"
    qr_path.write_text(json.dumps(qr, indent=2) + "\n")
    if args.standin:
        warn(f"--standin: {stem}: QR mapped back by qr_to_answers, NOT `assess --input-format fhir`")
        answers_path = out_dir / f"{stem}.answers.json"
        answers_path.write_text(json.dumps(qr_to_answers(qr)))
        cmd = [args.carelevel, "assess", "--format", "json", *rules_args(args), str(answers_path)]
    else:
        cmd = [args.carelevel, "assess", "--input-format", "fhir", "--format", "json",
               *rules_args(args), str(qr_path)]
    actual = json.loads(run(cmd))
    want, got = summary(expected), summary(actual)
    if want != got:
        raise Failure(
            f"the assessment of lforms' QR ({qr_path}) differs from the answer file's:\n"
            f"  expected {json.dumps(want)}\n  got      {json.dumps(got)}"
        )
    return want


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--carelevel", required=True, help="the carelevel binary")
    ap.add_argument("--out", required=True, help="directory for the QRs lforms produced")
    ap.add_argument("--rules", help="ruleset file (default: the bundled one)")
    ap.add_argument("--questionnaire", help="Questionnaire JSON (default: `carelevel fhir questionnaire`)")
    ap.add_argument("--standin", action="store_true", help="develop without the carelevel-fhir CLI")
    ap.add_argument("answers", nargs="+", help="answer files (YAML or JSON)")
    args = ap.parse_args()
    if not LFORMS_DIST.is_dir():
        sys.exit(f"run_lforms: {LFORMS_DIST} is missing: run `npm ci` in {HERE}")
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"run_lforms: {CHROMIUM} is missing: apt-get install chromium")
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        q = questionnaire(args)
    except Failure as e:
        sys.exit(f"run_lforms: cannot get the Questionnaire: {e}")
    (out_dir / "questionnaire.json").write_text(json.dumps(q, indent=2) + "\n")

    failures = 0
    with tempfile.TemporaryDirectory(prefix="carelevel-lforms-") as tmp:
        root = pathlib.Path(tmp) / "www"
        root.mkdir()
        (root / "page").symlink_to(HERE / "page")
        (root / "lforms").symlink_to(LFORMS_DIST)
        server = serve(root)
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                user_data_dir=str(pathlib.Path(tmp) / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
            )
            for f in args.answers:
                try:
                    s = check_one(args, context, base_url, q, f, out_dir)
                    print(f"ok   {f}: {json.dumps(s)}")
                except (Failure, PlaywrightError) as e:
                    failures += 1
                    print(f"FAIL {f}: {e}")
            context.close()
        server.shutdown()
    print(f"run_lforms: {len(args.answers) - failures} of {len(args.answers)} answer files agree")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
