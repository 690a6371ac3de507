"""Drives `bottle-supervise web` in headless Chromium (Selenium), with the
agent's side played by the official MCP Python SDK against a real sidecar.

    web_console_browser.py LOGIN_URL SIDECAR_URL QUEUE_DIR SCREENSHOT_DIR

Prints one JSON object: every measurement and outcome, for
Tests/EndToEndTests/WebConsoleBrowserTests.swift to assert on.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from mcp import Client
from selenium.webdriver.common.by import By

from browser_support import chromium, wait

login_url, sidecar_url, queue_dir, shots = sys.argv[1:5]
base = login_url.split("/login")[0]
out: dict = {}

XSS = '<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2"> pypi for pip'


class AgentCall(threading.Thread):
    """One held tools/call, as an agent makes it."""

    def __init__(self, allowlist: str, justification: str):
        super().__init__(daemon=True)
        self.allowlist, self.justification, self.result = allowlist, justification, None

    def run(self):
        async def call():
            async with Client(sidecar_url, mode="legacy") as client:
                result = await client.call_tool(
                    "pipelock-block", {"allowlist": self.allowlist, "justification": self.justification})
                self.result = {"structured": result.structured_content,
                               "text": "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")}
        try:
            asyncio.run(call())
        except Exception as error:  # reported, asserted on by the Swift side
            self.result = {"error": repr(error)}


def pending_files() -> set[str]:
    return {n for n in os.listdir(queue_dir) if n.endswith(".proposal.json")} if os.path.isdir(queue_dir) else set()


def http(method: str, path: str, headers: dict | None = None, body: bytes | None = None) -> int:
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def new_proposal(call: AgentCall) -> tuple[str, float]:
    """Starts `call`; returns the proposal id and when its file appeared."""
    before = pending_files()
    call.start()
    name = wait(lambda: next(iter(pending_files() - before), None), timeout=15)
    return name.split(".")[0], time.monotonic()


driver = chromium()
try:
    # Log in with the one-time URL; it lands on the list.
    driver.get(login_url)
    out["after_login_path"] = urllib.parse.urlparse(driver.current_url).path
    cookie = next((c for c in driver.get_cookies() if c["name"] == "bs_session"), {})
    out["cookie_http_only"] = cookie.get("httpOnly")
    out["cookie_same_site"] = cookie.get("sameSite")
    out["reused_login_status"] = http("GET", "/login?" + urllib.parse.urlparse(login_url).query)
    out["no_cookie_status"] = http("GET", "/")
    out["foreign_host_status"] = http("GET", "/", {"Host": "evil.example"})

    # A proposal queued by the agent appears without a reload.
    first = AgentCall("api.github.com\npypi.org\n", XSS)
    first_id, queued_at = new_proposal(first)
    seen = wait(lambda: driver.find_elements(By.CSS_SELECTOR, f'a.row[data-id="{first_id}"]'), timeout=10, step=0.01)
    out["appeared_after_s"] = round(time.monotonic() - queued_at, 3) if seen else None
    driver.save_screenshot(os.path.join(shots, "web-console-list.png"))

    # The proposal page: agent text inert.
    driver.get(f"{base}/proposals/{first_id}")
    out["pwned"] = driver.execute_script("return window.pwned === undefined ? null : window.pwned")
    out["justification_text"] = driver.find_element(By.ID, "justification").text
    out["script_elements"] = len(driver.find_elements(By.CSS_SELECTOR, "main script"))
    out["img_elements"] = len(driver.find_elements(By.CSS_SELECTOR, "main img"))
    driver.save_screenshot(os.path.join(shots, "web-console-proposal.png"))

    # Forged posts with the real cookie: no CSRF token, a foreign Origin.
    session = {"Cookie": f"bs_session={cookie.get('value', '')}", "Content-Type": "application/x-www-form-urlencoded"}
    reviewed = driver.find_element(By.CSS_SELECTOR, 'input[name="reviewed"]').get_attribute("value")
    forged = f"action=approve&reviewed={reviewed}".encode()
    out["no_csrf_status"] = http("POST", f"/proposals/{first_id}/decide", session, forged)
    out["foreign_origin_status"] = http(
        "POST", f"/proposals/{first_id}/decide", {**session, "Origin": "http://evil.example"}, forged)
    out["decided_by_forgery"] = os.path.exists(os.path.join(queue_dir, f"{first_id}.decision.json"))

    # A phone's width: nothing scrolls sideways, approve is on screen.
    driver.set_window_size(390, 844)
    driver.get(f"{base}/proposals/{first_id}")
    out["phone_scroll_width"] = driver.execute_script("return document.documentElement.scrollWidth")
    out["phone_inner_width"] = driver.execute_script("return window.innerWidth")
    out["phone_approve_right"] = driver.execute_script(
        "return document.getElementById('approve').getBoundingClientRect().right")
    driver.save_screenshot(os.path.join(shots, "web-console-phone.png"))
    driver.set_window_size(1280, 900)

    # Approve reaches the waiting agent.
    driver.get(f"{base}/proposals/{first_id}")
    driver.find_element(By.ID, "approve").click()
    shown = wait(lambda: driver.find_elements(By.ID, "message"), 10)
    out["approve_message"] = shown[0].text if shown else None
    if not shown:  # what the page said instead, for the failure message
        out["approve_page"] = driver.find_element(By.TAG_NAME, "body").text[:600]
    first.join(30)
    out["approve_agent"] = first.result

    # Reject with notes reaches the agent.
    second = AgentCall("api.github.com\nregistry.npmjs.org\n", "npm install")
    second_id, _ = new_proposal(second)
    driver.get(f"{base}/proposals/{second_id}")
    driver.find_element(By.ID, "notes").send_keys("use the internal mirror")
    driver.find_element(By.ID, "reject").click()
    wait(lambda: driver.find_elements(By.ID, "message"), 10)
    second.join(30)
    out["reject_agent"] = second.result

    # Modify: the operator's version reaches the agent.
    third = AgentCall("api.github.com\n*.example.com\n", "examples")
    third_id, _ = new_proposal(third)
    driver.get(f"{base}/proposals/{third_id}")
    driver.find_element(By.CSS_SELECTOR, "#modify-panel summary").click()
    editor = driver.find_element(By.ID, "final_file")
    editor.clear()
    editor.send_keys("api.github.com\ndocs.example.com\n")
    driver.find_element(By.ID, "modify").click()
    wait(lambda: driver.find_elements(By.ID, "message"), 10)
    third.join(30)
    out["modify_agent"] = third.result
finally:
    driver.quit()
print(json.dumps(out), flush=True)
