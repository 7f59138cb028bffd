"""A real browser, end to end: headless Chromium (the system's, driven by selenium) takes the whole study.

It opens the page (which tells it that half of the images are real), takes the tutorial (with its feedback),
passes the qualification (no feedback), answers every study image with keys and buttons, reloads half way
(resume), reaches the thank-you page; the stored answers and the computed score must equal what it clicked. It skips only when no Chromium and chromedriver are installed (Debian: ``apt-get install
chromium chromium-driver``, which ``make test`` does as root).
"""

import dataclasses

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from ganbench.errors import MissingAsset
from ganbench.human.browser import headless_chrome
from ganbench.human.score import score
from ganbench.metrics.hype_time import Staircase

from .conftest import SMALL, make_study, serving, truth_of

def chrome(width: int = 760, height: int = 900):
    """Headless Chromium from the system packages; the test skips where there is none."""
    try:
        return headless_chrome(width, height)
    except MissingAsset as e:
        pytest.skip(str(e))


@pytest.fixture
def browser():
    driver = chrome()
    yield driver
    driver.quit()


def _image_ready(driver):
    """The id of the image on screen once it is drawn and the buttons are on, else False."""
    ok = driver.execute_script("const i = document.getElementById('image'); "
                               "return !document.getElementById('trial').hidden && i.complete && i.naturalWidth > 0 "
                               "&& !document.getElementById('real').disabled ? i.dataset.id : null;")
    return ok or False


def _visible(driver, section):
    return driver.execute_script(f"return !document.getElementById('{section}').hidden;")


def test_a_browser_takes_the_whole_study(server, study, browser):
    srv, _ = server
    wait = WebDriverWait(browser, 20)
    browser.get(srv.url)
    start = wait.until(EC.element_to_be_clickable((By.ID, "start")))
    intro = browser.find_element(By.ID, "intro").text
    assert "Half of the images are real" in intro and "qualification test of 4 images" in intro
    assert "65% of its real images and 65% of its fake images right" in intro
    start.click()
    clicked = []
    # tutorial: answer right, alternating keys and buttons, and read the feedback
    for k in range(SMALL.tutorial):
        image = wait.until(_image_ready)
        truth = truth_of(study, image)
        if k % 2:
            browser.find_element(By.TAG_NAME, "body").send_keys(truth[0])  # R or F
        else:
            browser.find_element(By.ID, truth).click()
        feedback = wait.until(lambda d: d.find_element(By.ID, "feedback").text.strip() or False)
        assert feedback == f"Right: this image is {truth}."
        clicked.append((image, truth))
        if k % 2:
            browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)
        else:
            browser.find_element(By.ID, "next").click()
    wait.until(lambda d: _visible(d, "between"))
    assert browser.find_element(By.ID, "between-text").text.startswith("End of the tutorial. Now the qualification")
    browser.find_element(By.ID, "begin").click()
    # qualification: answered right, no feedback
    for k in range(SMALL.qualification):
        image = wait.until(_image_ready)
        assert browser.find_element(By.ID, "counter").text == f"Qualification: image {k + 1} of {SMALL.qualification}"
        truth = truth_of(study, image)
        browser.find_element(By.ID, truth).click()
        clicked.append((image, truth))
        assert not browser.find_element(By.ID, "feedback").text.strip()
        wait.until(lambda d, image=image: _visible(d, "between") or (_image_ready(d) not in (False, image)))
    wait.until(lambda d: _visible(d, "between"))
    assert browser.find_element(By.ID, "between-text").text.startswith("You passed the qualification. Now the study")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)
    # study: a known pattern of mistakes (every third image judged wrong), keys and buttons, a reload half way
    for j in range(SMALL.images):
        if j == SMALL.images // 2:
            browser.refresh()  # resume: the page picks up where the evaluator was
        image = wait.until(_image_ready)
        assert browser.find_element(By.ID, "counter").text == f"Image {j + 1} of {SMALL.images}"
        truth = truth_of(study, image)
        value = truth if j % 3 else ("real" if truth == "fake" else "fake")
        if j % 2:
            browser.find_element(By.TAG_NAME, "body").send_keys(value[0].upper())
        else:
            browser.find_element(By.ID, value).click()
        clicked.append((image, value))
        assert not browser.find_element(By.ID, "feedback").text.strip()  # no feedback in the study
        wait.until(lambda d, image=image: _visible(d, "done") or (_image_ready(d) not in (False, image)))
    wait.until(lambda d: _visible(d, "done"))
    own = browser.find_element(By.ID, "own-score").text
    first = SMALL.tutorial + SMALL.qualification
    wrong = [(image, value) for image, value in clicked[first:] if value != truth_of(study, image)]
    assert f"You judged {SMALL.images - len(wrong)} of {SMALL.images} images right" in own
    assert browser.find_element(By.ID, "bar").get_attribute("style").replace(" ", "") == "width:100%;"
    # the store holds exactly what was clicked, and the score is the hand count of it
    with study.ref.store.read() as con:
        stored = [(r[0], r[1]) for r in con.execute("SELECT image_id, answer FROM human_answers ORDER BY position")]
        model = con.execute("SELECT model FROM human_sessions").fetchone()[0]
    assert stored == clicked
    result = next(r for r in score(study.ref, SMALL, write=False) if r["model"] == model)
    fakes = [(i, v) for i, v in clicked[first:] if truth_of(study, i) == "fake"]
    reals = [(i, v) for i, v in clicked[first:] if truth_of(study, i) == "real"]
    assert result["evaluators"] == 1 and result["answers"] == SMALL.images
    assert result["hype_inf"] == pytest.approx(len(wrong) / SMALL.images)
    assert result["hype_fakes"] == pytest.approx(sum(v == "real" for _, v in fakes) / len(fakes))
    assert result["hype_reals"] == pytest.approx(sum(v == "fake" for _, v in reals) / len(reals))


