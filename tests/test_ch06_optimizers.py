"""Tests for bptutor.exercises.ch06_optimizers: the optimizer checks (06) pass a correct solution and name
each injected mistake."""

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def momentum_step(theta, grad, v, lr, momentum, mode="ok"):
    new_v = (1.0 if mode == "no_mu" else momentum) * v - lr * grad
    if mode == "no_carry":
        new_v = -lr * grad
    move = v if mode == "old_v" else new_v
    if mode == "inplace":
        theta += new_v
        return theta, new_v
    if mode == "v_inplace":  # right numbers, but the caller's velocity array is overwritten
        v *= momentum
        v -= lr * grad
        return theta + v, v
    if mode == "grad_inplace":
        grad *= lr
        return theta - grad + momentum * v, momentum * v - grad
    return theta + {"sign": -1.0, "lr_twice": lr}.get(mode, 1.0) * move, new_v

def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps, mode="ok"):
    if mode == "inplace_state":  # right numbers, but m and v are updated in the caller's arrays
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad ** 2
        return theta - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v
    if mode == "swap":
        beta1, beta2 = beta2, beta1
    t = t + {"t+1": 1, "t-1": -1}.get(mode, 0)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad if mode == "no_square" else grad ** 2)
    m_hat = m if mode in ("no_correction", "only_v") else m / (1 - beta1 ** t)
    v_hat = v if mode in ("no_correction", "only_m") else v / (1 - beta2 ** t)
    if mode == "eps_inside":
        denom = np.sqrt(v_hat + eps)
    else:
        denom = (v_hat if mode == "no_sqrt" else np.sqrt(v_hat)) + eps
    step = lr * m_hat / denom
    return (theta + step if mode == "sign" else theta - step), m, v


