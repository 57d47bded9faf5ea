"""The OpenAPI 3.1 description of /api/v1/. Tests validate real responses against these schemas.

Built on each call: every enum comes from the model choices and checker enums the code uses, and every
limit from the settings the views enforce, so the document cannot drift from the behaviour.
"""

from __future__ import annotations

from django.conf import settings

from interactions.checker import FindingKind, PairStatus
from interactions.models import Evidence, MedicationKind, Severity
from interactions.search import DEFAULT_LIMIT


def _values(choices) -> list[str]:
    return [member.value for member in choices]


def _object(properties: dict, *, optional: tuple[str, ...] = ()) -> dict:
    """A closed JSON object: every property required but the optional ones, and nothing else."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
        "properties": properties,
    }


def _list_of(items: dict, **bounds) -> dict:
    return {"type": "array", "items": items, **bounds}


STRING, NULLABLE_STRING = {"type": "string"}, {"type": ["string", "null"]}
ERROR = _object({"error": {"type": "string", "minLength": 1}})


def _medication_results() -> dict:
    result = {
        "slug": STRING,
        "name": STRING,
        "matched_name": STRING,
        "is_brand": {"type": "boolean"},
        "kind": {"enum": _values(MedicationKind)},
        "regimen": NULLABLE_STRING,
    }
    return _object({"query": STRING, "results": _list_of(_object(result))})


def _finding() -> dict:
    severity = {"enum": _values(Severity)}
    timing = _object(
        {
            "text": STRING,
            "days": {"type": ["integer", "null"]},
            "stop_first": NULLABLE_STRING,
            "then_start": NULLABLE_STRING,
        }
    )
    dose_variant = _object({"regimen": STRING, "severity": {"oneOf": [severity, {"type": "null"}]}, "title": STRING})
    return _object(
        {
            "kind": {
                "enum": _values(FindingKind),
                "description": "A pair finding, or 'whole-list': harm from the sum of several entries "
                "(three sedating medicines), naming every entry involved.",
            },
            "entries": {
                **_list_of({"type": "integer", "minimum": 0}, minItems=2),
                "description": "Indexes into the request's list: two for a pair, any number for a whole-list finding.",
            },
            "ingredients": _list_of(STRING, minItems=2),
            "by_mechanism": {
                "type": "boolean",
                "description": "True when the answer comes from how the medicines act (a mechanism rule), "
                "not from a rule naming them.",
            },
            "severity": severity,
            "title": STRING,
            "summary": STRING,
            "action": STRING,
            "urgent_signs": _list_of(STRING),
            "timing": {"oneOf": [{"type": "null"}, timing]},
            "evidence": {
                "enum": ["", *_values(Evidence)],
                "description": "How well the rule is supported; empty for a finding no rule makes (a duplicate).",
            },
            "dose_variants": {
                "description": "When the dose is unknown and the answer depends on it: the answer for each dose form.",
                **_list_of(dose_variant),
            },
            "articles": _list_of(_object({"slug": STRING, "title": STRING, "url": STRING})),
            "references": _list_of(_object({"citation": STRING, "url": STRING})),
        },
        optional=("by_mechanism", "dose_variants"),
    )


def _check_result() -> dict:
    medication = _object(
        {
            "query": STRING,
            "slug": STRING,
            "name": STRING,
            "regimen": NULLABLE_STRING,
            "covered": {
                "type": "boolean",
                "description": "False: our reviewed content does not cover this medicine; ask a pharmacist.",
            },
            "ingredients": _list_of(STRING),
        }
    )
    pair = _object(
        {
            "entries": _list_of({"type": "integer"}, minItems=2, maxItems=2),
            "status": {
                "enum": _values(PairStatus),
                "description": "'no-known-interaction': both medicines are covered (their labels were "
                "checked against the whole reviewed set) and no rule applies: reviewed, no interaction "
                "expected. 'not-reviewed': our content does not cover the pair; ask your pharmacist.",
            },
            "severity": {
                "oneOf": [{"enum": _values(Severity)}, {"type": "null"}],
                "description": "The pair's verdict: the most severe of its findings (null: none).",
            },
            "not_reviewed": _list_of(_list_of(STRING, minItems=2, maxItems=2)),
        },
        optional=("severity",),
    )
    message = _object(
        {"key": STRING, "title": STRING, "text": STRING, "more": STRING, "entries": _list_of({"type": "integer"})},
        optional=("more", "entries"),
    )
    return _object(
        {
            "medications": _list_of(medication),
            "unresolved": _list_of(_object({"query": STRING, "suggestions": _list_of(STRING)})),
            "findings": _list_of(_finding()),
            "pairs": {
                "description": "Every pair of resolved entries: a finding, no known interaction in our reviewed "
                "content, or not reviewed here (ask your pharmacist).",
                **_list_of(pair),
            },
            "safety_messages": _list_of(message),
        },
        optional=("pairs",),
    )


def _med_list() -> dict:
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": settings.MEDLIST_MAX_ENTRIES,
        "items": {"type": "string", "minLength": 1, "maxLength": settings.SEARCH_MAX_QUERY_LENGTH},
    }


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def document() -> dict:
    bad = _json("#/components/schemas/Error", "Bad input: the error says what to change.")
    retry_after = {
        "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
    }
    too_many = {**_json("#/components/schemas/Error", "Too many requests from this client."), "headers": retry_after}
    unavailable = {**_json("#/components/schemas/Error", "The service is briefly unavailable."), "headers": retry_after}
    med_list = _med_list()
    check_responses = {
        "200": _json("#/components/schemas/CheckResult", "Findings, most severe first."),
        "400": bad,
        "429": too_many,
        "503": unavailable,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MedWise medication API",
            "version": "1.0.0",
            "description": "Medication search and interaction checks. Education, not medical advice.",
        },
        "paths": {
            "/api/v1/medications": {
                "get": {
                    "operationId": "searchMedications",
                    "summary": "Find medications by brand or generic name, typos allowed.",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": settings.SEARCH_MAX_QUERY_LENGTH},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": settings.SEARCH_MAX_LIMIT,
                                "default": DEFAULT_LIMIT,
                            },
                        },
                    ],
                    "responses": {
                        "200": _json("#/components/schemas/MedicationResults", "Best match first."),
                        "400": bad,
                        "429": too_many,
                        "503": unavailable,
                    },
                }
            },
            "/api/v1/check": {
                "get": {
                    "operationId": "checkMedications",
                    "summary": "Check a list of medications, as typed, for interactions.",
                    "parameters": [
                        {
                            "name": "med",
                            "in": "query",
                            "required": True,
                            "style": "form",
                            "explode": True,
                            "schema": med_list,
                        }
                    ],
                    "responses": check_responses,
                },
                "post": {
                    "operationId": "checkMedicationsPost",
                    "summary": "The same check with the list in a JSON body, so it stays out of URLs and logs.",
                    "description": "Answers exactly as the GET does. Uses no cookies, so it needs no CSRF token.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["med"],
                                    "properties": {"med": med_list},
                                }
                            }
                        },
                    },
                    "responses": check_responses,
                },
            },
        },
        "components": {
            "schemas": {
                "Error": ERROR,
                "MedicationResults": _medication_results(),
                "Finding": _finding(),
                "CheckResult": _check_result(),
            }
        },
    }
