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
