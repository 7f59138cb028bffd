"""Headless Chromium from the system packages, driven by selenium (an optional, test-time dependency).

Used by the browser test of the HYPE∞ page and by ``scripts/human_demo.py`` for its screenshots. Nothing is
downloaded: the browser and chromedriver come from the system (Debian: ``apt-get install chromium
chromium-driver``) and the driver's path is given to selenium.
"""

from __future__ import annotations

import shutil

from ..errors import MissingAsset

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def headless_chrome(width: int = 760, height: int = 900, *, screenshots: bool = False):
    """A headless Chromium window of ``width`` x ``height``; ``screenshots`` hides scrollbars at scale 1.

    Raises ``MissingAsset`` when no browser or chromedriver is on PATH.
    """
    binary = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        raise MissingAsset("no Chromium and chromedriver on PATH; install them (Debian: apt-get install chromium "
                           "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--window-size={width},{height}", "--disable-extensions", "--no-first-run"]
    if screenshots:
        args += ["--hide-scrollbars", "--force-device-scale-factor=1"]
    for arg in args:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
