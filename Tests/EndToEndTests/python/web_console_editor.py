"""The web console's editor in headless Chromium: Modify without a change
must approve exactly the bytes the page showed, whatever the file starts or
ends with; a file a browser cannot hold is not offered; a NUL is refused.

    web_console_editor.py LOGIN_URL SHOTS ID [ID...] -- NUL_FILE_ID

For each ID: opens its page, opens the editor, clicks "Approve this version"
without a change, and records the message. For the first ID it also sends a
version with a NUL in it (set through the editor's value, as a script
could) before that. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys

from selenium.webdriver.common.by import By

from browser_support import chromium, wait

login_url, shots = sys.argv[1:3]
rest = sys.argv[3:]
ids, uneditable_id = rest[: rest.index("--")], rest[rest.index("--") + 1]
base = login_url.split("/login")[0]
out: dict = {"editor_value": {}, "message": {}}


def message() -> str | None:
    shown = wait(lambda: driver.find_elements(By.ID, "message"), 10)
    return shown[0].text if shown else driver.find_element(By.TAG_NAME, "body").text[:600]


driver = chromium()
try:
    driver.get(login_url)
    for index, proposal in enumerate(ids):
        if index == 0:
            driver.get(f"{base}/proposals/{proposal}")
            driver.find_element(By.CSS_SELECTOR, "#modify-panel summary").click()
            driver.execute_script(
                "const e = document.getElementById('final_file'); e.value = e.value + 'x\\u0000y\\n';")
            driver.find_element(By.ID, "modify").click()
            out["nul_message"] = message()
        driver.get(f"{base}/proposals/{proposal}")
        driver.find_element(By.CSS_SELECTOR, "#modify-panel summary").click()
        # What the page's editor holds (the DOM's value: line breaks as LF).
        out["editor_value"][proposal] = driver.execute_script("return document.getElementById('final_file').value")
        driver.find_element(By.ID, "modify").click()
        out["message"][proposal] = message()
    driver.get(f"{base}/proposals/{uneditable_id}")
    out["uneditable_editors"] = len(driver.find_elements(By.ID, "final_file"))
    notes = driver.find_elements(By.ID, "uneditable")
    out["uneditable_text"] = notes[0].text if notes else None
    driver.save_screenshot(os.path.join(shots, "web-console-uneditable.png"))
finally:
    driver.quit()
print(json.dumps(out), flush=True)
