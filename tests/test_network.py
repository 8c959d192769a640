"""The default path never touches the network; with downloads allowed, a stalled network cannot hang a load.

A local TCP server stands in for the network: it accepts connections and never answers, and counts
them. Requests reach it because HTTP(S)_PROXY points at it (loopback only).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

LOAD = ("from mtlcore.training.encoders import load_encoder\n"
        "try:\n    load_encoder('nobody-here/no-such-model')\nexcept Exception as e:\n"
        "    print(type(e).__name__, e)\n")


@pytest.fixture
def stalled_proxy():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.2)
    state = {"connections": 0, "open": [], "stop": False}

    def serve():
        while not state["stop"]:
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            state["connections"] += 1
            state["open"].append(conn)  # never answered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    yield url, state
    state["stop"] = True
    thread.join(2)
    for c in state["open"]:
        c.close()
    server.close()


def _run(url: str, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    base = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                                                             "MTLCORE_ALLOW_DOWNLOADS", "NO_PROXY", "no_proxy")}
    base.update(HTTPS_PROXY=url, HTTP_PROXY=url, https_proxy=url, http_proxy=url, **env)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, env=base, timeout=120)
    return r, time.perf_counter() - t0


def test_a_hub_name_is_not_sent_anywhere_unless_downloads_are_allowed(stalled_proxy):
    url, state = stalled_proxy
    r, _ = _run(url)  # offline variable unset
    assert "EncoderError" in r.stdout and "offline" in r.stdout and "MTLCORE_ALLOW_DOWNLOADS=1" in r.stdout
    assert state["connections"] == 0


def test_a_stalled_network_fails_within_the_timeout(stalled_proxy):
    url, state = stalled_proxy
    r, seconds = _run(url, HF_HUB_OFFLINE="0", MTLCORE_HUB_TIMEOUT="3")
    assert "no answer from the Hugging Face hub within 3 s" in r.stdout, r.stdout + r.stderr
    assert "giving up after 3 s" in r.stderr
    assert state["connections"] >= 1 and seconds < 60


@pytest.mark.parametrize("value", ["inf", "-5", "nan", "0", "soon"])
def test_a_bad_hub_timeout_names_the_variable(value, monkeypatch):
    from mtlcore.training.encoders import EncoderError, hub_timeout

    monkeypatch.setenv("MTLCORE_HUB_TIMEOUT", value)
    with pytest.raises(EncoderError, match=f"MTLCORE_HUB_TIMEOUT must be a finite number of seconds > 0, got '{value}'"):
        hub_timeout()
