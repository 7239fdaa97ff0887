"""domainconnect_import_templates: idempotent bulk import, version tracking, lint errors stored disabled."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_domainconnect.engine.lint import lint_paths
from django_domainconnect.models import Template, TemplateVersion
from django_domainconnect.template_store import save_template, template_changes

pytestmark = pytest.mark.django_db


def body(**overrides):
    data = {
        "providerId": "sp.example", "providerName": "SP", "serviceId": "web", "serviceName": "Website",
        "version": 1, "logoUrl": "https://sp.example/logo.png", "description": "web hosting",
        "records": [{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600}],
    }
    data.update(overrides)
    return data


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("domainconnect_import_templates", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_creates_then_is_idempotent(tmp_path):
    write(tmp_path, "sp.example.web.json", body())
    out, _ = run(tmp_path)
    assert "1 created" in out
    t = Template.objects.get()
    assert (t.provider_id, t.service_id, t.version, t.enabled, t.has_errors) == ("sp.example", "web", 1, True, False)
    assert t.record_types == ["A"]
    assert t.source.endswith("sp.example.web.json")
    assert len(t.content_hash) == 64
    out, _ = run(tmp_path)
    assert "1 unchanged" in out and "0 created" in out
    assert TemplateVersion.objects.count() == 1


def test_change_bumps_version_and_records_history(tmp_path):
    path = write(tmp_path, "sp.example.web.json", body())
    run(path)
    new_records = [{"type": "A", "host": "@", "pointsTo": "192.0.2.2", "ttl": 3600}]
    write(tmp_path, "sp.example.web.json", body(records=new_records))
    out, _ = run(path)
    assert "1 updated" in out
    t = Template.objects.get()
    assert t.version == 2  # the template's own version did not change: we bump anyway
    history = list(TemplateVersion.objects.filter(template=t).order_by("version"))
    assert [h.version for h in history] == [1, 2]
    assert any("192.0.2.2" in c for c in history[1].changes)
    assert any("record removed" in c and "192.0.2.1" in c for c in history[1].changes)
    write(tmp_path, "sp.example.web.json", body(version=7, description="new"))
    run(path)
    t.refresh_from_db()
    assert t.version == 7


def test_lint_errors_stored_but_not_enabled(tmp_path):
    bad = body(records=[{"type": "CNAME", "host": "@", "pointsTo": "x.example.net", "ttl": 3600}])
    write(tmp_path, "sp.example.web.json", bad)
    out, _ = run(tmp_path, "--enable")
    t = Template.objects.get()
    assert t.has_errors is True and t.enabled is False
    assert any(f["level"] == "error" for f in t.lint_findings)
    assert "not enabled" in out


def test_unreadable_and_duplicate_files_are_skipped(tmp_path):
    write(tmp_path, "sp.example.web.json", body())
    write(tmp_path, "sp.example.web2.json", body(serviceId="WEB", serviceName="dup"))
    write(tmp_path, "c.json", "{not json")
    write(tmp_path, "d.json", body(serviceId="bad id"))
    out, err = run(tmp_path)
    assert "1 created" in out and "3 skipped" in out
    assert "web2.json" in err and "also in" in err
    assert "c.json" in err and "d.json" in err
    assert Template.objects.count() == 1


def test_dry_run_writes_nothing(tmp_path):
    write(tmp_path, "sp.example.web.json", body())
    out, _ = run(tmp_path, "--dry-run")
    assert "[dry run]" in out and "1 created" in out
    assert Template.objects.count() == 0


def test_enable_flags(tmp_path):
    write(tmp_path, "sp.example.web.json", body())
    run(tmp_path, "--no-enable")
    assert Template.objects.get().enabled is False
    run(tmp_path)  # no flag: existing keeps its state
    assert Template.objects.get().enabled is False
    run(tmp_path, "--enable")
    assert Template.objects.get().enabled is True
    assert TemplateVersion.objects.count() == 1  # enabling is not a new version


def test_missing_path_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.json")


def test_save_template_single():
    result = save_template(json.dumps(body()))
    assert result.status == "created" and result.template.enabled


def test_template_changes_lists_fields():
    assert template_changes(None, body()) == ["created"]
    changes = template_changes(body(), body(description="x", syncBlock=True))
    assert any(c.startswith("description:") for c in changes)
    assert any(c.startswith("syncBlock:") for c in changes)


@pytest.mark.corpus
def test_whole_corpus_imports_quickly_and_matches_lint(corpus_dir, django_assert_max_num_queries):
    started = time.monotonic()
    with django_assert_max_num_queries(60):  # batches, never one query per template
        out, err = run(corpus_dir)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"import took {elapsed:.1f}s"
    lint = lint_paths([corpus_dir])
    stored = {t.source: t for t in Template.objects.all()}
    assert len(stored) + err.count("skipped") == len(lint)
    for source, findings in lint.items():
        has_error = any(f.level == "error" and f.code != "DC1014" for f in findings)
        if source in stored:
            assert stored[source].has_errors == has_error, source
            assert stored[source].enabled == (not has_error), source
    again, _ = run(corpus_dir)
    assert " 0 created, 0 updated" in again


# -- re-import after a lint fix: lint-disabled templates come back, staff-disabled ones stay off ---------------

BAD_RECORDS = [{"type": "CNAME", "host": "@", "pointsTo": "x.example.net", "ttl": 3600}]  # apex CNAME: error


def test_reimport_that_fixes_lint_errors_enables_the_template(tmp_path):
    from django_domainconnect.services import TemplateNotFound, find_template

    path = write(tmp_path, "sp.example.web.json", body(records=BAD_RECORDS))
    run(path)
    assert Template.objects.get().enabled is False
    with pytest.raises(TemplateNotFound):
        find_template("sp.example", "web")
    write(tmp_path, "sp.example.web.json", body())
    out, _ = run(path)
    t = Template.objects.get()
    assert (t.enabled, t.has_errors, t.disabled_reason) == (True, False, "")
    assert find_template("sp.example", "web").pk == t.pk  # the apply link works again
    assert "updated sp.example/web" in out and "lint errors fixed, enabled again" in out
    assert "1 enabled again" in out


def test_existing_template_broken_then_fixed_is_enabled_again(tmp_path):
    path = write(tmp_path, "sp.example.web.json", body())
    run(path)
    write(tmp_path, "sp.example.web.json", body(records=BAD_RECORDS))
    run(path)
    t = Template.objects.get()
    assert (t.enabled, t.disabled_reason) == (False, "lint")
    write(tmp_path, "sp.example.web.json", body(description="fixed"))
    run(path)
    t.refresh_from_db()
    assert (t.enabled, t.disabled_reason) == (True, "")


def test_staff_disabled_template_stays_disabled_when_its_lint_errors_are_fixed(tmp_path):
    path = write(tmp_path, "sp.example.web.json", body())
    run(path)
    Template.objects.update(enabled=False)  # what the admin's "Disable selected templates" action does
    write(tmp_path, "sp.example.web.json", body(records=BAD_RECORDS))
    run(path)
    write(tmp_path, "sp.example.web.json", body(description="fixed"))
    out, _ = run(path)
    t = Template.objects.get()
    assert (t.enabled, t.has_errors, t.disabled_reason) == (False, False, "staff")
    assert "lint errors fixed; stays disabled (disabled by staff" in out
    assert "enabled again" not in out


def test_no_enable_on_a_lint_disabled_template_keeps_it_off_after_the_fix(tmp_path):
    path = write(tmp_path, "sp.example.web.json", body(records=BAD_RECORDS))
    run(path)
    run(path, "--no-enable")  # unchanged file, but the operator says: keep it off
    assert Template.objects.get().disabled_reason == "staff"
    write(tmp_path, "sp.example.web.json", body())
    run(path)
    assert Template.objects.get().enabled is False


def test_save_template_fix_reports_enabled_again():
    save_template(json.dumps(body(records=BAD_RECORDS)))
    result = save_template(json.dumps(body()))
    assert result.status == "updated" and result.template.enabled is True
    assert result.note == "lint errors fixed, enabled again"


def test_unchanged_file_that_no_longer_has_lint_errors_is_enabled_again(tmp_path):
    # The stored verdict came from an older linter; the same file now lints clean.
    path = write(tmp_path, "sp.example.web.json", body())
    run(path)
    Template.objects.update(enabled=False, has_errors=True, disabled_reason="lint",
                            lint_findings=[{"code": "DC9999", "level": "error", "message": "old rule"}])
    out, _ = run(path)
    t = Template.objects.get()
    assert (t.enabled, t.has_errors, t.version) == (True, False, 1)
    assert all(f["code"] != "DC9999" for f in t.lint_findings)
    assert "lint errors fixed, enabled again" in out and "1 updated" in out
    assert TemplateVersion.objects.count() == 1  # same body: no new version
