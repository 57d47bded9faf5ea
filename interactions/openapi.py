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


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}


def _medication_results() -> dict:
    return {
        "type": "object",
        "required": ["query", "results"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "name", "matched_name", "is_brand", "kind", "regimen"],
                    "additionalProperties": False,
                    "properties": {
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "matched_name": {"type": "string"},
                        "is_brand": {"type": "boolean"},
                        "kind": {"enum": _values(MedicationKind)},
                        "regimen": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }


def _finding() -> dict:
    severities = _values(Severity)
    return {
        "type": "object",
        "required": [
            "kind",
            "entries",
            "ingredients",
            "severity",
            "title",
            "summary",
            "action",
            "urgent_signs",
            "timing",
            "evidence",
            "articles",
            "references",
        ],
        "additionalProperties": False,
        "properties": {
            "kind": {
                "enum": _values(FindingKind),
                "description": "A pair finding, or 'whole-list': harm from the sum of several entries "
                "(three sedating medicines), naming every entry involved.",
            },
            "entries": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 2,
                "description": "Indexes into the request's list: two for a pair, any number for a whole-list finding.",
            },
            "ingredients": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "by_mechanism": {
                "type": "boolean",
                "description": "True when the answer comes from how the medicines act (a mechanism rule), "
                "not from a rule naming them.",
            },
            "severity": {"enum": severities},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "action": {"type": "string"},
            "urgent_signs": {"type": "array", "items": {"type": "string"}},
            "timing": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["text", "days", "stop_first", "then_start"],
                        "additionalProperties": False,
                        "properties": {
                            "text": {"type": "string"},
                            "days": {"type": ["integer", "null"]},
                            "stop_first": {"type": ["string", "null"]},
                            "then_start": {"type": ["string", "null"]},
                        },
                    },
                ]
            },
            "evidence": {
                "enum": ["", *_values(Evidence)],
                "description": "How well the rule is supported; empty for a finding no rule makes (a duplicate).",
            },
            "dose_variants": {
                "description": "When the dose is unknown and the answer depends on it: the answer for each dose form.",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["regimen", "severity", "title"],
                    "additionalProperties": False,
                    "properties": {
                        "regimen": {"type": "string"},
                        "severity": {"oneOf": [{"enum": severities}, {"type": "null"}]},
                        "title": {"type": "string"},
                    },
                },
            },
            "articles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "title", "url"],
                    "additionalProperties": False,
                    "properties": {"slug": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"}},
                },
            },
            "references": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["citation", "url"],
                    "additionalProperties": False,
                    "properties": {"citation": {"type": "string"}, "url": {"type": "string"}},
                },
            },
        },
    }


def _check_result() -> dict:
    severities = _values(Severity)
    return {
        "type": "object",
        "required": ["medications", "unresolved", "findings", "safety_messages"],
        "additionalProperties": False,
        "properties": {
            "medications": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["query", "slug", "name", "regimen", "covered", "ingredients"],
                    "additionalProperties": False,
                    "properties": {
                        "query": {"type": "string"},
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                        "regimen": {"type": ["string", "null"]},
                        "covered": {
                            "type": "boolean",
                            "description": "False: our reviewed content does not cover this medicine; "
                            "ask a pharmacist.",
                        },
                        "ingredients": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "unresolved": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["query", "suggestions"],
                    "additionalProperties": False,
                    "properties": {
                        "query": {"type": "string"},
                        "suggestions": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
            "findings": {"type": "array", "items": _finding()},
            "pairs": {
                "description": "Every pair of resolved entries: a finding, no known interaction in our reviewed "
                "content, or not reviewed here (ask your pharmacist).",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["entries", "status", "not_reviewed"],
                    "additionalProperties": False,
                    "properties": {
                        "entries": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                        "status": {
                            "enum": _values(PairStatus),
                            "description": "'no-known-interaction': both medicines are covered (their labels were "
                            "checked against the whole reviewed set) and no rule applies: reviewed, no interaction "
                            "expected. 'not-reviewed': our content does not cover the pair; ask your pharmacist.",
                        },
                        "severity": {
                            "oneOf": [{"enum": severities}, {"type": "null"}],
                            "description": "The pair's verdict: the most severe of its findings (null: none).",
                        },
                        "not_reviewed": {
                            "type": "array",
                            "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
                        },
                    },
                },
            },
            "safety_messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "title", "text"],
                    "additionalProperties": False,
                    "properties": {
                        "key": {"type": "string"},
                        "title": {"type": "string"},
                        "text": {"type": "string"},
                        "more": {"type": "string"},
                        "entries": {"type": "array", "items": {"type": "integer"}},
                    },
                },
            },
        },
    }


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
