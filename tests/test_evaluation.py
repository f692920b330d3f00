"""Tests of bptutor.evaluation: accuracy's conventions, evaluate's threshold taken from the loss, predict
in eval mode and in chunks, and confusion_matrix worked by hand."""
import math

import numpy as np
import pytest

from bptutor import evaluation
from bptutor.activations import Sigmoid
from bptutor.datasets import make_noisy_sine
from bptutor.evaluation import accuracy, confusion_matrix, evaluate, predict
from bptutor.layers import Linear, Sequential
from bptutor.losses import mse_loss
from bptutor.regularization import Dropout
def test_accuracy_conventions():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    # argmax: 0, 1, 2, 0 against labels 0, 1, 1, 0 -> 3 of 4
    assert accuracy(logits, [0, 1, 1, 0]) == 0.75
    assert accuracy(logits, np.eye(3)[[0, 1, 1, 0]]) == 0.75  # one-hot rows: their argmax
    p = np.array([[0.9], [0.4], [0.6], [0.1]])
    # threshold 0.5: 1, 0, 1, 0 against 1, 1, 1, 0 -> 3 of 4; threshold 0 calls all four 1 -> 3 of 4 again
    assert accuracy(p, [[1], [1], [1], [0]]) == 0.75
    assert accuracy(p, [1, 1, 1, 0], threshold=0.0) == 0.75
    assert accuracy(p - 0.5, [1, 0, 1, 0], threshold=0.0) == 1.0  # logits: sigma(z) > 0.5 iff z > 0
    assert math.isnan(accuracy(p, [[0.3], [0.2], [0.1], [0.0]]))  # regression targets
    assert math.isnan(accuracy(p, [0, 1, 2, 0]))  # 3 classes cannot be told by one output
    with pytest.raises(ValueError, match=r"accuracy expected out and y with the same number of rows "
                                         r"\(at least 1\), got shapes \(4, 1\) and \(3,\)"):
        accuracy(p, [1, 0, 1])


def test_evaluate_takes_the_threshold_from_the_loss():
    model = Sequential(Linear.from_arrays([[1.0]], [0.0]))  # out = x
    X = np.array([[-0.2], [0.2], [0.7]])
    y = np.array([[0.0], [1.0], [1.0]])
    # "bce_logits": threshold 0 -> 0, 1, 1: all right. "mse": threshold 0.5 -> 0, 0, 1: 2 of 3.
    assert evaluate(model, "bce_logits", X, y)["accuracy"] == 1.0
    assert evaluate(model, "mse", X, y)["accuracy"] == pytest.approx(2 / 3)
    # loss of mse by hand: ((-0.2)^2 + (0.2 - 1)^2 + (0.7 - 1)^2) / 3 = (0.04 + 0.64 + 0.09) / 3
    assert evaluate(model, "mse", X, y)["loss"] == pytest.approx(0.77 / 3, rel=1e-12)
    with_sigmoid = Sequential(Linear.from_arrays([[1.0]], [0.0]), Sigmoid())
    # a callable loss: the Sigmoid at the end means probabilities, threshold 0.5 (sigma(0.2) > 0.5, sigma(-0.2) < 0.5)
    assert evaluate(with_sigmoid, lambda p, t: mse_loss(p, t), X, y)["accuracy"] == 1.0
    x, t = make_noisy_sine(10, rng=0)
    assert math.isnan(evaluate(model, "mse", x, t)["accuracy"])


def test_predict_uses_eval_mode_and_chunks(monkeypatch):
    model = Sequential(Linear(3, 8, rng=0), Dropout(0.5, rng=0), Linear(8, 2, rng=1))
    X = np.random.default_rng(0).normal(size=(10, 3))
    out = predict(model, X)
    assert model.training  # restored
    np.testing.assert_array_equal(out, predict(model, X))  # no dropout in eval mode
    model.eval()
    np.testing.assert_array_equal(out, model.forward(X))
    model.train()
    monkeypatch.setattr(evaluation, "EVAL_CHUNK", 3)
    rows, forward = [], model.forward
    monkeypatch.setattr(model, "forward", lambda X: rows.append(len(X)) or forward(X))
    np.testing.assert_allclose(predict(model, X), out, rtol=0, atol=1e-15)
    assert rows == [3, 3, 3, 1]  # the 10 rows in chunks of EVAL_CHUNK = 3
    with pytest.raises(TypeError, match=r"predict expected model to be a bptutor Module"):
        predict(lambda X: X, X)


def test_confusion_matrix_worked_by_hand():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    M = confusion_matrix(y_true, y_pred, n_classes=4)
    # pairs (true, pred): (0,0) (0,1) (1,1) (2,2) (2,0) (2,2)
    # row 0: one 0, one 1; row 1: one 1; row 2: one 0, two 2s; class 3 absent: a zero row and column
    np.testing.assert_array_equal(M, [[1, 1, 0, 0],
                                      [0, 1, 0, 0],
                                      [1, 0, 2, 0],
                                      [0, 0, 0, 0]])
    assert M.dtype == np.int64
    assert M.sum(axis=1).tolist() == [2, 1, 3, 0]  # row sums: the class sizes
    # the diagonal is the correct answers: 1 + 1 + 2 = 4 of 6, the accuracy of one-hot "logits"
    assert np.trace(M) / M.sum() == accuracy(np.eye(4)[y_pred], y_true) == 4 / 6
    # repeated pairs are all counted (M[y_true, y_pred] += 1 would count (2, 2) once)
    np.testing.assert_array_equal(confusion_matrix([1, 1, 1], [0, 0, 0], 2), [[0, 0], [3, 0]])
    with pytest.raises(ValueError, match=r"confusion_matrix expected y_pred in the range 0 to 2, "
                                         r"got values from 0 to 3"):
        confusion_matrix([0, 1], [0, 3], n_classes=3)
    with pytest.raises(ValueError, match=r"confusion_matrix expected y_pred of shape \(2,\), got \(3,\)"):
        confusion_matrix([0, 1], [0, 1, 1], n_classes=3)