def test_a_browser_failing_the_qualification_is_thanked(server, study, browser):
    """Every qualification image called real: the fakes are 0 of 2 right, below 65%; the page thanks and stops."""
    srv, _ = server
    wait = WebDriverWait(browser, 20)
    browser.get(srv.url)
    wait.until(EC.element_to_be_clickable((By.ID, "start"))).click()
    for _ in range(SMALL.tutorial):
        wait.until(_image_ready)
        browser.find_element(By.ID, "real").click()
        wait.until(EC.element_to_be_clickable((By.ID, "next"))).click()
    wait.until(lambda d: _visible(d, "between"))
    browser.find_element(By.ID, "begin").click()
    for _ in range(SMALL.qualification):
        image = wait.until(_image_ready)
        browser.find_element(By.ID, "real").click()
        wait.until(lambda d, image=image: _visible(d, "failed") or (_image_ready(d) not in (False, image)))
    wait.until(lambda d: _visible(d, "failed"))
    assert browser.find_element(By.ID, "gate-score").text == (
        "In the qualification you got 2 of 2 real images and 0 of 2 generated images right; the study needs 65% of "
        "each, so it ends here.")
    with study.ref.store.read() as con:
        assert con.execute("SELECT state FROM human_sessions").fetchone()[0] == "failed"


#: HYPE_time in the browser: no tutorial, the qualification, then 10 timed study images (shorter fixation than the
#: default so the test is quick; the exposures are the staircase's, from 200 ms down by 50).
TIMED = dataclasses.replace(SMALL, variant="time", tutorial=0, tutorial_pool=0, start_ms=200.0, step_ms=50.0,
                            fixation_ms=100.0)


def test_a_browser_takes_a_hype_time_study_on_animation_frames(tiny_run, browser):
    """The page shows each study image for the staircase's exposure on animation frames, then a mask, and sends the
    exposure it measured; the stored exposures lie within one frame of their targets (or are counted as dropped),
    and the targets follow the staircase's moves on the stored answers."""
    study = make_study(tiny_run[0], TIMED)
    with serving(study) as (srv, _):
        wait = WebDriverWait(browser, 30)
        browser.get(srv.url)
        wait.until(EC.element_to_be_clickable((By.ID, "start")))
        assert "appears only briefly" in browser.find_element(By.ID, "intro").text
        browser.find_element(By.ID, "start").click()
        for _ in range(TIMED.qualification):  # untimed: the image stays on screen
            image = wait.until(_image_ready)
            assert browser.execute_script("return getComputedStyle(document.getElementById('image')).visibility")\
                == "visible"
            browser.find_element(By.ID, truth_of(study, image)).click()
            wait.until(lambda d, image=image: _visible(d, "between") or (_image_ready(d) not in (False, image)))
        wait.until(lambda d: _visible(d, "between"))
        assert "keep your eyes on the cross" in browser.find_element(By.ID, "between-text").text
        browser.find_element(By.ID, "begin").click()
        for j in range(TIMED.images):  # right, right, right, wrong, ...: the staircase moves both ways
            image = wait.until(_image_ready)
            hidden = browser.execute_script(
                "return [getComputedStyle(document.getElementById('image')).visibility, "
                "document.getElementById('mask').hidden, document.getElementById('fixation').hidden];")
            assert hidden == ["hidden", True, True]  # answered after the mask, with the image gone
            truth = truth_of(study, image)
            browser.find_element(By.ID, truth if j % 4 != 3 else ("real" if truth == "fake" else "fake")).click()
            wait.until(lambda d, image=image: _visible(d, "done") or (_image_ready(d) not in (False, image)))
        wait.until(lambda d: _visible(d, "done"))
        with study.ref.store.read() as con:
            rows = [dict(r) for r in con.execute(
                "SELECT truth, answer, target_ms, exposure_ms, frame_ms, valid FROM human_answers "
                "WHERE role = 'study' ORDER BY position")]
    study.close()
    assert len(rows) == TIMED.images
    frame = rows[0]["frame_ms"]
    assert 2 <= frame <= 100 and all(r["frame_ms"] == frame for r in rows)
    for r in rows:  # kept when within one frame of its target, dropped otherwise
        assert r["valid"] == (abs(r["exposure_ms"] - r["target_ms"]) <= frame)
    assert sum(r["valid"] for r in rows) >= TIMED.images // 2, rows  # a loaded machine may miss a few frames
    outcomes = [None if not r["valid"] else r["truth"] == r["answer"] for r in rows]
    assert [r["target_ms"] for r in rows] == Staircase(start_ms=200, step_ms=50).targets(outcomes)[:-1]
    assert len({r["target_ms"] for r in rows}) > 1  # it moved
