"""The scale mode's command line: sizes and the many organisations."""

import pytest

from bench import scale
from bench.__main__ import arguments


def test_sizes_are_sorted_and_deduplicated():
    assert scale.parse_sizes("1000000, 100_000,100000") == [100_000, 1_000_000]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100000", "at least two"),
        ("100000,100000", "at least two"),
        ("500,100000", "at least 1000"),
        ("100k,1M", "separated by commas"),
        ("", "at least two"),
    ],
)
def test_bad_sizes_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        scale.parse_sizes(text)


def test_many_organisations():
    assert scale.parse_many("1000x1000") == (1_000, 1_000)
    assert scale.parse_many("20X500") == (20, 500)


@pytest.mark.parametrize("text", ["1000", "1000x", "x1000", "0x1000", "10x0", "10x10x10", "-1x5"])
def test_bad_many_organisations_are_refused(text):
    with pytest.raises(ValueError, match="many-organisations"):
        scale.parse_many(text)


def test_the_command_line(capsys):
    args = arguments(["--scale", "20000,100000", "--many-organisations", "50x1000"])
    assert args.scale == [20_000, 100_000]
    assert args.many_organisations == (50, 1_000)
    assert arguments([]).users == 100_000  # the default run is unchanged
    assert arguments(["--users", "2000", "--smoke"]).scale is None
    for wrong in (
        ["--scale", "20000,100000", "--users", "5000"],  # the sizes are --scale's
        ["--many-organisations", "10x10"],  # only in the scale mode
        ["--scale", "20000"],
        ["--users", "999"],
    ):
        with pytest.raises(SystemExit) as exit:
            arguments(wrong)
        assert exit.value.code == 2
    assert "--scale" in capsys.readouterr().err
