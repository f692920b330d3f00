"""Tests for bptutor.exercises.ch03_autograd: the chain-rule checks (03) pass a correct rule, name each
injected mistake, and notice a rule that changes data or assigns where it should accumulate."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def mul_backward(out, mode="ok"):
    a, b = out.children
    local_a, local_b = (a.data, b.data) if mode == "own" else (b.data, a.data)
    up = {"no_up": 1.0, "data": out.data}.get(mode, out.grad) * (-1 if mode == "sign" else 1)
    if mode == "assign":
        a.grad = local_a * up
        b.grad = local_b * up
    else:
        a.grad += local_a * up
        b.grad += local_b * up

def tanh_backward(out, mode="ok"):
    (x,) = out.children
    local = {"input": 1 - x.data ** 2, "no_square": 1 - out.data}.get(mode, 1 - out.data ** 2)
    x.grad += local * out.grad

def relu_backward(out, mode="ok"):
    (x,) = out.children
    x.grad += (1.0 if mode == "always" else float(x.data > 0)) * out.grad

def max_backward(out, mode="ok"):
    a, b = out.children
    if mode == "both":
        la, lb = 1.0, 1.0
    elif mode == "loser":
        la, lb = float(a.data < b.data), float(b.data < a.data)
    elif mode == "tie_first":
        la, lb = float(a.data >= b.data), float(b.data > a.data)
    else:
        la, lb = (1.0, 0.0) if a.data > b.data else (0.0, 1.0) if a.data < b.data else (0.5, 0.5)
    if mode == "value":
        la, lb = la * out.data, lb * out.data
    a.grad += la * out.grad
    b.grad += lb * out.grad


def max_backward_with_numpy(out):
    # Written another way: np.sign gives 1, -1 or 0; (1 + sign) / 2 is 1, 0 or the tie's 1/2.
    a, b = out.children
    s = np.sign(np.float32(a.data) - np.float32(b.data))
    a.grad += float((1 + s) / 2) * out.grad
    b.grad += float((1 - s) / 2) * out.grad


def neuron_grad(x, w, b, t, mode="ok"):
    z = w * x + b
    y = np.tanh(z)
    e = (1 if mode == "no2" else 2) * (y - t) * (-1 if mode == "sign" else 1)
    local = {"no_tanh": 1.0, "z": 1 - z ** 2}.get(mode, 1 - y ** 2)
    db = e * local
    inner = {"no_x": 1.0, "w": w}.get(mode, x)
    return db * inner, db


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (functools.partial(ex.check_backward_rule, op="*"), mul_backward, [
        ({"mode": "assign"}, "`=` where `+=` belongs"), ({"mode": "own"}, "its own value"),
        ({"mode": "no_up"}, "forgot the upstream gradient"), ({"mode": "data"}, "out.data instead of out.grad"),
        ({"mode": "sign"}, "sign flip")]),
    (functools.partial(ex.check_backward_rule, op="tanh"), tanh_backward, [
        ({"mode": "input"}, "input instead of the output"), ({"mode": "no_square"}, "forgot the square")]),
    (functools.partial(ex.check_backward_rule, op="relu"), relu_backward, [
        ({"mode": "always"}, "passes for negative inputs")]),
    (functools.partial(ex.check_backward_rule, op="max"), max_backward, [
        ({"mode": "both"}, "both operands"), ({"mode": "loser"}, "smaller operand"),
        ({"mode": "tie_first"}, "a tie went to one operand"), ({"mode": "value"}, "winner's value")]),
    (ex.check_chain_rule, neuron_grad, [
        ({"mode": "no_tanh"}, "forgot the tanh derivative"), ({"mode": "z"}, "used z instead of y"),
        ({"mode": "no2"}, "missing factor 2"), ({"mode": "sign"}, "sign flip"),
        ({"mode": "no_x"}, "inner derivative x"), ({"mode": "w"}, "w instead of x")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


# --- messages -----------------------------------------------------------------------------------------------

def test_changing_data_in_a_backward_rule_is_named():
    def meddling(out):
        a, b = out.children
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad
        a.data = 0.0

    result = ex.check_backward_rule(meddling, "*")
    assert "mul_backward changed a.data" in result.message


def test_the_reused_node_case_is_what_catches_assignment():
    # `=` with gradients that start at 0 and distinct children is right; a * a is not.
    def assign(out):
        a, b = out.children
        a.grad = b.data * out.grad
        b.grad = a.data * out.grad

    result = ex.check_backward_rule(assign, "*")
    assert not result.passed and "`=` where `+=` belongs" in result.diagnosis


LOCALS = {  # the local derivatives a learner writes, from the children's and the output's data
    "+": lambda kids, out: (1.0, 1.0),
    "*": lambda kids, out: (kids[1].data, kids[0].data),
    "tanh": lambda kids, out: (1 - out.data ** 2,),
    "exp": lambda kids, out: (out.data,),
    "sigmoid": lambda kids, out: (out.data * (1 - out.data),),
    "relu": lambda kids, out: (float(kids[0].data > 0),),
    "max": lambda kids, out: (float(kids[0].data >= kids[1].data) - 0.5 * (kids[0].data == kids[1].data),
                              float(kids[1].data >= kids[0].data) - 0.5 * (kids[0].data == kids[1].data)),
}


@pytest.mark.parametrize("op", sorted(ex.BACKWARD_RULES))
def test_every_backward_rule_passes_when_right_and_names_a_forgotten_upstream(op):
    def backward(out, upstream=True):
        for child, local in zip(out.children, LOCALS[op](out.children, out)):
            child.grad += local * (out.grad if upstream else 1.0)

    assert ex.check_backward_rule(backward, op).passed
    wrong = ex.check_backward_rule(functools.partial(backward, upstream=False), op)
    assert "forgot the upstream gradient" in wrong.diagnosis, str(wrong)


def test_changing_out_in_a_backward_rule_is_named():
    def zeroing(out):
        a, b = out.children
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad
        out.grad = 0.0  # "used up": but out belongs to the caller

    result = ex.check_backward_rule(zeroing, "*")
    assert not result.passed and result.message.startswith("mul_backward changed out.grad")


def test_max_backward_written_with_numpy_float32_passes():
    assert ex.check_backward_rule(max_backward_with_numpy, "max").passed


def test_max_check_includes_a_tie_and_a_reused_operand():
    seen = []

    def spy(out):
        a, b = out.children
        seen.append((a is b, a.data == b.data))
        max_backward(out)

    assert ex.check_backward_rule(spy, "max").passed
    assert (True, True) in seen and (False, True) in seen and (False, False) in seen
