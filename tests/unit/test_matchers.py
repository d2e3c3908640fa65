"""Matchers: Alertmanager syntax, anchored regexes, missing fields, tags and labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifierd.config.matchers import MatcherError, parse_matcher
from tests.unit.builders import request


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ('severity="critical"', "severity", "=", "critical"),
        ("severity=critical", "severity", "=", "critical"),
        ('  env != "dev"  ', "env", "!=", "dev"),
        ('tags=~"deploy.*"', "tags", "=~", "deploy.*"),
        ('source!~"maintenance:.*"', "source", "!~", "maintenance:.*"),
        ('title="disk \\"full\\""', "title", "=", 'disk "full"'),
        ('title="a\\\\b"', "title", "=", "a\\b"),
        ('title="line\\nbreak\\ttab"', "title", "=", "line\nbreak\ttab"),
        ('team="with space"', "team", "=", "with space"),
        ('env=""', "env", "=", ""),
        ("env=", "env", "=", ""),
        ('k8s.namespace="prod"', "k8s.namespace", "=", "prod"),
    ],
)
def test_parses_names_operators_and_quoted_values(
    text: str, name: str, op: str, value: str
) -> None:
    m = parse_matcher(text)
    assert (m.name, m.op, m.value) == (name, op, value)


@pytest.mark.parametrize(
    ("text", "column", "points_at"),
    [
        ('=~"x"', 0, '=~"x"'),  # no name
        ("severity", 8, ""),  # no operator
        ('severity=="x"', 9, '="x"'),  # doubled operator
        ('severity!x"', 8, '!x"'),
        ('title="unterminated', 6, '"unterminated'),
        ('title="x" junk', 10, "junk"),
        ('title=x"y', 7, '"y'),
        ('title="bad \\q escape"', 11, '\\q escape"'),
        ('title=~"(unclosed"', 8, '(unclosed"'),
        ('title=~"a{2,1}"', 10, '2,1}"'),  # where Python's re points
    ],
)
def test_bad_syntax_reports_the_column(text: str, column: int, points_at: str) -> None:
    with pytest.raises(MatcherError) as err:
        parse_matcher(text)
    assert err.value.column == column
    assert text[err.value.column :] == points_at
    assert str(err.value)  # a message fit for path:line:col


def test_bad_syntax_message_shows_an_example() -> None:
    with pytest.raises(MatcherError, match='severity="critical"'):
        parse_matcher("severity")


def test_regex_is_anchored_at_both_ends() -> None:
    deploy = parse_matcher('tags=~"deploy"')
    assert deploy.matches(request(tags=["deploy"]))
    assert not deploy.matches(request(tags=["deployment"]))
    assert not deploy.matches(request(tags=["predeploy"]))
    assert parse_matcher('tags=~"deploy.*"').matches(request(tags=["deployment"]))


def test_regex_alternation_is_anchored_as_a_whole() -> None:
    m = parse_matcher('severity=~"error|critical"')
    assert m.matches(request(severity="critical"))
    assert not parse_matcher('title=~"a|b"').matches(request(title="ab"))


def test_missing_field_is_the_empty_string() -> None:
    bare = request()
    assert parse_matcher('severity=""').matches(bare)
    assert not parse_matcher('severity="critical"').matches(bare)
    assert parse_matcher('severity!="critical"').matches(bare)
    assert parse_matcher('env=~".*"').matches(bare)
    assert not parse_matcher('env=~".+"').matches(bare)
    assert parse_matcher('env!~".+"').matches(bare)


def test_request_fields_then_labels() -> None:
    r = request(
        severity="error",
        priority="high",
        kind="alert",
        source="ci:build",
        protocol="P-OPS",
        title="Disk full",
        template="incident_alert@1.0",
        labels={"env": "prod", "severity": "ignored"},
    )
    assert parse_matcher('severity="error"').matches(r)  # the field, not the label
    assert parse_matcher('priority="high"').matches(r)
    assert parse_matcher('kind="alert"').matches(r)
    assert parse_matcher('action="trigger"').matches(r)  # alerts default to trigger
    assert parse_matcher('source=~"ci:.*"').matches(r)
    assert parse_matcher('protocol="P-OPS"').matches(r)
    assert parse_matcher('title="Disk full"').matches(r)
    assert parse_matcher('template="incident_alert@1.0"').matches(r)
    assert parse_matcher('env="prod"').matches(r)
    assert not parse_matcher('service="db"').matches(r)


def test_numeric_labels_match_as_text() -> None:
    r = request(labels={"replicas": 3, "canary": True})
    assert parse_matcher('replicas="3"').matches(r)
    assert parse_matcher('canary="True"').matches(r)


def test_tags_match_when_any_tag_matches() -> None:
    r = request(tags=["web", "deploy-prod"])
    assert parse_matcher('tags="web"').matches(r)
    assert parse_matcher('tags=~"deploy-.*"').matches(r)
    assert not parse_matcher('tags="db"').matches(r)


def test_negative_tag_matchers_mean_no_tag_matches() -> None:
    r = request(tags=["web", "deploy"])
    assert not parse_matcher('tags!="web"').matches(r)  # although "deploy" is not "web"
    assert parse_matcher('tags!="db"').matches(r)
    assert not parse_matcher('tags!~"dep.*"').matches(r)
    assert parse_matcher('tags!~"db.*"').matches(r)


def test_no_tags_reads_as_one_empty_tag() -> None:
    r = request()
    assert parse_matcher('tags=""').matches(r)
    assert parse_matcher('tags!="deploy"').matches(r)
    assert not parse_matcher('tags=~"deploy.*"').matches(r)


def test_str_round_trips() -> None:
    for text in ['title="a \\"b\\" \\\\ c"', 'env!="dev"', 'tags=~"de.*"', 'x!~"\\n"']:
        m = parse_matcher(text)
        assert parse_matcher(str(m)) == m


_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_names = st.sampled_from(["severity", "source", "title", "env", "service"])


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@given(name=_names, value=_values, actual=_values)
def test_not_equal_is_the_negation_of_equal(name: str, value: str, actual: str) -> None:
    r = request(
        severity=actual, source=actual, title=actual, labels={"env": actual, "service": actual}
    )
    eq = parse_matcher(f"{name}={_quoted(value)}")
    ne = parse_matcher(f"{name}!={_quoted(value)}")
    assert eq.value == value
    assert ne.matches(r) is not eq.matches(r)


@given(
    name=_names,
    pattern=st.sampled_from(["a.*", ".*b", "a|b", "[0-9]+", "", ".*", "x?y", "(ab)+"]),
    actual=st.text(alphabet="abxy0129 ", max_size=6),
)
def test_not_regex_is_the_negation_of_regex(name: str, pattern: str, actual: str) -> None:
    r = request(
        severity=actual, source=actual, title=actual, labels={"env": actual, "service": actual}
    )
    pos = parse_matcher(f"{name}=~{_quoted(pattern)}")
    neg = parse_matcher(f"{name}!~{_quoted(pattern)}")
    assert neg.matches(r) is not pos.matches(r)


@given(
    tags=st.lists(st.sampled_from(["a", "b", "ab", ""]), max_size=4), value=st.sampled_from("ab")
)
def test_negative_tag_ops_negate_the_positive_ones(tags: list[str], value: str) -> None:
    r = request(tags=tags)
    for pos, neg in (
        (f'tags="{value}"', f'tags!="{value}"'),
        (f'tags=~"{value}.*"', f'tags!~"{value}.*"'),
    ):
        assert parse_matcher(neg).matches(r) is not parse_matcher(pos).matches(r)


@given(value=_values)
def test_any_quoted_value_round_trips(value: str) -> None:
    assert parse_matcher(f"title={_quoted(value)}").value == value
