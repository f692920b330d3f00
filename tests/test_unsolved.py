"""Tests for bptutor.exercises._unsolved: an unwritten exercise never stops "Run All"."""
import numpy as np
import pytest

from bptutor.exercises import NOT_WRITTEN, if_written, yours_or_reference


def unwritten(x):
    raise NotImplementedError("Exercise: write the body of unwritten")


def test_the_reference_stands_in_once_told(capsys):
    f = yours_or_reference(unwritten, lambda x: 2 * x)
    assert f(3) == 6 and f(4) == 8
    out = capsys.readouterr().out
    assert out.count(NOT_WRITTEN) == 1 and out.startswith("unwritten: not written yet")


def test_a_written_function_is_always_the_one_called_even_when_wrong(capsys):
    f = yours_or_reference(lambda x: 3 * x, lambda x: 2 * x, name="double")
    assert f(3) == 9
    assert capsys.readouterr().out == ""


def test_other_exceptions_reach_the_learner():
    def buggy(x):
        return np.ones(2) @ np.ones(3)

    with pytest.raises(ValueError):
        yours_or_reference(buggy, lambda x: x)(1)
    with pytest.raises(ZeroDivisionError):
        with if_written("buggy"):
            1 / 0


def test_if_written_skips_the_rest_of_the_block(capsys):
    ran = []
    with if_written("unwritten"):
        unwritten(1)
        ran.append("after")
    assert ran == []
    assert "unwritten: not written yet" in capsys.readouterr().out


def test_if_written_runs_a_written_block(capsys):
    ran = []
    with if_written("f"):
        ran.append(1)
    assert ran == [1] and capsys.readouterr().out == ""


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="reference"):
        yours_or_reference(unwritten, 3)
