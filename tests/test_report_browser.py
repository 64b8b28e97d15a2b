"""End to end: train tiny runs, `evaluate.py --report`, and open the page in headless Chromium."""
import json
import os
import re
import subprocess
import sys

import pytest

from mlclf import task, training

sys.path.insert(0, os.path.dirname(__file__))
import webdriver  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BROWSER = webdriver.find_browser()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="chromium and chromedriver are not installed "
    "(apt-get install chromium chromium-driver; .ci/run installs them)")


@pytest.fixture(scope="module", params=["mhan_att", "cnn"])
def evaluated(request, tiny_corpus, tiny_data_dir, tmp_path_factory):
    """(report dir, predictions path) of a tiny trained run of the given model."""
    tmp = tmp_path_factory.mktemp(request.param)
    config = task.ExperimentConfig(
        model=request.param, dataset="jsonl", langs=("en", "fr"), manual_dir=tiny_corpus,
        data_dir=tiny_data_dir, embed_dim=16, hidden=16, num_filters=8, num_sampled=1,
        max_sentences=4, max_words=8, wide_buckets=1 << 14, batch_size=8, epochs=1,
        steps_per_epoch=4, learning_rate=0.01, seed=3,
        label_space="shared" if request.param == "cnn" else "per_language")
    training.train(config, str(tmp / "run"), verbose=0)
    predictions = tmp / "predictions.jsonl"
    subprocess.run([sys.executable, "evaluate.py", f"--run_dir={tmp / 'run'}", "--split=test",
                    f"--predictions={predictions}", f"--report={tmp / 'report'}",
                    "--report_max_docs=20"], cwd=REPO, check=True, capture_output=True)
    return tmp / "report", predictions


def _embedded(report_dir):
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    return json.loads(re.search(r'id="report-data">(.*?)</script>', page, re.S).group(1))


def test_report_embeds_the_same_records_as_the_predictions(evaluated):
    report_dir, predictions = evaluated
    data = _embedded(report_dir)
    records = {r["id"]: r for r in map(json.loads, predictions.read_text().splitlines())}
    assert [s["lang"] for s in data["languages"]] == ["en", "fr"]
    en, fr = data["languages"]
    assert (en["num_docs"], len(en["documents"]), fr["num_docs"], len(fr["documents"])) == \
        (24, 20, 16, 16)
    assert "en 4 of 24" in data["truncation"]
    for doc in en["documents"] + fr["documents"]:
        assert {k: v for k, v in doc.items() if k != "correct"} == records[doc["id"]]
    assert len(en["map"]["x"]) == 20


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if BROWSER is None:
        pytest.skip(needs_browser.kwargs["reason"])
    with webdriver.Chromium(*BROWSER, tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


def _severe(chromium):
    return [entry for entry in chromium.console() if entry["level"] == "SEVERE"]


def _visible_docs(chromium):
    return chromium.execute("return [...document.querySelectorAll('#docs article')]"
                            ".map(a => [a.dataset.lang, a.classList.contains('wrong')]);")


def _choose(chromium, select_id, value):
    chromium.execute("const s = document.getElementById(arguments[0]); s.value = arguments[1];"
                     "s.dispatchEvent(new Event('input'));", select_id, value)


SHADED_WORDS = ("return [...document.querySelectorAll('#docs .w')].filter(w => "
                "!/rgba\\(.*, 0\\)$/.test(getComputedStyle(w).backgroundColor)).length;")


@needs_browser
def test_report_page_in_chromium(evaluated, browser, tmp_path):
    report_dir, _ = evaluated
    browser.open((report_dir / "index.html").as_uri())
    assert _severe(browser) == []
    assert browser.execute("return document.querySelectorAll('#metrics tbody tr').length;") == 2
    assert browser.execute("return document.querySelectorAll('.map circle').length;") == 36
    note = browser.execute("return document.getElementById('truncation').textContent;")
    assert "en 4 of 24" in note
    assert len(_visible_docs(browser)) == 36

    _choose(browser, "f-lang", "fr")
    assert {lang for lang, _ in _visible_docs(browser)} == {"fr"}
    assert len(_visible_docs(browser)) == 16
    _choose(browser, "f-outcome", "wrong")
    assert all(wrong for _, wrong in _visible_docs(browser))
    _choose(browser, "f-outcome", "")
    _choose(browser, "f-lang", "")

    # Sorting: clicking the micro-F1 header orders the rows by it, descending first.
    values = browser.execute(
        "const th = [...document.querySelectorAll('#metrics th')].find(h => h.textContent "
        "=== 'micro-F1'); th.click(); const i = [...th.parentNode.children].indexOf(th);"
        "return [...document.querySelectorAll('#metrics tbody tr')].map(r => "
        "Number(r.children[i].textContent));")
    assert values == sorted(values, reverse=True)

    shaded = browser.execute(SHADED_WORDS)
    if "cnn" in str(report_dir):
        assert shaded == 0
        assert browser.execute("return document.querySelectorAll('#docs .w').length;") == 0
    else:
        assert shaded > 0
    browser.screenshot(tmp_path / "report.png")
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _severe(browser) == []


@needs_browser
def test_injected_markup_stays_text(browser, tmp_path):
    from test_report import INJECTION, _report
    from mlclf import report

    page = tmp_path / "index.html"
    page.write_text(report.render(_report()), encoding="utf-8")
    browser.open(page.as_uri())  # an alert would fail every later command
    assert browser.execute("return document.querySelectorAll('script').length;") == 2
    assert browser.execute("return [...document.querySelectorAll('#docs article header')]"
                           ".some(h => h.textContent.includes(arguments[0]));", INJECTION)
    directions = browser.execute(
        "return ['eng-1', 'arb_Arab-1'].map(id => "
        "document.querySelector(`article[data-id='${id}'] .sent`).matches(':dir(rtl)'));")
    assert directions == [False, True]
    assert _severe(browser) == []
