"""The two tests every exercise-check file shares, built from its CATALOGUE.

A CATALOGUE lists, per check, the reference solution and the mistakes to inject:
``[(check, solution, [({"mode": ...}, "words the diagnosis must name"), ...]), ...]``.
The solution takes the mistake switch as keyword arguments.
"""
import functools

import pytest

from bptutor.exercises import CheckResult


def _label(check) -> str:
    if isinstance(check, functools.partial):
        options = ",".join(f"{k}={v}" for k, v in check.keywords.items())
        return f"{check.func.__name__}[{options}]"
    return check.__name__


def catalogue_tests(catalogue):
    """Return ``(test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named)``."""
    mistakes = [(check, solution, switch, words)
                for check, solution, cases in catalogue for switch, words in cases]

    @pytest.mark.parametrize("check, solution", [e[:2] for e in catalogue],
                             ids=[_label(e[0]) for e in catalogue])
    def test_a_correct_solution_passes(check, solution):
        result = check(solution)
        assert isinstance(result, CheckResult)
        assert result.passed and bool(result), str(result)
        assert result.diagnosis is None and str(result).startswith("✔")

    @pytest.mark.parametrize("check, solution, switch, words", mistakes,
                             ids=[f"{solution.__name__}-{words}" for _, solution, _, words in mistakes])
    def test_each_injected_mistake_fails_and_is_named(check, solution, switch, words):
        result = check(functools.partial(solution, **switch))
        assert not result.passed, str(result)
        assert words in result.diagnosis, str(result)
        assert "the check itself failed" not in result.message

    return test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named
