#!/usr/bin/env python3
"""A hand-written stand-in for `carelevel fhir questionnaire` (FHIR R4).

The harness was written before the carelevel-fhir crate existed. This script builds an
R4 Questionnaire from `carelevel describe --format json` in the shape issue 9 asks for
(one item per question, linkId = question id, choice items with answerOption.valueCoding,
integer items with SDC minValue/maxValue, boolean items). It is used only when the CLI
has no `fhir questionnaire` subcommand, and run_lforms.py says so loudly; the code systems
it mints (`urn:carelevel:<ruleset id>:...`) are a guess, not the crate's documented ones.

Usage: carelevel describe --format json [--rules F] | standin_questionnaire.py > q.json
"""

import json
import sys

SDC_MIN = "http://hl7.org/fhir/StructureDefinition/minValue"
SDC_MAX = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"


def item(base, factor):
    it = {
        "linkId": factor["id"],
        "code": [{"system": f"{base}:question", "code": factor["id"]}],
        "text": factor["question"],
        "required": factor["missing"]["policy"] == "error",
    }
    kind = factor["kind"]
    if kind == "ordinal":
        it["type"] = "choice"
        it["answerOption"] = [
            {
                "extension": [{"url": ITEM_WEIGHT, "valueDecimal": rank}],
                "valueCoding": {
                    "system": f"{base}:answer:{factor['id']}",
                    "code": value,
                    "display": value,
                },
            }
            for rank, value in enumerate(factor["values"])
        ]
    elif kind == "integer":
        it["type"] = "integer"
        it["extension"] = [
            {"url": SDC_MIN, "valueInteger": factor["min"]},
            {"url": SDC_MAX, "valueInteger": factor["max"]},
        ]
    elif kind == "boolean":
        it["type"] = "boolean"
    else:
        raise SystemExit(f"standin_questionnaire: unknown factor kind {kind!r}")
    return it


def main():
    d = json.load(sys.stdin)
    base = f"urn:carelevel:{d['id']}"
    q = {
        "resourceType": "Questionnaire",
        "id": d["id"],
        "url": base,
        "version": d["version"],
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{d['sha256']}"}],
        "status": "active",
        "title": d["title"],
        "item": [item(base, f) for f in d["factors"]],
    }
    json.dump(q, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
