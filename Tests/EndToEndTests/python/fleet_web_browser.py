"""Drives `bottle-supervise web --database` in two headless Chromiums
(Selenium), one per operator: both sign in with their one-time links, watch
a proposal from another host arrive live, filter by host, and race to decide
the same proposal.

    fleet_web_browser.py ALICE_LINK BOB_LINK PROPOSAL_PATH READY_FILE GO_FILE

Writes READY_FILE when both lists are open, then waits for GO_FILE (the
Swift side mirrors a new proposal of host "beta" and writes it). Prints one
JSON object for Tests/EndToEndTests/FleetWebBrowserTests.swift.
"""

from __future__ import annotations

import json
import os
import sys
import time

from selenium.webdriver.common.by import By

from browser_support import chromium, wait

alice_link, bob_link, proposal_path, ready_file, go_file = sys.argv[1:6]
base = alice_link.split("/login")[0]
out: dict = {}


def rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#proposals a.row")


def sign_in(driver, link: str) -> None:
    driver.get(link)
    button = wait(lambda: driver.find_elements(By.ID, "sign-in"))
    if button:
        button[0].click()
        wait(lambda: driver.current_url.rstrip("/") == base)


alice, bob = chromium(), chromium()
try:
    sign_in(alice, alice_link)
    sign_in(bob, bob_link)
    out["alice_signed_in"] = alice.find_element(By.ID, "signed-in-as").text if alice.find_elements(By.ID, "signed-in-as") else None
    out["bob_signed_in"] = bob.find_element(By.ID, "signed-in-as").text if bob.find_elements(By.ID, "signed-in-as") else None
    cookie = alice.get_cookie("bs_session") or {}
    out["cookie_http_only"] = cookie.get("httpOnly")
    out["cookie_same_site"] = cookie.get("sameSite")

    # A link works once: bob's browser opening alice's spent link signs nobody in.
    bob.get(alice_link)
    out["reused_link_text"] = bob.find_element(By.TAG_NAME, "main").text
    bob.get(base + "/")

    out["hosts_before"] = sorted({r.get_attribute("data-host") for r in rows(alice)})
    before_alice, before_bob = len(rows(alice)), len(rows(bob))
    with open(ready_file, "w") as ready:
        ready.write("ready\n")
    wait(lambda: os.path.exists(go_file), timeout=30)
    started = time.monotonic()
    arrived = wait(lambda: len(rows(alice)) > before_alice and len(rows(bob)) > before_bob, timeout=10)
    out["appeared_after_s"] = round(time.monotonic() - started, 3) if arrived else None
    out["hosts_after"] = sorted({r.get_attribute("data-host") for r in rows(alice)})

    # Filter by host (the selector lists the hosts known when the page loaded): only beta's rows.
    alice.get(base + "/")
    alice.find_element(By.CSS_SELECTOR, "#host option[value='beta']").click()
    alice.find_element(By.ID, "filter").click()
    wait(lambda: "host=beta" in alice.current_url)
    out["filtered_hosts"] = sorted({r.get_attribute("data-host") for r in rows(alice)})

    # The race: both open the same proposal, alice decides first. Bob's page follows the fleet (its
    # form goes, its status names the decision); the form he had, sent anyway, loses.
    alice.get(base + proposal_path)
    bob.get(base + proposal_path)
    bob.execute_script("window.staleForm = document.querySelector('section.decide form').cloneNode(true);")
    out["diff_has_addition"] = any("+pypi.org" in e.text for e in alice.find_elements(By.CSS_SELECTOR, "pre.diff .add"))
    alice.find_element(By.ID, "approve").click()
    message = wait(lambda: alice.find_elements(By.ID, "message"))
    out["alice_message"] = message[0].text if message else None
    out["bob_live_state"] = wait(lambda: bob.execute_script(
        "var e = document.getElementById('fleet-state');"
        " return e && e.getAttribute('data-open') === 'false' ? e.textContent : null;"), timeout=15)
    out["bob_form_gone"] = not bob.find_elements(By.CSS_SELECTOR, "section.decide")
    bob.execute_script(
        "document.querySelector('main').appendChild(window.staleForm); window.staleForm.querySelector('#approve').click();")
    message = wait(lambda: bob.find_elements(By.ID, "message"))
    out["bob_message"] = message[0].text if message else None
    out["bob_decision"] = bob.find_element(By.TAG_NAME, "main").text

    with open(ready_file, "w") as ready:
        ready.write("decided\n")
    # The Swift side removes bob; his next click is the sign-in page.
    wait(lambda: os.path.exists(go_file + ".removed"), timeout=30)
    bob.get(base + "/")
    out["bob_after_removal"] = bob.find_element(By.TAG_NAME, "main").text
finally:
    alice.quit()
    bob.quit()

print(json.dumps(out))
