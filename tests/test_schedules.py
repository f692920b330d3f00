"""Learning-rate schedules (bptutor.schedules): closed forms, their effect on the steps, PyTorch's
sequences, warm-up, and the schedules as ``fit`` callbacks."""
import numpy as np
import pytest

from bptutor.activations import Tanh
from bptutor.layers import Parameter, Sequential
from bptutor.optim import SGD
from bptutor.schedules import CosineLR, ExponentialLR, InverseTimeLR, StepLR, WarmupLR


def lrs(schedule, epochs):
    return [schedule.step() for _ in range(epochs)]


def test_step_lr_sequence():
    opt = SGD([Parameter([0.0])], lr=1.0)
    # η_t = 0.5^floor(t/2): t = 1..5 -> 1, 0.5, 0.5, 0.25, 0.25
    assert lrs(StepLR(opt, step_size=2, gamma=0.5), 5) == [1.0, 0.5, 0.5, 0.25, 0.25]
    assert opt.lr == 0.25


def test_exponential_and_inverse_time_sequences():
    opt = SGD([Parameter([0.0])], lr=1.0)
    assert lrs(ExponentialLR(opt, gamma=0.5), 3) == [0.5, 0.25, 0.125]
    opt = SGD([Parameter([0.0])], lr=1.0)
    # 1/(1 + t): 1/2, 1/3, 1/4
    np.testing.assert_allclose(lrs(InverseTimeLR(opt, decay=1.0), 3), [1 / 2, 1 / 3, 1 / 4], rtol=1e-15)


def test_cosine_sequence():
    opt = SGD([Parameter([0.0])], lr=1.0)
    sched = CosineLR(opt, T_max=4)
    # 0.5 (1 + cos(π t/4)): t=1 0.8535534, t=2 0.5, t=3 0.1464466, t=4 0, then stays at 0
    np.testing.assert_allclose(lrs(sched, 6), [0.8535534, 0.5, 0.1464466, 0.0, 0.0, 0.0], atol=1e-7)
    opt = SGD([Parameter([0.0])], lr=1.0)
    assert CosineLR(opt, T_max=2, lr_min=0.2).lr_at(1) == pytest.approx(0.6)   # 0.2 + 0.4 (1 + 0)


def test_schedule_changes_the_step():
    p = Parameter([0.0])
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad[...] = 1.0
        opt.step()
        sched.step()
    # steps of 1, 0.5, 0.25
    assert p.data[0] == -1.75


def test_torch_schedule_parity():
    torch = pytest.importorskip("torch")
    cases = [
        (lambda o: StepLR(o, step_size=3, gamma=0.3),
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.3)),
        (lambda o: ExponentialLR(o, gamma=0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
        (lambda o: InverseTimeLR(o, decay=0.5),
         lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + 0.5 * t))),
        (lambda o: CosineLR(o, T_max=10, lr_min=0.01),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    ]
    for ours_fn, theirs_fn in cases:
        ours = ours_fn(SGD([Parameter([0.0])], lr=0.2))
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
        theirs = theirs_fn(topt)
        expected = []
        for _ in range(10):
            topt.step()
            theirs.step()
            expected.append(topt.param_groups[0]["lr"])
        np.testing.assert_allclose(lrs(ours, 10), expected, rtol=0, atol=1e-10)


# --- warm-up, and schedules as fit callbacks ----------------------------------------------------
def test_warmup_then_cosine_sequence():
    opt = SGD([Parameter([0.0])], lr=1.0)
    sched = WarmupLR(CosineLR(opt, T_max=2, lr_min=0.1), warmup=3)
    # made: epoch 0 at 1/4; then 2/4, 3/4, then the cosine from t = 0: 1, 0.1 + 0.45 (1 + cos(π/2)) = 0.55, 0.1
    assert opt.lr == 0.25
    np.testing.assert_allclose(lrs(sched, 6), [0.5, 0.75, 1.0, 0.55, 0.1, 0.1], rtol=1e-15)
    assert [sched.lr_at(t) for t in (0, 3)] == [0.25, 1.0]


def test_warmup_as_a_fit_callback_sets_each_epochs_rate():
    from bptutor.layers import Linear
    from bptutor.training import fit

    class Seen:
        def __init__(self, opt):
            self.opt, self.lrs = opt, []

        def on_epoch_end(self, model, epoch, logs):
            self.lrs.append(self.opt.lr)
            return False

    model = Sequential(Linear(2, 3, rng=0), Tanh(), Linear(3, 1, rng=1))
    opt = SGD(model.parameters(), lr=0.2)
    sched, seen = WarmupLR(StepLR(opt, step_size=2, gamma=0.5), warmup=1), Seen(opt)
    X = np.random.default_rng(0).normal(size=(8, 2))
    fit(model, "mse", opt, X, X[:, :1], epochs=4, callbacks=[sched, seen], progress=False)
    # rate after epochs 0..3: epoch 1 is t=1 -> after.lr_at(0) = 0.2, then 0.2, 0.1, 0.1
    assert seen.lrs == [0.2, 0.2, 0.1, 0.1]
    assert sched.epoch == 4


def test_warmup_refuses_bad_input_and_changes_nothing():
    opt = SGD([Parameter([0.0])], lr=1.0)
    after = CosineLR(opt, T_max=5)
    with pytest.raises(ValueError, match=r"WarmupLR expected warmup >= 1, got 0"):
        WarmupLR(after, warmup=0)
    assert opt.lr == 1.0
    with pytest.raises(TypeError, match=r"WarmupLR expected warmup to be an integer, got 2.5"):
        WarmupLR(after, warmup=2.5)
    with pytest.raises(TypeError, match=r"WarmupLR expected after to be an LRSchedule"):
        WarmupLR(opt, warmup=2)
    after.step()
    with pytest.raises(ValueError, match=r"not yet used .*got epoch 1"):
        WarmupLR(after, warmup=2)
    assert after.epoch == 1


def test_a_cosine_schedule_may_end_at_rate_zero_and_that_step_moves_nothing():
    p = Parameter(np.array([1.0, -2.0]))
    opt = SGD([p], lr=0.5)
    schedule = CosineLR(opt, T_max=2)          # lr_min = 0 by default
    for _ in range(2):
        schedule.step()
    assert opt.lr == 0.0
    p.grad = np.array([3.0, 4.0])
    before = p.data.copy()
    opt.step()
    assert np.array_equal(p.data, before)
