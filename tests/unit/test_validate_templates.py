"""validate on template files: syntax, examples, variables, sandbox — each at its file:line:col."""

from __future__ import annotations

from pathlib import Path

from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, findings

T = "templates/deploy/1.0.yaml"


def with_template(text: str) -> dict[str, str]:
    return {"routes.yaml": MINIMAL_ROUTES, T: text}


def test_minimal_template_is_valid(tmp_path: Path) -> None:
    assert findings(tmp_path, with_template(MINIMAL_TEMPLATE)) == []


def test_jinja_syntax_error_in_a_block_scalar_points_at_its_line(tmp_path: Path) -> None:
    broken = MINIMAL_TEMPLATE.replace(
        "  Environment: {{ environment }}\n",
        "  Environment: {{ environment }}\n  {% if environment %}open\n",
    )
    found = findings(tmp_path, with_template(broken))
    assert found == [f"{T}:11:3: '{{% if %}}' is never closed: add '{{% endif %}}'"]


def test_syntax_error_in_the_subject(tmp_path: Path) -> None:
    broken = MINIMAL_TEMPLATE.replace(
        'subject: "Deployed to {{ environment }}"', 'subject: "Deployed to {{ environment }"'
    )
    found = findings(tmp_path, with_template(broken))
    assert found == [f"{T}:8:10: unexpected '}}'"]


def test_example_missing_a_required_variable(tmp_path: Path) -> None:
    broken = MINIMAL_TEMPLATE.replace("  - {environment: production}", "  - {env: production}")
    found = findings(tmp_path, with_template(broken))
    assert found == [f"{T}:7:5: missing required variable 'environment' (example 1)"]


def test_example_of_the_wrong_type(tmp_path: Path) -> None:
    broken = MINIMAL_TEMPLATE.replace("  - {environment: production}", "  - {environment: 42}")
    found = findings(tmp_path, with_template(broken))
    assert found and found[0].startswith(f"{T}:7:") and "string" in found[0], found


def test_variables_that_are_not_a_json_schema(tmp_path: Path) -> None:
    broken = MINIMAL_TEMPLATE.replace(
        "    environment: {type: string}", "    environment: {type: strng}"
    )
    found = findings(tmp_path, with_template(broken))
    assert (
        len(found) == 1 and found[0].startswith(f"{T}:5:") and "not a valid JSON Schema" in found[0]
    ), found


def test_variables_schema_problems_point_at_the_keyword_at_any_depth(tmp_path: Path) -> None:
    # Property schemas and the rest of `variables` are checked (and remembered) apart: a
    # problem still points at its own keyword, and one part that is fine does not hide another.
    nested = MINIMAL_TEMPLATE.replace(
        "    environment: {type: string}",
        "    environment: {type: object, properties: {a: {minimum: x}}}",
    )
    top = MINIMAL_TEMPLATE.replace(
        "    environment: {type: string}", "    environment: {type: string}\n  minProperties: -1"
    )
    prefix = f"{T}:"
    message = "'variables' is not a valid JSON Schema: "
    assert findings(tmp_path / "nested", with_template(nested)) == [
        f"{prefix}5:59: {message}'x' is not of type 'number'"
    ]
    assert findings(tmp_path / "top", with_template(top)) == [
        f"{prefix}6:18: {message}-1 is less than the minimum of 0"
    ]


def test_undeclared_variable_is_a_warning_where_it_is_used(tmp_path: Path) -> None:
    text = MINIMAL_TEMPLATE.replace(
        "  Environment: {{ environment }}\n",
        "  Environment: {{ environment }}\n  Region: {{ region | default('eu') }}\n",
    )
    found = findings(tmp_path, with_template(text))
    assert found == [
        f"{T}:11:3: warning: variable 'region' is used but not declared under variables.properties "
        "(declare it, with a default if it is optional)"
    ]


def test_sandbox_escape_is_refused(tmp_path: Path) -> None:
    text = MINIMAL_TEMPLATE.replace(
        "  Environment: {{ environment }}\n", "  Environment: {{ environment.__class__.__mro__ }}\n"
    )
    found = findings(tmp_path, with_template(text))
    assert found == [
        f"{T}:10:3: template tried to access unsafe attribute '__class__' of 'str' object (example 1)"
    ]


def test_invalid_slack_variant(tmp_path: Path) -> None:
    text = MINIMAL_TEMPLATE + "slack:\n  - type: headr\n    text: {type: plain_text, text: hi}\n"
    found = findings(tmp_path, with_template(text))
    assert len(found) == 1 and found[0].startswith(
        f"{T}:12:5: slack: block 0: unknown block type 'headr'"
    ), found


def test_unknown_template_key_with_hint(tmp_path: Path) -> None:
    found = findings(tmp_path, with_template(MINIMAL_TEMPLATE.replace("subject:", "subjet:")))
    assert f"{T}:8:1: unknown key 'subjet' (did you mean 'subject'?)" in found
