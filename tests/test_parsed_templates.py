"""Stored templates are parsed once per process and version (``parsed_templates``), never served stale."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from benchmarks import workloads as w
from django_domainconnect import models, parsed_templates
from django_domainconnect.engine.errors import TemplateError
from django_domainconnect.engine.template import parse_template
from django_domainconnect.template_store import prepare, store_prepared
from tests.conftest import store_template_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The service id of every body ``parsed_templates`` really parses."""
    calls: list[str] = []

    def spy(body: Any, **kwargs: Any) -> Any:
        calls.append(body.get("serviceId") if isinstance(body, dict) else "?")
        return parse_template(body, **kwargs)

    monkeypatch.setattr(parsed_templates, "parse_template", spy)
    return calls


def body(service: str = "hosting5", **changes: Any) -> dict[str, Any]:
    return {**w.hosting5(), "serviceId": service, **changes}


def fresh(row: models.Template) -> models.Template:
    return models.Template.objects.get(pk=row.pk)  # a new instance, its body decoded again, as a request has


def test_a_row_is_parsed_once_and_the_result_is_the_parse(parses: list[str]) -> None:
    row = store_template_row(body())
    first = parsed_templates.engine_template(fresh(row))
    again = parsed_templates.engine_template(fresh(row))
    assert parses == ["hosting5"]
    assert again is first and first == parse_template(row.body)


def test_each_row_has_its_own_entry(parses: list[str]) -> None:
    a, b = store_template_row(body("one")), store_template_row(body("two"))
    assert parsed_templates.engine_template(fresh(a)).service_id == "one"
    assert parsed_templates.engine_template(fresh(b)).service_id == "two"
    assert parsed_templates.engine_template(fresh(a)).service_id == "one"
    assert parses == ["one", "two"]


def test_a_change_through_the_store_is_parsed_afresh(parses: list[str]) -> None:
    row = store_template_row(body(logoUrl="https://old.example/logo.png"))
    assert parsed_templates.engine_template(fresh(row)).logo_url == "https://old.example/logo.png"
    changed = body(logoUrl="https://new.example/logo.png", version=2)
    assert store_prepared([prepare(changed, origin="test")])[0].status == "updated"
    assert parsed_templates.engine_template(fresh(row)).logo_url == "https://new.example/logo.png"
    assert len(parses) == 2


def test_a_body_changed_behind_the_stores_back_is_never_served_stale(parses: list[str]) -> None:
    row = store_template_row(body(logoUrl="https://old.example/logo.png"))
    parsed_templates.engine_template(fresh(row))
    # The same content_hash, the same updated_at: only the body differs.
    models.Template.objects.filter(pk=row.pk).update(body=body(logoUrl="https://new.example/logo.png"))
    assert parsed_templates.engine_template(fresh(row)).logo_url == "https://new.example/logo.png"
    assert len(parses) == 2


def test_a_callers_change_to_its_body_does_not_reach_the_entry(parses: list[str]) -> None:
    row = fresh(store_template_row(body()))
    parsed_templates.engine_template(row)
    row.body["records"][0]["pointsTo"] = "192.0.2.99"  # in place, on the dict the first parse was given
    other = fresh(row)
    assert parsed_templates.engine_template(other).records[0].points_to == "%ip%"
    assert parses == ["hosting5"]  # the entry still matches the stored body: no parse needed


def test_a_bad_body_raises_every_time_and_is_not_remembered(parses: list[str]) -> None:
    bad = body()
    bad["records"] = [{"type": "A", "host": 7, "pointsTo": "192.0.2.1"}]  # a number as host
    row = store_template_row(copy.deepcopy(bad))
    for _ in range(2):
        with pytest.raises(TemplateError):
            parsed_templates.engine_template(fresh(row))
    assert len(parses) == 2


def test_an_unsaved_row_is_parsed_every_time(parses: list[str]) -> None:
    row = models.Template(provider_id="p.example", service_id="s", body=body("unsaved"))
    parsed_templates.engine_template(row)
    parsed_templates.engine_template(row)
    assert parses == ["unsaved", "unsaved"]


def test_the_least_recently_used_entry_goes_first(parses: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsed_templates, "MAX_PARSED", 2)
    a, b, c = (store_template_row(body(s)) for s in ("a", "b", "c"))
    for row in (a, b, a, c):  # c pushes out b, the least recently used
        parsed_templates.engine_template(fresh(row))
    assert parses == ["a", "b", "c"]
    parsed_templates.engine_template(fresh(a))
    parsed_templates.engine_template(fresh(b))
    assert parses == ["a", "b", "c", "b"]