def momentum_rate(lr, curvature, momentum, mode="ok"):
    h = lr if mode == "no_curvature" else lr * curvature
    if mode == "gd":
        return abs(1 - h)
    M = np.array([[1 - h, momentum], [-h, momentum]])
    if mode == "velocity_sign":
        M = np.array([[1 + h, momentum], [h, momentum]])
    if mode == "old_v":
        M = np.array([[1.0, 1.0], [-h, momentum]])
    z = np.linalg.eigvals(M)
    if mode == "real_part":
        return np.max(z.real)
    if mode == "smallest":
        return np.min(np.abs(z))
    if mode == "det" and np.any(z.imag):
        return momentum
    if mode == "complex":
        return z[np.argmax(np.abs(z))]
    if mode == "both":
        return np.abs(z)
    return np.max(np.abs(z))


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_momentum_step, momentum_step, [
        ({"mode": "sign"}, "sign error"), ({"mode": "no_carry"}, "not carried over"),
        ({"mode": "no_mu"}, "forgot the momentum factor"), ({"mode": "old_v"}, "old velocity"),
        ({"mode": "lr_twice"}, "learning rate applied twice"), ({"mode": "inplace"}, "`theta` changed in place"),
        ({"mode": "v_inplace"}, "`v` changed in place"), ({"mode": "grad_inplace"}, "`grad` changed in place")]),
    (ex.check_adam_step, adam_step, [
        ({"mode": "no_correction"}, "no bias correction"), ({"mode": "only_m"}, "bias correction only on m"),
        ({"mode": "only_v"}, "bias correction only on v"), ({"mode": "eps_inside"}, "eps inside the square root"),
        ({"mode": "swap"}, "beta1 and beta2 swapped"), ({"mode": "no_square"}, "not squared"),
        ({"mode": "no_sqrt"}, "forgot the square root"), ({"mode": "sign"}, "sign error"),
        ({"mode": "t+1"}, "off by one"), ({"mode": "t-1"}, "off by one"),
        ({"mode": "inplace_state"}, "`m` changed in place")]),
    (ex.check_momentum_rate, momentum_rate, [
        ({"mode": "real_part"}, "the largest real part"), ({"mode": "smallest"}, "the smallest modulus"),
        ({"mode": "det"}, "mu instead of sqrt(mu)"), ({"mode": "no_curvature"}, "curvature is left out"),
        ({"mode": "gd"}, "momentum left out"), ({"mode": "velocity_sign"}, "sign is flipped"),
        ({"mode": "old_v"}, "old velocity"), ({"mode": "complex"}, "largest *modulus*"),
        ({"mode": "both"}, "as one number")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)




def test_an_in_place_adam_step_is_refused_by_name():
    # The failure chapter 06 once printed as nan: m and v updated in place pass a check that hands out
    # copies, then break when the caller's m and v are one array. The check now names the mutation.
    result = ex.check_adam_step(lambda *a: adam_step(*a, mode="inplace_state"))
    assert not result.passed
    assert result.message.startswith("adam_step changed its input `m` in place (entry [0] went from 0 to ")
    assert "[np.zeros(d)] * 2" in result.diagnosis


def test_right_answers_written_other_ways_pass():
    def momentum_other_form(theta, grad, v, lr, momentum):
        step = momentum * v - lr * grad          # theta + mu v - lr g, the same step regrouped
        return theta + momentum * v - lr * grad, step

    assert ex.check_momentum_step(momentum_other_form).passed

    def momentum_loop(theta, grad, v, lr, momentum):
        new_theta, new_v = np.empty_like(theta), np.empty_like(v)
        for i in range(theta.size):
            new_v[i] = momentum * v[i] - lr * grad[i]
            new_theta[i] = theta[i] + new_v[i]
        return new_theta, new_v

    assert ex.check_momentum_step(momentum_loop).passed

    def adam_float32(theta, grad, m, v, t, lr, beta1, beta2, eps):
        theta, grad, m, v = (np.asarray(x, dtype=np.float32) for x in (theta, grad, m, v))
        m = np.float32(beta1) * m + np.float32(1 - beta1) * grad
        v = np.float32(beta2) * v + np.float32(1 - beta2) * grad * grad
        m_hat, v_hat = m / np.float32(1 - beta1 ** t), v / np.float32(1 - beta2 ** t)
        return theta - np.float32(lr) * m_hat / (np.sqrt(v_hat) + np.float32(eps)), m, v

    result = ex.check_adam_step(adam_float32)
    assert result.passed, str(result)
    assert "float32, so they agree up to float32 rounding" in result.message
    # float32 arithmetic is not a licence for a wrong formula
    def adam_float32_no_correction(theta, grad, m, v, t, lr, beta1, beta2, eps):
        theta, grad, m, v = (np.asarray(x, dtype=np.float32) for x in (theta, grad, m, v))
        return adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps, mode="no_correction")

    wrong = ex.check_adam_step(adam_float32_no_correction)
    assert not wrong.passed and "no bias correction" in wrong.diagnosis, str(wrong)


def test_the_rate_written_other_ways_passes():
    def transposed(lr, curvature, momentum):              # the same eigenvalues
        h = lr * curvature
        return max(abs(np.linalg.eigvals(np.array([[1 - h, -h], [momentum, momentum]]))))

    def closed_form(lr, curvature, momentum):             # roots of z^2 - b z + mu, in complex arithmetic
        b = 1 + momentum - lr * curvature
        root = np.sqrt(complex(b * b - 4 * momentum))
        return max(abs((b + root) / 2), abs((b - root) / 2))

    def with_np_roots(lr, curvature, momentum):
        return np.abs(np.roots([1.0, -(1 + momentum - lr * curvature), momentum])).max()

    def float32(lr, curvature, momentum):
        M = np.array([[1 - lr * curvature, momentum], [-lr * curvature, momentum]], dtype=np.float32)
        return np.max(np.abs(np.linalg.eigvals(M))).astype(np.float32)

    for fn in (transposed, closed_form, with_np_roots, float32):
        result = ex.check_momentum_rate(fn)
        assert result.passed, (fn.__name__, str(result))


def test_the_rate_check_names_the_case_where_an_answer_first_fails():
    # sqrt(mu) is right for the complex pair of the first case (0.894 = sqrt(0.8)) and wrong for the
    # real roots of the second (0.845): the check says which setting, and that it is not a known mistake.
    result = ex.check_momentum_rate(lambda lr, curvature, momentum: np.sqrt(0.8))
    assert not result.passed
    assert "rate is 0.894427, expected 0.844949 on input 2 of 3" in result.message
    assert "real positive roots" in result.message and "does not recognise" in result.diagnosis
