"""`tradewire serve-sim`: its options say their defaults and bad addresses are one-line errors."""

import socket

import pytest

from framework.cli import main


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve-sim", "--help"])
    assert exited.value.code == 0
    options = capsys.readouterr().out.split("\n  --")[1:]
    helps = {entry.split()[0]: " ".join(entry.split()) for entry in options}
    assert "default 1.0" in helps["speed"]
    assert "default 8765" in helps["port"]
    assert "default 127.0.0.1" in helps["host"]
    assert "default 0" in helps["seed"]
    assert "default: any EXCHANGE:SYMBOL" in helps["symbol"]


@pytest.mark.parametrize("port", ["88120", "65536", "-1"])
def test_a_port_out_of_range_is_refused(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve-sim", "--port", port]) == 2
    assert one_error_line(capsys) == (
        f"tradewire: error: --port must be in 0..65535 (0: any free port), got {port}"
    )


def test_a_port_in_use_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve-sim", "--port", str(port)]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"tradewire: error: cannot listen on 127.0.0.1:{port}: "), line
