"""The build's progress: each phase its own bar with its real total, so that the first run's estimate is honest."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from mapapp.gazetteer.build import PHASES, Progress

# tqdm's status line, e.g. "gazetteer 3/7 shapes: 100%|██████████| 320280/320280 [00:14<00:00, ...]".
_STATUS = re.compile(r"gazetteer (\d+)/(\d+) (\w+): +\d+%\|[^|]*\| *(\d+)/(\d+) ")


def last_status_by_phase(stderr: str) -> dict[str, tuple[int, int]]:
    """(count, total) of each phase's last status line, in the order the phases first appeared."""
    seen: dict[str, tuple[int, int]] = {}
    for line in re.split(r"[\r\n]", stderr):
        match = _STATUS.search(line)
        if match:
            number, of, name, count, total = match.groups()
            assert (int(number), int(of)) == (PHASES.index(name) + 1, len(PHASES)), line
            seen[name] = (int(count), int(total))
    return seen


def test_a_disabled_progress_writes_nothing(capsys):
    progress = Progress(False)
    progress.phase("reading", 3, " sources")
    progress.update(3)
    progress.close()
    assert capsys.readouterr().err == ""


def test_each_phase_shows_its_own_total(capsys):
    progress = Progress(True)
    progress.phase("reading", 2, " sources")
    progress.update(2)
    progress.phase("cities", 5, " places")
    progress.update(5)
    progress.close()
    assert last_status_by_phase(capsys.readouterr().err) == {"reading": (2, 2), "cities": (5, 5)}


@pytest.mark.slow
def test_the_real_build_names_every_phase_and_reaches_each_total(tmp_path):
    """`mapapp gazetteer build` on a fresh folder: every phase in order, each ending at its (non-zero) total."""
    env = {k: v for k, v in os.environ.items() if k != "MAPAPP_DATA"}
    done = subprocess.run([sys.executable, "-m", "mapapp", "gazetteer", "build", "--data", str(tmp_path / "data")],
                          check=False, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    phases = last_status_by_phase(done.stderr)
    assert list(phases) == list(PHASES)
    for name, (count, total) in phases.items():
        assert count == total > 0, (name, count, total)
    # The totals are the real sizes: every city of cities500 and every name ends up counted.
    built = re.search(r"Built (\d+) places, (\d+) names", done.stdout)
    assert built, done.stdout
    places, names = map(int, built.groups())
    assert phases["index"][1] == names
    assert phases["countries"][1] + phases["divisions"][1] + phases["cities"][1] + phases["curated"][1] \
        >= places > phases["cities"][1] > 200_000
