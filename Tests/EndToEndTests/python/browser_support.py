"""What the web console's browser tests share: headless Chromium through
Selenium (the binaries from $CHROMIUM and $CHROMEDRIVER, as the Swift side
finds them), and a bounded wait on a condition.

Imported by web_console_browser.py and web_console_editor.py, which Python
runs by path, so this directory is on their import path.
"""

from __future__ import annotations

import os
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def chromium() -> webdriver.Chrome:
    """A headless Chromium at 1280x900 whose page loads give up after 20 s."""
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(20)
    return driver


def wait(condition, timeout: float = 10.0, step: float = 0.02):
    """`condition()`'s first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()
