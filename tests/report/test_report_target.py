"""``retain report -o`` replaces a report file, never anything else (a folder, a symbolic link, a device)."""

from __future__ import annotations

import os

import pytest

from retain.errors import InputError
from retain.report import write_report


def test_refuses_to_replace_anything_but_a_regular_file(tmp_path, synthetic_snapshot):
    folder = tmp_path / "reports"
    folder.mkdir()
    with pytest.raises(InputError) as refused:
        write_report(synthetic_snapshot, folder)
    assert str(refused.value) == (
        f"{folder} is a folder, not a report file; refusing to replace it. Pass a file name such as "
        f"{folder / 'report.html'} (an existing report file is replaced)."
    )
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(precious)
    with pytest.raises(InputError, match=r"report.html is a symbolic link, not a report file; refusing"):
        write_report(synthetic_snapshot, link)
    assert precious.read_text() == "keep me" and link.is_symlink()
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"pipe.html is a special file, not a report file"):
        write_report(synthetic_snapshot, fifo)
    with pytest.raises(InputError, match=r"/dev/null is a special file"):
        write_report(synthetic_snapshot, "/dev/null")
    old = tmp_path / "old.html"
    old.write_text("<p>last month</p>")
    assert write_report(synthetic_snapshot, old) == old and "plotly" in old.read_text()  # a report file: replaced
