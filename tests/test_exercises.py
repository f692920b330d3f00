"""Tests for the machinery of bptutor.exercises (its _core): results and their display, exception
summaries, messages for wrong types and shapes, copied inputs, the generic diagnosis, check_outputs,
check_gradient and check_activation_backward, without ever raising.

Each chapter's checks are tested in tests/test_chNN_<topic>.py, next to the learner solutions they inject
mistakes into; the checks below run through a chapter check only to reach the shared code."""
import numpy as np
import pytest

from bptutor import exercises as ex
from bptutor.activations import sigmoid
from bptutor.engine import Value
from bptutor.exercises import Case, CheckResult, Mistake


# --- messages ----------------------------------------------------------------------------------------------

def test_a_function_that_raises_gets_a_summary_with_its_own_line():
    def broken(dout, X, W):
        dX = dout @ W.T
        dW = X.T @ dout
        db = dout.sum(axis=0) / undefined_name  # noqa: F821 - the learner's bug
        return dX, dW, db

    result = ex.check_linear_backward(broken)
    assert not result.passed
    assert "linear_backward raised NameError: name 'undefined_name' is not defined" in result.message
    assert "in broken, line" in result.message and "db = dout.sum(axis=0) / undefined_name" in result.message
    assert "not defined" in result.diagnosis


def test_an_exception_inside_numpy_points_at_the_learners_line():
    def broken(X, W, b):
        return np.dot(W, X) + b  # raises inside np.dot; the summary shows this line

    result = ex.check_layer_forward(broken)
    assert "raised ValueError" in result.message
    assert result.message.split("\n")[1].startswith("  in broken, line")
    assert "return np.dot(W, X) + b" in result.message


def test_an_unwritten_exercise_says_so():
    def stub(dout, X, W):
        raise NotImplementedError("Exercise: write the body of linear_backward")

    result = ex.check_linear_backward(stub)
    assert "raised NotImplementedError" in result.message and "not written yet" in result.diagnosis


@pytest.mark.parametrize("returned, words", [
    (None, "returned None"),
    ("text", "should return 3 values (dX, dW, db), got 'text'"),
    ((np.zeros(2), np.zeros(2)), "should return 3 values (dX, dW, db), got tuple of length 2"),
    ((np.zeros((5, 3)), np.zeros((3, 4)), "x"), "db should be a number or an array of numbers, got 'x'"),
    ((np.zeros((5, 3)), None, np.zeros(4)), "returned None for dW"),
])
def test_a_wrong_return_type_gets_a_clear_message(returned, words):
    result = ex.check_linear_backward(lambda dout, X, W: returned)
    assert not result.passed and words in result.message, str(result)


def test_a_wrong_shape_gets_a_clear_message():
    result = ex.check_logsumexp(lambda Z: np.zeros((7, 7)))
    assert "lse should have shape (5,), got (7, 7)" in result.message
    result = ex.check_neuron(lambda x, w, b: np.zeros(4))
    assert "a should be a single number, got an array of shape (4,)" in result.message


def test_a_number_inside_an_array_and_a_value_are_explained():
    result = ex.check_neuron(lambda x, w, b: np.array([sigmoid(w @ x + b)]))
    assert "return the number itself" in result.diagnosis
    result = ex.check_chain_rule(lambda x, w, b, t: (Value(1.0), 0.0))
    assert "returned a Value for dw" in result.message and "value.data" in result.diagnosis


def test_passing_the_result_instead_of_the_function():
    result = ex.check_neuron(0.73)
    assert not result.passed and "expected the function neuron itself, got 0.73" in result.message


def test_unknown_op_or_activation_is_refused():
    with pytest.raises(ValueError, match="op"):
        ex.check_backward_rule(lambda out: None, "log")
    with pytest.raises(ValueError, match="activation"):
        ex.check_activation_backward(lambda dout, Z: dout, "softplus")


@pytest.mark.parametrize("name, f, fprime", [
    ("tanh", np.tanh, lambda Z: 1 - np.tanh(Z) ** 2),
    ("relu", lambda Z: np.maximum(Z, 0), lambda Z: (Z > 0) * 1.0),
    ("leaky_relu", None, lambda Z: np.where(Z > 0, 1.0, 0.01)),
])
def test_activation_backward_for_other_activations(name, f, fprime):
    assert ex.check_activation_backward(lambda dout, Z: dout * fprime(Z), name).passed
    wrong = ex.check_activation_backward(lambda dout, Z: dout, name)
    assert not wrong.passed and "forgot the activation derivative" in wrong.diagnosis


