"""The policy document: shape, strict types, JSON round trip, clear problems."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from policies import SCHEMA_VERSION, Policy, PolicyError, PolicyInvalid, preset


def document(**changes: Any) -> dict[str, Any]:
    doc = preset("standard").to_document()
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = doc
        for key in parents:
            target = target[key]
        target[leaf] = value
    return doc


def problems_of(doc: object) -> list[tuple[str, str]]:
    with pytest.raises(PolicyInvalid) as info:
        Policy.from_document(doc)
    assert info.value.code == "policy_invalid"
    assert isinstance(info.value, PolicyError)
    return info.value.problems


@pytest.mark.parametrize("name", ["standard", "gdpr", "hipaa"])
def test_document_round_trip_is_exact_and_json_safe(name: str) -> None:
    policy = preset(name)
    doc = policy.to_document()
    assert json.loads(json.dumps(doc)) == doc
    assert Policy.from_document(json.loads(json.dumps(doc))) == policy
    assert Policy.from_document(doc).to_document() == doc


def test_allowlist_is_a_list_in_documents_and_a_tuple_in_the_model() -> None:
    policy = Policy.from_document(document(masking__allowlist=["shop.example.com"]))
    assert policy.masking.allowlist == ("shop.example.com",)
    assert policy.to_document()["masking"]["allowlist"] == ["shop.example.com"]


def test_policies_are_frozen() -> None:
    policy = preset("standard")
    with pytest.raises(ValidationError):
        policy.compliance_mode = "hipaa"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        policy.email.delay_seconds = 1  # type: ignore[misc]


def test_schema_version_defaults_to_the_current_one() -> None:
    doc = document()
    del doc["schema_version"]
    assert Policy.from_document(doc).schema_version == SCHEMA_VERSION


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, True, None])
def test_other_schema_versions_are_refused_before_anything_else(version: object) -> None:
    doc = document(schema_version=version, surprise="field")
    [(path, message)] = problems_of(doc)
    assert path == "schema_version"
    assert "unsupported schema version" in message


@pytest.mark.parametrize("doc", [None, [], "policy", 42, [("preset", "standard")]])
def test_a_document_must_be_an_object(doc: object) -> None:
    assert problems_of(doc) == [("", "a policy document must be a JSON object")]


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"surprise": 1}, "surprise", "unknown field"),
        ({"email__surprise": 1}, "email.surprise", "unknown field"),
        ({"email__content_by_role__admin": "full"}, "email.content_by_role.admin", "unknown field"),
        ({"email__delay_seconds": "60"}, "email.delay_seconds", "valid integer"),
        ({"email__delay_seconds": 60.0}, "email.delay_seconds", "valid integer"),
        ({"email__delay_seconds": True}, "email.delay_seconds", "valid integer"),
        ({"email__reply_by_email_allowed": 1}, "email.reply_by_email_allowed", "valid boolean"),
        ({"email__reply_by_email_allowed": "yes"}, "email.reply_by_email_allowed", "boolean"),
        ({"email__content_by_role__buyer": "all"}, "email.content_by_role.buyer", "'full'"),
        ({"preset": "paranoid"}, "preset", "'custom'"),
        ({"compliance_mode": "custom"}, "compliance_mode", "'hipaa'"),
        ({"retention__message_days": "365"}, "retention.message_days", "integer"),
        ({"masking__allowlist": "shop.com"}, "masking.allowlist", "tuple"),
        ({"masking__allowlist": [1]}, "masking.allowlist.0", "valid string"),
        ({"masking__replacement": None}, "masking.replacement", "valid string"),
        ({"attachments": []}, "attachments", "dictionary"),
        ({"staff__session_idle_minutes": None}, "staff.session_idle_minutes", "integer"),
    ],
)
def test_bad_shapes_name_the_field(changes: dict[str, object], path: str, message: str) -> None:
    found = problems_of(document(**changes))
    assert [p for p, _ in found] == [path]
    assert message in found[0][1]


def test_missing_fields_and_several_problems_are_all_listed() -> None:
    doc = document(email__delay_seconds="soon", extra=1)
    del doc["staff"]
    del doc["masking"]["phones"]
    found = dict(problems_of(doc))
    assert found["staff"] == "required field is missing"
    assert found["masking.phones"] == "required field is missing"
    assert found["extra"] == "unknown field"
    assert "email.delay_seconds" in found


def test_from_document_also_checks_the_rules() -> None:
    doc = document(compliance_mode="hipaa", preset="custom")
    paths = {path for path, _ in problems_of(doc)}
    assert "email.content_by_role.buyer" in paths
    assert "retention.message_days" in paths
    shape_only = Policy.from_document(doc, check_rules=False)
    assert shape_only.compliance_mode == "hipaa"


def test_the_error_message_lists_every_problem() -> None:
    error = PolicyInvalid([("a.b", "is wrong"), ("", "whole thing")])
    assert str(error) == "invalid policy: a.b: is wrong; whole thing"
    assert PolicyInvalid([]).problems == [("", "invalid policy")]


def test_role_lookup() -> None:
    roles = preset("hipaa").email.content_by_role
    assert roles.for_role("buyer") == roles.for_role("staff") == "redacted"
