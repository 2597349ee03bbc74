"""The local page (shapesmith.web): its JSON endpoints over HTTP, and the page itself driven in Debian's headless
Chromium (Selenium with /usr/bin/chromedriver; no browser download). Expected shapes come from torch.

The browser tests skip, saying why, only where /usr/bin/chromium is absent (`scripts/browser_setup.sh`
installs it)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest
import torch

from shapesmith import ShapesmithError
from shapesmith.render.svg import draw
from shapesmith.web import serve
from shapesmith.web.app import MAX_BODY, MAX_LAYERS, make_server

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def torch_shape(text: str, shape: tuple[int, ...]) -> str:
    """The output shape torch gives, written as the page writes it."""
    module = eval(text, {"nn": torch.nn})  # noqa: S307 (test oracle: our own texts)
    with torch.no_grad():
        out = tuple(module(torch.zeros(shape)).shape)
    return "(" + ", ".join(map(str, out)) + ")"


# ----------------------------------------------------------------------------- the server
@pytest.fixture(scope="module")
def url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server(port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def call(url: str, path: str, payload=None, *, data: bytes | None = None, headers: dict | None = None,
         method: str = "POST") -> tuple[int, dict | str]:
    raw = data if data is not None else json.dumps(payload).encode()
    request = urllib.request.Request(url + path, data=raw if method == "POST" else None, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


# ----------------------------------------------------------------------------- API
def test_trace_endpoint_gives_torch_shape(url):
    text = "nn.Conv2d(3, 8, 5, stride=2, padding=1)"
    status, t = call(url, "/api/trace", {"code": text, "input": "(1, 3, 32, 32)"})
    assert status == 200
    assert "(" + ", ".join(map(str, t["output_shape"])) + ")" == torch_shape(text, (1, 3, 32, 32))
    assert {c["param"] for c in t["controls"]} == {"kernel_size", "stride", "padding", "dilation"}
    assert t["layers"][0]["derivation"][0]["rule"] == "windows"


def test_set_endpoint_rewrites_the_argument(url):
    text = "nn.ConvTranspose2d(16, 1, (3, 5), stride=2)"
    for param, index, value in [("stride", None, 3), ("kernel_size", 1, 2), ("output_padding", None, 1),
                                ("dilation", None, 2), ("padding", None, 1)]:
        status, answer = call(url, "/api/set", {"code": text, "param": param, "index": index, "value": value})
        assert status == 200, answer
        text = answer["code"]
    assert text == "nn.ConvTranspose2d(16, 1, (3, 2), stride=3, output_padding=1, dilation=2, padding=1)"
    status, t = call(url, "/api/trace", {"code": text, "input": "(1, 16, 5, 6)"})
    assert "(" + ", ".join(map(str, t["output_shape"])) + ")" == torch_shape(text, (1, 16, 5, 6))
    assert [len(axis["sizes"]) for axis in t["sizes"]] == [3, 3]  # stride 3: three sizes map back
    onnx = "Conv(kernel_shape=[3, 3], pads=[0, 1, 1, 0])"
    status, t = call(url, "/api/trace", {"code": onnx, "input": "(1, 2, 6, 6)"})
    pads = [c for c in t["controls"] if c["param"] == "pads"]
    status, answer = call(url, "/api/set", {"code": "Conv(kernel_shape=[3, 3], pads=[0, 1, 1, 0])", "param": "pads",
                                            "index": 2, "value": 2})
    assert len(pads) == 4 and answer["code"] == "Conv(kernel_shape=[3, 3], pads=[0, 1, 2, 0])"
    status, answer = call(url, "/api/set", {"code": "Conv(kernel_shape=[3, 3])", "param": "strides", "index": 1,
                                            "value": 2})
    assert answer["code"] == "Conv(kernel_shape=[3, 3], strides=[1, 2])"
    status, answer = call(url, "/api/set", {"code": 'Conv2D(8, 3, padding="valid")', "param": "padding",
                                            "value": "same"})
    assert answer["code"] == "Conv2D(8, 3, padding='same')"


def test_draw_endpoint(url):
    status, picture = call(url, "/api/draw", {"code": "nn.MaxPool1d(3, 2)", "input": "(1, 2, 9)", "position": "2"})
    assert status == 200 and picture["kind"] == "window" and picture["svg"].startswith("<svg")
    assert picture["svg"] == draw("nn.MaxPool1d(3, 2)", "(1, 2, 9)", position=2).svg


def test_solve_endpoint_answers_reach_the_target(url):
    text, shape = "nn.Conv2d(3, 8, 3)", (1, 3, 32, 32)
    status, s = call(url, "/api/solve", {"code": text, "input": str(shape), "output": "(1, 8, 16, 16)",
                                         "search": ["stride", "padding"]})
    assert status == 200 and s["solutions"]
    for solution in s["solutions"]:
        assert torch_shape(solution["layer"], shape) == "(1, 8, 16, 16)"


@pytest.mark.parametrize("path, payload, status, message", [
    ("/api/trace", {"code": "nn.Conv2d(3, 8,", "input": "(1, 3, 8, 8)"}, 422, "cannot read"),
    ("/api/trace", {"code": "nn.Conv2d(3, 8, 3)", "input": "(1, 3, 1000000000, 8)"}, 422, "larger than the page"),
    ("/api/trace", {"code": "\n".join(["nn.ReLU()"] * (MAX_LAYERS + 1)), "input": "(1, 4)"}, 422, "layers"),
    ("/api/trace", {"code": "__import__('os').system('echo hi')", "input": "(1, 4)"}, 422, ""),
    ("/api/trace", {"code": "nn.Conv2d(3, 8, 3)", "input": "(1, 3, 8, 8)", "framework": "caffe"}, 422, "framework"),
    ("/api/trace", {"input": "(1, 3, 8, 8)"}, 422, "no code"),
    ("/api/trace", ["a list"], 400, "JSON object"),
    ("/api/draw", {"code": "nn.Conv2d(3, 8, 3)", "input": "(1, 3, h, 8)"}, 422, "concrete"),
    ("/api/draw", {"code": "nn.Conv2d(3, 8, 3)", "input": "(1, 3, 8, 8)", "position": "9,9"}, 422, "outside"),
    ("/api/solve", {"code": "nn.Conv2d(3, 8, 3)", "input": "(1, 3, 8, 8)", "output": "(1, 8, 4, 4)"}, 422,
     "no unknowns"),
    ("/api/set", {"code": "nn.Conv2d(3, 8, 3)", "param": "bias", "value": 1}, 422, "not an argument"),
    ("/api/set", {"code": "nn.Conv2d(3, 8, 3)", "param": "stride", "value": 10**9}, 422, "between 0"),
    ("/api/set", {"code": "nn.Conv2d(3, 8, 3)", "param": "stride", "value": "3) + os.system('x'"}, 422, ""),
])
def test_bad_requests_are_4xx_with_a_message(url, path, payload, status, message):
    got, answer = call(url, path, payload)
    assert got == status and message in answer["error"]


def send_partly(url: str, headers: dict, body: bytes) -> int:
    """Send the headers and ``body`` (the start of a huge request), then read the status the server answers."""
    host, port = urllib.parse.urlparse(url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/api/trace")
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders()
    connection.send(body)
    status = connection.getresponse().status
    connection.close()
    return status


def test_transport_limits(url):
    huge = json.dumps({"code": "\n".join(["nn.ReLU()"] * 10**6), "input": "(1, 4)"}).encode()  # a 10^6-layer stack
    assert len(huge) > 100 * MAX_BODY
    declared = {"Content-Type": "application/json", "Content-Length": str(len(huge))}
    assert send_partly(url, declared, huge[:4096]) == 413
    chunk = huge[:MAX_BODY + 1024]
    chunked = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    assert send_partly(url, chunked, b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)) == 413
    assert call(url, "/api/trace", data=b"{not json")[0] == 400
    assert call(url, "/api/trace", data=b"{}", headers={"Content-Type": "text/plain"})[0] == 415
    assert call(url, "/api/trace", method="GET")[0] == 405
    assert call(url, "/", method="GET", headers={"Host": "attacker.example"})[0] == 400  # DNS rebinding
    assert call(url, "/api/nothing", {})[0] == 404


def test_concurrent_requests_are_answered(url):
    payload = {"code": "nn.ConvTranspose2d(1, 1, ?, stride=?, padding=?)", "input": "(1, 1, 20, 20)",
               "output": "(1, 1, 40, 40)"}
    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(lambda _: call(url, "/api/solve", payload)[0], range(48)))
    assert set(statuses) <= {200, 503} and 200 in statuses
    status, page = call(url, "/", method="GET")
    assert status == 200 and "<textarea" in page


def test_serve_refuses_other_hosts_and_a_busy_port(url):
    with pytest.raises(ShapesmithError, match="this machine only"):
        serve(port=8000, host="0.0.0.0")
    with pytest.raises(ShapesmithError, match="in use"):
        serve(port=int(url.rsplit(":", 1)[1]))


def test_web_framework_loads_only_when_served():
    code = ("import sys, shapesmith, shapesmith.web, shapesmith.render.svg; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'anyio', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ----------------------------------------------------------------------------- the page in headless Chromium
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: run scripts/browser_setup.sh (Debian's chromium and chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def wait(driver, predicate, timeout: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: predicate(d))


def by_id(driver, name: str):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, name)


def type_into(driver, name: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys
    box = by_id(driver, name)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)


def shown_shape(driver) -> str:
    return by_id(driver, "output-shape").text


def test_type_a_layer_and_read_the_shape(url, browser):
    browser.get(url + "/")
    wait(browser, lambda d: shown_shape(d))  # the example
    text = "nn.Conv2d(3, 16, 5, stride=2, padding=2, dilation=2)"
    type_into(browser, "layer", text)
    type_into(browser, "input", "(1, 3, 40, 30)")
    expected = torch_shape(text, (1, 3, 40, 30))
    wait(browser, lambda d: shown_shape(d) == expected)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(browser.current_url).query)
    assert query["layer"] == [text] and query["input"] == ["(1, 3, 40, 30)"]  # the state is in the URL
    assert browser.find_elements("css selector", "#picture svg.window")


def test_move_a_slider(url, browser):
    from selenium.webdriver.common.keys import Keys

    text = "nn.Conv1d(4, 4, 3, stride=1)"
    browser.get(url + "/?" + urllib.parse.urlencode({"layer": text, "input": "(1, 4, 50)"}))
    wait(browser, lambda d: shown_shape(d) == torch_shape(text, (1, 4, 50)))
    slider = by_id(browser, "ctl-stride")
    slider.send_keys(Keys.RIGHT, Keys.RIGHT)
    moved = "nn.Conv1d(4, 4, 3, stride=3)"
    wait(browser, lambda d: by_id(d, "layer").get_attribute("value") == moved)
    wait(browser, lambda d: shown_shape(d) == torch_shape(moved, (1, 4, 50)))
    by_id(browser, "ctl-padding").send_keys(Keys.RIGHT)  # an argument the text did not have
    padded = "nn.Conv1d(4, 4, 3, stride=3, padding=1)"
    wait(browser, lambda d: by_id(d, "layer").get_attribute("value") == padded)
    wait(browser, lambda d: shown_shape(d) == torch_shape(padded, (1, 4, 50)))


def test_open_a_shared_link(url, browser):
    text = "nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1)"
    browser.get(url + "/?" + urllib.parse.urlencode({"framework": "torch", "layer": text, "input": "(1, 16, 7, 7)"}))
    wait(browser, lambda d: shown_shape(d) == torch_shape(text, (1, 16, 7, 7)))
    wait(browser, lambda d: d.find_elements("css selector", "#picture svg.scatter .cell.output"))
    assert by_id(browser, "layer").get_attribute("value") == text
    assert not by_id(browser, "sizes-panel").get_attribute("hidden")
    assert "output_padding=1" in by_id(browser, "sizes").text


def test_hover_lights_up_the_inputs(url, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    text, shape = "nn.Conv2d(1, 1, 3, stride=2, padding=1, dilation=2)", "(1, 1, 9, 9)"
    browser.get(url + "/?" + urllib.parse.urlencode({"layer": text, "input": shape}))
    cell = wait(browser, lambda d: d.find_elements("css selector", '#picture .cell.output[data-index="1,2"]'))[0]
    ActionChains(browser).move_to_element(cell).perform()
    lit = {e.get_attribute("data-index")
           for e in wait(browser, lambda d: d.find_elements("css selector", "#picture .cell.input.hl"))}
    svg = draw(text, shape, position=(1, 2)).svg
    window = set(re.findall(r'class="cell input[^"]*window[^"]*"[^>]*data-index="([-\d,]+)"', svg))
    assert lit == window and len(window) == 9
    cell.click()  # follows it: the chosen position is in the URL
    wait(browser, lambda d: "position=1%2C2" in d.current_url)


def test_use_the_solver(url, browser):
    text, shape = "nn.Conv2d(3, 8, 3)", (1, 3, 28, 28)
    browser.get(url + "/?" + urllib.parse.urlencode({"layer": text, "input": str(shape)}))
    wait(browser, lambda d: d.find_elements("css selector", "#search-stride"))
    by_id(browser, "search-stride").click()
    by_id(browser, "search-padding").click()
    type_into(browser, "target", "(1, 8, 14, 14)")
    by_id(browser, "solve").click()
    solutions = wait(browser, lambda d: d.find_elements("css selector", "#solutions li.solution code"))
    layers = [e.text for e in solutions]
    assert layers and all(torch_shape(layer, shape) == "(1, 8, 14, 14)" for layer in layers)
    solutions[0].find_element("xpath", "..").find_element("css selector", "button").click()
    wait(browser, lambda d: shown_shape(d) == "(1, 8, 14, 14)")


def test_bad_input_shows_an_error(url, browser):
    browser.get(url + "/?" + urllib.parse.urlencode({"layer": "nn.Conv2d(3, 8, 3)", "input": "(1, 3, 8, 8)"}))
    wait(browser, lambda d: shown_shape(d))
    type_into(browser, "layer", "nn.Conv2d(3, 8,")
    error = wait(browser, lambda d: by_id(d, "error").is_displayed() and by_id(d, "error"))
    assert "cannot read" in error.text and shown_shape(browser) == ""
    type_into(browser, "layer", "nn.Conv2d(3, 8, 3)")
    type_into(browser, "input", "(1, 3, 1000000000, 8)")
    wait(browser, lambda d: "larger than the page takes" in by_id(d, "error").text)
    type_into(browser, "input", "(1, 3, 8, 8)")
    expected = torch_shape("nn.Conv2d(3, 8, 3)", (1, 3, 8, 8))
    wait(browser, lambda d: not by_id(d, "error").is_displayed() and shown_shape(d) == expected)


def test_stack_view(url, browser):
    code = "nn.Conv2d(3, 8, 3, stride=2)\nnn.ReLU()\nnn.MaxPool2d(2)\nnn.Flatten()"
    browser.get(url + "/?" + urllib.parse.urlencode({"layer": code, "input": "(1, 3, 33, 33)"}))
    module = eval(f"nn.Sequential({', '.join(code.splitlines())})", {"nn": torch.nn})  # noqa: S307 (our text)
    expected = "(" + ", ".join(map(str, module(torch.zeros(1, 3, 33, 33)).shape)) + ")"
    wait(browser, lambda d: shown_shape(d) == expected)
    rows = wait(browser, lambda d: d.find_elements("css selector", "#stack tbody tr"))
    assert len(rows) == 4 and expected in rows[-1].text
    boxes = wait(browser, lambda d: d.find_elements("css selector", "#picture svg.flow .box.layer"))
    assert [b.get_attribute("data-type") for b in boxes] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten"]
    rows[2].click()  # that layer's own picture, on its own input
    wait(browser, lambda d: d.find_elements("css selector", "#picture svg.window"))
    assert "focus=2" in browser.current_url
