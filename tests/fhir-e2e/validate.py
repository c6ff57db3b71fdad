#!/usr/bin/env python3
"""Validate FHIR JSON resources with an independent implementation: fhir.resources (PyPI).

fhir.resources is a set of pydantic models generated from the FHIR specification's
StructureDefinitions. R5 models are at the top level, R4B models under fhir.resources.R4B.
There are no R4 (4.0.1) models in fhir.resources 7/8, so `--fhir r4` validates against R4B
(4.3.0); see README.md for what that gap means for the resources we emit.

What it checks: the resourceType is known; every element name exists on its type (unknown
elements are errors); required elements (min 1) are present; cardinality (a list where the
spec has 0..*, a single value where it has 0..1); primitive types and their regular
expressions (dateTime, uri, id, code, integer, decimal...); choice types ([x]) carry exactly
one value; contained resources and nested backbone elements, recursively.

What it does not check: terminology (a `code` is only checked to be a token, not to be in
its value set: `status: "nonsense"` passes), invariants (FHIRPath constraints such as que-1
or gdr-*), profiles (SDC), references resolving, and strict booleans (pydantic's lax mode
takes "yes" for a boolean). --self-test shows, on built-in broken resources, which of these
it catches.

Usage: validate.py --fhir r4|r5 FILE...   (JSON, or NDJSON with one resource per line)
       validate.py --self-test
Exit code: 0 all valid, 1 some resource invalid (each reported with file, line, path).
"""

import argparse
import copy
import importlib
import json
import pathlib
import sys

from pydantic import ValidationError


def model_class(release, resource_type):
    """The fhir.resources model for a resourceType in a release (r4 -> R4B models)."""
    package = "fhir.resources.R4B" if release == "r4" else "fhir.resources"
    if not isinstance(resource_type, str) or not resource_type.isalpha():
        raise ValueError(f"resourceType {resource_type!r} is not a resource type name")
    try:
        module = importlib.import_module(f"{package}.{resource_type.lower()}")
        return getattr(module, resource_type)
    except (ImportError, AttributeError):
        raise ValueError(f"{package} has no resource type {resource_type!r}") from None


def validate(release, resource):
    """Return the list of problems ('' path means the resource itself); [] if valid."""
    if not isinstance(resource, dict):
        return [f"(root): expected a JSON object, got {type(resource).__name__}"]
    try:
        cls = model_class(release, resource.get("resourceType"))
        cls.model_validate(resource)
    except ValueError as e:
        if isinstance(e, ValidationError):
            return [
                f"{'.'.join(map(str, err['loc'])) or '(root)'}: {err['msg']}"
                for err in e.errors()
            ]
        return [f"(root): {e}"]
    return []


def resources_in(path):
    """(line, resource) pairs: one for a JSON file, one per line for NDJSON."""
    text = pathlib.Path(path).read_text()
    if path.endswith(".ndjson"):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield n, json.loads(line)
    else:
        yield None, json.loads(text)


def self_test():
    """Show that the validator rejects what it claims to reject, and state what it passes."""
    q = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [{"linkId": "a", "type": "choice", "answerOption": [{"valueCoding": {"code": "x"}}]}],
    }
    broken = {
        "missing required status": lambda r: r.pop("status"),
        "unknown element": lambda r: r.__setitem__("colour", "blue"),
        "item without linkId": lambda r: r["item"][0].pop("linkId"),
        "string where a list is allowed once": lambda r: r.__setitem__("title", ["a", "b"]),
        "two value[x] in one answerOption": lambda r: r["item"][0]["answerOption"][0].__setitem__("valueString", "y"),
        "bad dateTime": lambda r: r.__setitem__("date", "yesterday"),
        "integer where a string is due": lambda r: r.__setitem__("title", 5),
    }
    not_checked = {
        "status outside its value set": lambda r: r.__setitem__("status", "nonsense"),
        "string for a boolean": lambda r: r["item"][0].__setitem__("required", "yes"),
    }
    failed = 0
    for release in ("r4", "r5"):
        if validate(release, q):
            print(f"self-test FAIL {release}: the valid Questionnaire was rejected: {validate(release, q)}")
            failed += 1
        for name, breaks in broken.items():
            r = copy.deepcopy(q)
            breaks(r)
            problems = validate(release, r)
            print(f"self-test {release}: {name}: {'rejected' if problems else 'ACCEPTED (FAIL)'}")
            failed += not problems
        for name, breaks in not_checked.items():
            r = copy.deepcopy(q)
            breaks(r)
            problems = validate(release, r)
            print(f"self-test {release}: {name}: {'rejected' if problems else 'accepted (not checked, as documented)'}")
    failed += self_test_guidance_response()
    return 1 if failed else 0


def self_test_guidance_response():
    """The R4/R5 difference the GuidanceResponse mapping must get right, seen by the models:
    R4 (R4B) has `reasonReference` (Reference), R5 replaced it by `reason`
    (CodeableReference); both require one `module[x]`."""
    gr = {
        "resourceType": "GuidanceResponse",
        "moduleCanonical": "urn:carelevel:default|1.0.0",
        "status": "success",
        "reasonReference": [{"reference": "QuestionnaireResponse/qr1"}],
    }
    r5 = copy.deepcopy(gr)
    r5["reason"] = [{"reference": r5.pop("reasonReference")[0]}]
    no_module = copy.deepcopy(gr)
    no_module.pop("moduleCanonical")
    expectations = [
        ("r4", "GuidanceResponse with reasonReference", gr, True),
        ("r5", "GuidanceResponse with reasonReference", gr, False),
        ("r5", "GuidanceResponse with reason", r5, True),
        ("r4", "GuidanceResponse with reason", r5, False),
        ("r4", "GuidanceResponse without module[x]", no_module, False),
    ]
    failed = 0
    for release, name, resource, valid in expectations:
        problems = validate(release, resource)
        ok = (not problems) == valid
        verdict = "valid" if not problems else "rejected"
        print(f"self-test {release}: {name}: {verdict}{'' if ok else ' (FAIL)'}")
        failed += not ok
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fhir", choices=["r4", "r5"], help="release (r4 is checked with R4B models)")
    ap.add_argument("--self-test", action="store_true", help="run the built-in negative cases")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if args.self_test:
        sys.exit(self_test())
    if not args.fhir or not args.files:
        ap.error("give --fhir r4|r5 and at least one FILE (or --self-test)")
    bad = total = 0
    for f in args.files:
        for line, resource in resources_in(f):
            total += 1
            where = f if line is None else f"{f}:{line}"
            kind = resource.get("resourceType") if isinstance(resource, dict) else "?"
            problems = validate(args.fhir, resource)
            if problems:
                bad += 1
                print(f"INVALID {where} ({kind}, {args.fhir}):")
                for p in problems:
                    print(f"  {p}")
            else:
                print(f"valid   {where} ({kind}, {args.fhir})")
    print(f"validate: {total - bad} of {total} resources valid ({args.fhir}, fhir.resources)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
