import pytest

from framework import ParameterError
from framework.sweeps import Grid


def test_ranges_include_stop_and_lists_keep_their_order():
    grid = Grid.parse(["fast=5:50:5", "slow=50,20,30"])
    assert grid.axes == (("fast", (5, 10, 15, 20, 25, 30, 35, 40, 45, 50)), ("slow", (50, 20, 30)))
    assert len(grid) == 30
    combos = list(grid)
    assert combos[:4] == [
        {"fast": 5, "slow": 50},
        {"fast": 5, "slow": 20},
        {"fast": 5, "slow": 30},
        {"fast": 10, "slow": 50},
    ]


def test_decimal_steps_are_exact_and_values_keep_their_type():
    assert Grid.parse(["k=0.1:0.3:0.1"]).axes == (("k", (0.1, 0.2, 0.3)),)
    assert Grid.parse(["n=1:3"]).axes == (("n", (1, 2, 3)),)
    assert Grid.parse(["x=1,2.5,on"]).axes == (("x", (1, 2.5, "on")),)
    assert Grid.parse(["n=1:8:3"]).axes == (("n", (1, 4, 7)),)


def test_a_later_spec_for_the_same_name_wins():
    assert Grid.parse(["fast=1,2", "slow=9", "fast=3"]).axes == (("slow", (9,)), ("fast", (3,)))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fast", "--grid expects NAME=START:STOP[:STEP]"),
        ("fast=", "--grid expects NAME=START:STOP[:STEP]"),
        ("fast=1:2:3:4", "a range is START:STOP[:STEP]"),
        ("fast=a:b", "range bounds must be numbers"),
        ("fast=1:10:0", "the step must be positive"),
        ("fast=10:1", "STOP must not be below START"),
        ("fast=0:1:0.000001", "use a larger step"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ParameterError, match=message.replace("[", r"\[")):
        Grid.parse([spec])


def test_grid_remembers_each_axis_spec_for_messages():
    grid = Grid.parse(["fast=5:20:5", " slow=30,50 ", "fast=5-20"])
    assert grid.spec("fast") == "fast=5-20" and grid.spec("slow") == "slow=30,50"
    assert grid.describe() == "--grid slow=30,50 --grid fast=5-20"
    assert Grid((("n", (1, 2)),)).describe() == "--grid n=1,2"
