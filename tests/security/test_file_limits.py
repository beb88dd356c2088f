"""Issue 7, fault 6: `mapapp geoparse` (and ingest) read regular files only, within a size limit, streaming.

A FIFO used to block `geoparse` forever, and a 50 MB file took 69 s, 4.6 GB of memory and 693 MB of output.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from mapapp.articles.documents import MAX_FILE_BYTES
from mapapp.db import DATABASE_NAME, connect

ROOT = Path(__file__).resolve().parents[2]


def mapapp(data_dir, *args, timeout=300, **kwargs):
    """Run the real `mapapp` command in its own process (a blocked read cannot hang the test run)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAPAPP_DATA": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "mapapp", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False, **kwargs)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    return path


def test_geoparse_refuses_a_fifo_at_once(data_dir, tmp_path, fifo):
    good = tmp_path / "good.txt"
    good.write_text("Talks in Baku.", encoding="utf-8")
    done = mapapp(data_dir, "geoparse", str(fifo), str(good))
    assert done.returncode == 1
    [error] = done.stderr.strip().splitlines()
    assert str(fifo) in error and "FIFO" in error and "Traceback" not in done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["document"] == str(good) and [m["text"] for m in record["mentions"]] == ["Baku"]


def test_ingest_refuses_a_fifo_given_or_in_a_folder(data_dir, tmp_path, fifo):
    (tmp_path / "good.txt").write_text("Talks in Baku.", encoding="utf-8")
    done = mapapp(data_dir, "ingest", str(fifo), str(tmp_path))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all(str(fifo) in line and "FIFO" in line for line in errors)
    conn = connect(data_dir / DATABASE_NAME)
    assert [row[0] for row in conn.execute("SELECT key FROM articles")] == ["good.txt"]
    conn.close()


@pytest.mark.parametrize("device", ["/dev/null"])  # not /dev/zero: unbounded, a regression would eat the RAM
def test_devices_are_refused(runner, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    result = runner.invoke(["geoparse", device])
    assert result.exit_code == 1 and "character device" in result.stderr and device in result.stderr


def test_an_oversized_file_is_refused_naming_file_and_limit(runner, data_dir, tmp_path):
    big = tmp_path / "big.txt"
    sentence = b"Talks were held in Baku. "
    big.write_bytes(sentence * (MAX_FILE_BYTES // len(sentence) + 1))
    result = runner.invoke(["geoparse", str(big)])
    assert result.exit_code == 1 and result.stdout == ""
    [error] = result.stderr.strip().splitlines()
    assert str(big) in error and "5 MB limit" in error and "--max-size" in error
    result = runner.invoke(["ingest", str(big)])
    assert result.exit_code == 1 and str(big) in result.stderr and "5 MB limit" in result.stderr

    small = tmp_path / "small.txt"
    small.write_bytes(sentence * 50)  # 1,250 bytes
    result = runner.invoke(["geoparse", "--max-size", "1kB", str(small)])
    assert result.exit_code == 1 and str(small) in result.stderr and "1 kB limit" in result.stderr
    result = runner.invoke(["geoparse", "--max-size", "2kB", str(small)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["mentions"]) == 50
    result = runner.invoke(["ingest", "--max-size", "1kB", str(small)])
    assert result.exit_code == 1 and "1 kB limit" in result.stderr
    result = runner.invoke(["ingest", "--max-size", "1250", str(small)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("value", ["0", "-5", "lots", "5TB", "9" * 5000])
def test_a_bad_max_size_is_a_usage_error(runner, tmp_path, value):
    result = runner.invoke(["geoparse", "--max-size", value, str(tmp_path / "a.txt")])
    assert result.exit_code == 2 and "--max-size" in result.stderr and "Traceback" not in result.output


def test_max_size_lifts_the_limit(runner, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"Baku. " * (MAX_FILE_BYTES // 6 + 1000))
    result = runner.invoke(["geoparse", "--max-size", "6MB", "--format", "text", str(big)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"# {big}: {MAX_FILE_BYTES // 6 + 1000} mentions\n")


@pytest.mark.parametrize("output_format, end_of_first", [("jsonl", b"]}\n"), ("json", b"\n  }")])
def test_each_document_is_written_as_soon_as_it_is_done(data_dir, tmp_path, output_format, end_of_first):
    """The first file's record is out, and nothing after it, while the second (long) file is being parsed."""
    first = tmp_path / "first.txt"
    first.write_text("Talks in Baku.", encoding="utf-8")
    long = tmp_path / "long.txt"
    long.write_text("Delegates from Yerevan met officials in Baku and Moscow on Monday.\n" * 30_000,
                    encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAPAPP_DATA": str(data_dir)}
    command = [sys.executable, "-m", "mapapp", "geoparse", "--format", output_format, str(first), str(long)]
    # Unbuffered bytes: what has been read is exactly what the command has written so far.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
                          env=env) as process:
        try:
            head = b""
            while not head.endswith(end_of_first) and process.poll() is None:
                head += process.stdout.read(1)
            # Parsing the long file takes seconds: had all output been held back to the end, more of it
            # would already be waiting in the pipe now.
            waiting, _, _ = select.select([process.stdout], [], [], 0)
            rest = process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert head.endswith(end_of_first) and not waiting, "output was not written document by document"
    if output_format == "jsonl":
        assert json.loads(head)["document"] == str(first)
        [record] = [json.loads(text) for text in rest.splitlines()]
    else:
        first_record, record = json.loads(head + rest)
        assert first_record["document"] == str(first)
    assert record["document"] == str(long) and len(record["mentions"]) == 90_000