def test_generic_diagnosis_names_a_factor_sign_and_transpose():
    f = lambda X: np.sum(X ** 2)  # noqa: E731 - gradient 2X
    X = np.arange(6.0).reshape(2, 3) - 2.5
    assert ex.check_gradient(lambda X: 2 * X, f, X).passed
    assert "opposite sign" in ex.check_gradient(lambda X: -2 * X, f, X).diagnosis
    assert "2 times the right value" in ex.check_gradient(lambda X: 4 * X, f, X).diagnosis
    assert "transposed" in ex.check_gradient(lambda X: (2 * X).T, f, X).diagnosis
    assert "all zeros" in ex.check_gradient(lambda X: 0 * X, f, X).diagnosis


def test_generic_diagnosis_names_a_batch_size_factor():
    # a mistake not in the catalogue: dW divided by N twice -> the factor 1/N**2 is not named, 1/N is
    def reference(a):
        return a["X"].T @ a["X"]

    case = Case({"X": np.arange(12.0).reshape(4, 3)}, dims={"N": 4})
    result = ex.check_outputs(lambda X: X.T @ X / 4, name="gram", reference=reference, cases=[case],
                              outputs=("G",))
    assert "0.25 times the right value (1/N" in result.diagnosis


def test_check_outputs_with_a_custom_catalogue():
    mistakes = (Mistake("squared instead of doubled", "2 * x, not x ** 2", lambda a, r: {"y": a["x"] ** 2}),)
    case = Case({"x": np.array([1.0, 3.0, -2.0])})
    ok = ex.check_outputs(lambda x: 2 * x, name="double", reference=lambda a: 2 * a["x"], cases=[case],
                          outputs=("y",), mistakes=mistakes)
    wrong = ex.check_outputs(lambda x: x ** 2, name="double", reference=lambda a: 2 * a["x"], cases=[case],
                             outputs=("y",), mistakes=mistakes)
    assert ok.passed and "y matches the reference on 1 random input." in ok.message
    assert wrong.diagnosis == "squared instead of doubled: 2 * x, not x ** 2"
    # y[2]: yours 4, expected -4
    assert "y[2] is 4, expected -4" in wrong.message


def test_an_input_changed_in_place_is_refused_by_name():
    def mutating(dout, X, W):
        dX, dW, db = dout @ W.T, X.T @ dout, dout.sum(axis=0)
        X[...] = 0.0  # right outputs, but the caller's X is gone
        return dX, dW, db

    result = ex.check_linear_backward(mutating)
    assert not result.passed
    assert result.message.startswith("linear_backward changed its input `X` in place (entry [0, 0] went from ")
    assert "to 0) on input 1 of 3" in result.message and "X.copy()" in result.diagnosis

    def scaled_in_place(pred, target):  # the classic: the gradient computed into the input array
        pred -= target
        loss = np.mean(pred ** 2)
        pred *= 2 / pred.size
        return loss, pred

    result = ex.check_mse(scaled_in_place)
    assert not result.passed and "mse changed its input `pred` in place" in result.message


def test_a_restore_that_drifts_by_an_ulp_is_not_a_change_but_a_real_write_is():
    def reference(a):
        return 2 * a["x"]

    case = Case({"x": np.array([0.3, -1.7, 1e-9, 12.5])})

    def nudge_and_restore(x):  # central differences put x back with += h: off by a rounding or two
        x += 1e-5
        x -= 1e-5
        return 2 * x

    assert not np.array_equal(case.args["x"] + 1e-5 - 1e-5, case.args["x"])  # it really drifts
    assert ex.check_outputs(nudge_and_restore, name="f", reference=reference, cases=[case], outputs=("y",)).passed

    def small_write(x):
        y = 2 * x
        x[2] += 1e-12
        return y

    result = ex.check_outputs(small_write, name="f", reference=reference, cases=[case], outputs=("y",))
    assert not result.passed and "f changed its input `x` in place (entry [2] went from 1e-09 to 1.001e-09)" \
        in result.message


