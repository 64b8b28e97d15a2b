"""Just enough of the W3C WebDriver protocol to drive headless Chromium through chromedriver,
over urllib, so that the report's browser test needs no Selenium."""
import base64
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

CHROME_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1")


def find_browser():
    """(chromium, chromedriver) paths, or None when either is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriverError(RuntimeError):
    pass


class Chromium:
    """A headless Chromium session; use as a context manager so both processes end."""

    def __init__(self, chromium, driver, user_data_dir, window=(1280, 900), timeout=30.0):
        port = _free_port()
        self._base = f"http://127.0.0.1:{port}"
        self._driver = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        try:
            self._wait_ready(timeout)
            args = [*CHROME_ARGS, f"--user-data-dir={user_data_dir}",
                    f"--window-size={window[0]},{window[1]}"]
            capabilities = {"browserName": "chrome",
                            "goog:chromeOptions": {"binary": chromium, "args": args},
                            "goog:loggingPrefs": {"browser": "ALL"}}
            self.session = self._call("POST", "/session",
                                      {"capabilities": {"alwaysMatch": capabilities}})["sessionId"]
        except BaseException:
            self._driver.kill()
            self._driver.wait()
            raise

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._driver.poll() is not None:
                raise WebDriverError(f"chromedriver exited with {self._driver.returncode}")
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, WebDriverError):
                pass
            time.sleep(0.1)
        raise WebDriverError(f"chromedriver not ready after {timeout}s")

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as error:
            raise WebDriverError(f"{method} {path}: {error.read().decode(errors='replace')}")

    def _session_call(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, url):
        self._session_call("POST", "/url", {"url": url})

    def execute(self, script, *args):
        """Runs `script` (a function body: use `return`) in the page and returns its value."""
        return self._session_call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._session_call("GET", "/screenshot")))

    def console(self):
        """Browser log entries since the last call: [{level, message, ...}]."""
        return self._session_call("POST", "/se/log", {"type": "browser"})

    def close(self):
        try:
            self._session_call("DELETE", "")
        finally:
            self._driver.terminate()
            try:
                self._driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
                self._driver.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
