"""Browser tests wait on state (a selector, a value, a page condition), never on time: no fixed sleeps."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

BROWSER_TESTS = Path(__file__).parent / "browser"


def fixed_waits(source: str) -> list[str]:
    """Every wait on time in source: wait_for_timeout, time.sleep / asyncio.sleep (however imported), and a
    setTimeout inside a script string (a sleep run in the page)."""
    tree = ast.parse(source)
    sleeps = {"sleep"}  # `from time import sleep` (or `as pause`) is a sleep under any name
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "asyncio"):
            sleeps.update(alias.asname or alias.name for alias in node.names if alias.name == "sleep")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = (node.func.attr if isinstance(node.func, ast.Attribute)
                    else node.func.id if isinstance(node.func, ast.Name) else None)
            if name == "wait_for_timeout" or name in sleeps:
                found.append(f"line {node.lineno}: {name}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "setTimeout" in node.value:
            found.append(f"line {node.lineno}: setTimeout in a script")
    return found


def test_no_browser_test_waits_on_time():
    files = sorted(BROWSER_TESTS.rglob("*.py"))
    assert files, f"no browser tests found under {BROWSER_TESTS}"
    offenders = {str(path.relative_to(BROWSER_TESTS)): waits
                 for path in files if (waits := fixed_waits(path.read_text(encoding="utf-8")))}
    assert not offenders, f"browser tests must wait on state, not on time: {offenders}"


@pytest.mark.parametrize("source", [
    "page.wait_for_timeout(500)",
    "frame.wait_for_timeout(timeout=10)",
    "import time\ntime.sleep(0.5)",
    "from time import sleep\nsleep(1)",
    "from time import sleep as pause\npause(1)",
    "import asyncio\nasyncio.sleep(1)",
    'page.evaluate("() => new Promise(r => setTimeout(r, 500))")',
])
def test_the_check_finds_each_kind_of_fixed_wait(source):
    assert fixed_waits(source)


def test_the_check_allows_waits_on_state():
    assert fixed_waits('page.wait_for_selector(".flash")\nexpect(page.locator("p")).to_have_count(2, timeout=9000)\n'
                       'page.wait_for_function("() => window.ready")\nlocator.wait_for(state="attached")') == []