def test_a_documented_in_place_argument_may_change_and_nested_inputs_are_watched():
    case = Case({"Ws": [np.ones((2, 3)), np.ones(3)], "out": np.zeros(3), "k": 2})

    def reference(a):
        return a["k"] * a["Ws"][1]

    def fills_out(Ws, out, k):
        out[...] = k * Ws[1]
        return out

    assert ex.check_outputs(fills_out, name="f", reference=reference, cases=[case], inplace=("out",)).passed
    assert "changed its input `out`" in ex.check_outputs(fills_out, name="f", reference=reference,
                                                        cases=[case]).message

    def appends(Ws, out, k):
        Ws.append(0)
        return k * Ws[1]

    result = ex.check_outputs(appends, name="f", reference=reference, cases=[case])
    assert "f changed its input `Ws` in place (it was list of length 2, it is now list of length 3)" \
        in result.message

    def writes_item(Ws, out, k):
        Ws[0][1, 2] = 5.0
        return k * Ws[1]

    result = ex.check_outputs(writes_item, name="f", reference=reference, cases=[case])
    assert "changed its input `Ws` in place (item 0: entry [1, 2] went from 1 to 5)" in result.message


def test_outputs_in_swapped_order_are_named():
    def reference(a):
        return a["x"].sum(), a["x"] * 3

    case = Case({"x": np.array([1.0, 2.0, 4.0])})
    result = ex.check_outputs(lambda x: (x * 3, x.sum()), name="f", reference=reference, cases=[case],
                              outputs=("total", "tripled"))
    assert not result.passed
    assert "f returned the right values in the wrong order, (tripled, total)" in result.message
    assert result.diagnosis == "outputs returned in swapped order: return total, tripled in that order."
    # three outputs, rotated
    result = ex.check_linear_backward(lambda dout, X, W: (dout.sum(axis=0), dout @ W.T, X.T @ dout))
    assert "outputs returned in swapped order: return dX, dW, db in that order." == result.diagnosis


def test_float32_answers_pass_with_a_note_and_wrong_float32_answers_fail():
    def mse32(pred, target):
        d = (pred - target).astype(np.float32)
        return np.mean(d ** 2), 2 * d / d.size

    result = ex.check_mse(mse32)
    assert result.passed, str(result)
    assert "Your outputs are float32, so they agree up to float32 rounding (largest difference" in result.message
    float64 = ex.check_mse(lambda p, t: (np.mean((p - t) ** 2), 2 * (p - t) / p.size))
    assert float64.passed and "float32" not in float64.message

    def mse32_missing_2(pred, target):
        d = (pred - target).astype(np.float32)
        return np.mean(d ** 2), d / d.size

    wrong = ex.check_mse(mse32_missing_2)
    assert not wrong.passed and "missing factor 2" in wrong.diagnosis
    # a float32 result that is off by 0.1% is not rounding
    off = ex.check_layer_forward(lambda X, W, b: ((X @ W + b) * 1.001).astype(np.float32))
    assert not off.passed


def test_right_answers_written_other_ways_pass():
    einsum = ex.check_linear_backward(lambda dout, X, W: (np.einsum("nh,dh->nd", dout, W),
                                                          np.einsum("nd,nh->dh", X, dout),
                                                          np.einsum("nh->h", dout)))
    assert einsum.passed, str(einsum)

    def layer_loops(X, W, b):
        Z = np.zeros((X.shape[0], W.shape[1]))
        for n in range(X.shape[0]):
            for h in range(W.shape[1]):
                Z[n, h] = sum(X[n, d] * W[d, h] for d in range(X.shape[1])) + b[h]
        return Z

    assert ex.check_layer_forward(layer_loops).passed
    # the same sigmoid written as tanh: sigma(z) = (1 + tanh(z / 2)) / 2
    assert ex.check_neuron(lambda x, w, b: (1 + np.tanh((w @ x + b) / 2)) / 2).passed


def test_a_bug_in_the_check_itself_is_reported_not_raised():
    def bad_reference(a):
        raise RuntimeError("broken reference")

    result = ex.check_outputs(lambda x: x, name="f", reference=bad_reference, cases=[Case({"x": np.ones(2)})])
    assert not result.passed and "the check itself failed (RuntimeError: broken reference)" in result.message


# --- display -------------------------------------------------------------------------------------------------

def test_result_display_text_and_html():
    ok = CheckResult(True, "dX matches", None, "linear_backward")
    bad = CheckResult(False, "dW <wrong>", "transposed dW: use X.T @ dout", "linear_backward")
    assert str(ok) == "✔ linear_backward: dX matches" and repr(ok) == str(ok) and bool(ok)
    assert str(bad) == "✘ linear_backward: dW <wrong>\nDiagnosis: transposed dW: use X.T @ dout"
    assert not bad
    page = bad._repr_html_()
    assert "#c62828" in page and "Not yet: linear_backward" in page and "dW &lt;wrong&gt;" in page
    assert "<b>Diagnosis:</b> transposed dW" in page
    assert "#2e7d32" in ok._repr_html_() and "Passed" in ok._repr_html_()
