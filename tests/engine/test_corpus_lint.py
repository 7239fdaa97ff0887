"""Lint the public template corpus: no crash, fast, and exactly the pinned templates have errors."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from django_domainconnect.engine.lint import CODES, lint_paths

pytestmark = pytest.mark.corpus

# Templates with error-level findings, and why (docs/templates.md explains each group).
EXPECTED_ERRORS = {
    "aiprospectscout.com.mail.json": {"DC1004"},  # syncPubKeyDomain given twice
    "amplemarket.com.domain-setup.json": {"DC1022"},  # warnPhishing + syncPubKeyDomain
    "getflywheel.com.arecord.json": {"DC1021"},  # syncRedirectDomain flywheel.localhost
    "getflywheel.com.cname.json": {"DC1021"},
    "informaten.com.gameserver_generic.json": {"DC1031"},  # SRV service/protocol are variables
    "mailaura.io.email-sending.json": {"DC1025"},  # essential "No"
    "mailjet.com.domain-auth.json": {"DC1018"},  # http logoUrl
    "mailjet.com.domain-validation.json": {"DC1018"},
    "megapowerani.com.domain.verification.template.json": {"DC1022"},
    "microsoft.com.o365.json": {"DC1022"},
    "numserver.com.custodian-record.json": {"DC1018"},
    "numserver.com.delegate-num-zone.json": {"DC1018"},
    "palisade.email.managed-dmarc.json": {"DC1022"},
    "palisade.email.unmanaged-dmarc.json": {"DC1022"},
    "portfolio.adobe.com.stage.json": {"DC1021"},  # syncRedirectDomain www.pro2.dev0.be.lan
    "quickpanel.quickpanel-smm.json": {"DC1022"},
    "sendmarc.com.protection.json": {"DC1022"},
    "streetteam.fm.postmark-email.json": {"DC1022"},
    "tinkerhost.net.tinkermail.json": {"DC1025"},  # essential "onApply"
    "trustifi.com.dpoo.json": {"DC1022"},
}


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, list]:
    from tests.conftest import CORPUS_DIR

    if not CORPUS_DIR.is_dir():
        pytest.skip(f"the public template corpus is not at {CORPUS_DIR} (only beside a CI checkout)")
    start = time.perf_counter()
    results = lint_paths([CORPUS_DIR])
    elapsed = time.perf_counter() - start
    # The whole corpus lints in well under a second on a laptop; 5 s leaves room for slow CI machines.
    assert elapsed < 5, f"linting the corpus took {elapsed:.1f}s"
    return results


def test_every_corpus_file_is_linted(corpus_results, corpus_dir):
    assert len(corpus_results) == len(list(corpus_dir.glob("*.json"))) == 1154


def test_exact_set_of_templates_with_errors(corpus_results):
    errors = {
        Path(path).name: {f.code for f in findings if f.level == "error"}
        for path, findings in corpus_results.items()
        if any(f.level == "error" for f in findings)
    }
    assert errors == EXPECTED_ERRORS


def test_findings_are_well_formed(corpus_results):
    seen: Counter[str] = Counter()
    for path, findings in corpus_results.items():
        for f in findings:
            assert f.code in CODES and f.level == CODES[f.code][0]
            assert f.path == path
            seen[f.code] += 1
    # Oddities the corpus is known to contain are all reported.
    for code in ("DC1004", "DC2001", "DC2008", "DC2009", "DC3007", "DC3013"):
        assert seen[code] >= 1, code
    assert seen["DC2001"] == 27  # ids whose file name matches only after lower-casing
