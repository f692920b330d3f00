"""Tests for bptutor.engine: the scalar autograd Value and engine.linear."""
import gc
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.engine import BackwardStep, Value, linear
from bptutor.gradcheck import numerical_gradient, rel_error

FAST = settings(max_examples=40, deadline=None)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_subnormal=False)


def signed(low=0.5, high=2.0):
    """Values with |v| in [low, high]: local derivatives such as 1/b or a stay away from 0."""
    return floats(low, high).flatmap(lambda v: st.sampled_from([v, -v]))


def grads_of(f, xs):
    """Backward's gradient of f(Value(x_0), Value(x_1), ...) with respect to each x_i."""
    leaves = [Value(float(x)) for x in xs]
    f(*leaves).backward()
    return np.array([v.grad for v in leaves])


def fd_grads(f, xs):
    """Central differences of the same function, through bptutor.gradcheck."""
    x = np.array(xs, dtype=np.float64)
    return numerical_gradient(lambda x: f(*(Value(float(v)) for v in x)).data, x)


def reference_order(root):
    """micrograd's recursive build_topo (with a list for the children): the order we promise."""
    order, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v.children:
                build(child)
            order.append(v)
    build(root)
    return order


# --- hand-worked examples --------------------------------------------------------------------------

def test_micrograd_readme_expression_by_hand():
    a, b = Value(-4.0), Value(2.0)
    c = a + b                      # -2
    d = a * b + b ** 3             # -8 + 8 = 0
    c += c + 1                     # c = 2c + 1 = -3
    c += 1 + c + (-a)              # c = 2c + 1 - a = -6 + 1 + 4 = -1   (so c = 3a + 4b + 3)
    d += d * 2 + (b + a).relu()    # d = 3d + relu(-2) = 0             (relu passes no gradient)
    d += 3 * d + (b - a).relu()    # d = 4d + relu(6) = 6              (so d = 12(ab + b^3) + b - a)
    e = c - d                      # -7   e = 4a + 3b + 3 - 12ab - 12b^3
    f = e ** 2                     # 49
    g = f / 2.0                    # 24.5
    g += 10.0 / f                  # 24.5 + 10/49 = 24.70408...
    assert g.data == pytest.approx(24.5 + 10 / 49, rel=1e-15)
    g.backward()
    # dg/de = (1/2 - 10/f^2) * 2e = (1/2 - 10/2401) * (-14) = -7 + 140/2401
    # de/da = 4 - 12b = -20          ->  dg/da = 140 - 2800/2401  = 138.8338...
    # de/db = 3 - 12a - 36b^2 = -93  ->  dg/db = 651 - 13020/2401 = 645.5773...
    assert a.grad == pytest.approx(140 - 2800 / 2401, rel=1e-13)
    assert b.grad == pytest.approx(651 - 13020 / 2401, rel=1e-13)
    assert (round(a.grad, 4), round(b.grad, 4)) == (138.8338, 645.5773)  # micrograd's README


def test_neuron_by_hand():
    # o = tanh(x1 w1 + x2 w2 + b), b = 6 + atanh(1/sqrt 2) so that n = -6 + 0 + b = 0.8814
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.0 + math.atanh(1 / math.sqrt(2)))
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    o.backward()
    # do/dn = 1 - o^2 = 1 - 1/2 = 0.5; each + passes 0.5 on; each * swaps its operands.
    assert n.grad == pytest.approx(0.5, rel=1e-15) and b.grad == n.grad
    assert x1.grad == pytest.approx(-1.5)   # w1 * 0.5
    assert w1.grad == pytest.approx(1.0)    # x1 * 0.5
    assert x2.grad == pytest.approx(0.5)    # w2 * 0.5
    assert w2.grad == 0.0                   # x2 * 0.5 = 0


def test_each_operation_by_hand():
    a, b = Value(3.0), Value(4.0)
    cases = [
        (a + b, 7.0, (1.0, 1.0)),
        (a - b, -1.0, (1.0, -1.0)),
        (a * b, 12.0, (4.0, 3.0)),               # d(ab)/da = b, d(ab)/db = a
        (a / b, 0.75, (0.25, -3 / 16)),          # 1/b = 1/4, -a/b^2 = -3/16
        (a ** 3, 27.0, (27.0,)),                 # 3 a^2 = 27
        (b ** 0.5, 2.0, (0.25,)),                # 0.5 / sqrt(4) = 1/4
        (b ** -1, 0.25, (-1 / 16,)),             # -1 / b^2
        (-a, -3.0, (-1.0,)),
        (Value(math.log(2.0)).exp(), 2.0, (2.0,)),   # (e^x)' = e^x
        (b.log(), math.log(4.0), (0.25,)),           # 1/x
        (Value(math.log(2.0)).tanh(), 0.6, (0.64,)),  # (2 - 1/2)/(2 + 1/2) = 0.6; 1 - 0.36
        (Value(math.log(3.0)).sigmoid(), 0.75, (0.1875,)),  # 1/(1 + 1/3); 3/4 * 1/4
        (Value(-2.0).relu(), 0.0, (0.0,)),
        (a.relu(), 3.0, (1.0,)),
        (Value(0.0).relu(), 0.0, (0.0,)),        # 0 at the kink, as PyTorch
    ]
    for out, data, local_grads in cases:
        assert out.data == pytest.approx(data, rel=1e-15), out.op
        assert out.local_grads == pytest.approx(local_grads, rel=1e-15), out.op
    assert [out.op for out, _, _ in cases] == ["+", "-", "*", "/", "**3", "**0.5", "**-1", "neg", "exp",
                                               "log", "tanh", "sigmoid", "relu", "relu", "relu"]


def test_reflected_forms_by_hand():
    v = Value(4.0)
    assert (2 + v).data == 6.0 and (1 - v).data == -3.0 and (2 * v).data == 8.0 and (1 / v).data == 0.25
    for out, local in [(1 - v, -1.0), (2 * v, 2.0), (1 / v, -1 / 16)]:  # d(c/v)/dv = -c/v^2
        v.grad = 0.0
        out.backward()
        assert v.grad == local
    assert (np.float64(2.0) * v).data == 8.0 and isinstance(np.float64(2.0) * v, Value)


def test_linear_by_hand():
    w = [Value(2.0), Value(-1.0)]
    x = [Value(3.0), Value(5.0)]
    b = Value(0.5)
    z = linear(w, x, b)              # 0.5 + 2*3 + (-1)*5 = 1.5
    assert z.data == 1.5 and z.op == "linear"
    assert z.children == (*w, *x, b) and z.local_grads == (3.0, 5.0, 2.0, -1.0, 1.0)
    (z * 2).backward()               # dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1, times 2
    assert [v.grad for v in w + x + [b]] == [6.0, 10.0, 4.0, -2.0, 2.0]
    assert linear([1, 2], [3, 4], 5).data == 16.0  # 5 + 3 + 8


def test_repr_and_slots():
    v = Value(0.5, label="w")
    assert repr(v) == "Value(data=0.5, grad=0.0)"
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.colour = "red"
    assert type(Value(np.float32(0.5)).data) is float and type(Value(3).data) is float


# --- graphs: order, reuse, repeated backward ---------------------------------------------------------

def test_children_keep_operand_order():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    for out in (a + b, a - b, a * b, a / b):
        assert out.children[0] is a and out.children[1] is b
    assert (a * a).children == (a, a)
    for out, const in ((1 - a, 1.0), (2 * a, 2.0), (3 / a, 3.0), (5 + a, 5.0)):
        assert out.children[1] is a and out.children[0].data == const and out.children[0].op == ""
    assert (a ** 2).children == (a,) and (a ** 2).op == "**2"


def test_topological_order_is_deterministic_and_matches_recursive_dfs():
    def build():
        a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        c = a * b
        d = c + a
        return (d * c - b).tanh()
    first, second = build().topological_order(), build().topological_order()
    assert [(v.op, v.data, v.label) for v in first] == [(v.op, v.data, v.label) for v in second]
    root = build()
    assert [id(v) for v in root.topological_order()] == [id(v) for v in reference_order(root)]
    order = root.topological_order()
    assert order[0].op == "" and order[-1] is root and len(set(map(id, order))) == len(order)


def test_reused_nodes_accumulate():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0             # 2a
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    x = Value(3.0)
    (x * x + x).backward()
    assert x.grad == 7.0             # 2x + 1
    # Diamond: b = 2a and c = a + 3 both feed d = b c. At a = 2: b = 4, c = 5, d = 20;
    # dd/da = c * 2 + b * 1 = 10 + 4 = 14 (= 4a + 6).
    a = Value(2.0)
    b, c = 2 * a, a + 3
    d = b * c
    d.backward()
    assert (d.data, a.grad, b.grad, c.grad) == (20.0, 14.0, 5.0, 4.0)


def test_second_backward_doubles_leaves_and_resets_intermediates():
    x, y = Value(0.7), Value(-1.3)
    h = x * y
    z = h.tanh() + x.exp() * y
    z.backward()
    once = {"x": x.grad, "y": y.grad, "h": h.grad, "z": z.grad}
    z.backward()
    assert x.grad == 2 * once["x"] and y.grad == 2 * once["y"]   # leaves accumulate, exactly
    assert h.grad == once["h"] and z.grad == once["z"] == 1.0    # non-leaves start again at 0
    for v in (x, y):
        v.grad = 0.0
    z.backward()
    assert (x.grad, y.grad) == (once["x"], once["y"])
    # Stepping accumulates the same way: x collects this pass's sum, then gets its old grad back.
    steps = z.backward_steps()
    next(steps)
    assert x.grad == 0.0              # z's step reached its children only; x's old grad is set aside
    list(steps)
    assert x.grad == 2 * once["x"] and y.grad == 2 * once["y"]
    # A leaf used as the output accumulates its seed too.
    leaf = Value(2.0)
    leaf.backward()
    leaf.backward()
    assert leaf.grad == 2.0
    # Two different outputs: the leaf collects both.
    w = Value(3.0)
    (w * 2).backward()
    (w * w).backward()
    assert w.grad == 2.0 + 6.0


def test_backward_steps_is_backward_one_node_at_a_time():
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    b = Value(6.0 + math.atanh(1 / math.sqrt(2)), label="b")
    n = x1 * w1 + b
    o = n.tanh()
    n.grad = 99.0                    # stale, must be reset when stepping starts
    steps = o.backward_steps()
    assert n.grad == 99.0            # a generator: nothing happens before the first next()
    first = next(steps)
    assert isinstance(first, BackwardStep) and first.node is o and first.upstream == 1.0
    ((child, local, contribution),) = first.contributions
    assert child is n and local == pytest.approx(0.5) and contribution == pytest.approx(0.5)
    assert n.grad == contribution    # applied before the record is yielded
    rest = list(steps)
    order = o.topological_order()
    assert [s.node for s in [first] + rest] == order[::-1]
    assert all(s.contributions == [] for s in rest if s.node.op == "")
    stepped = [v.grad for v in order]
    for v in (x1, w1, b):
        v.grad = 0.0
    o.backward()
    assert [v.grad for v in order] == stepped


# --- the deep chain -----------------------------------------------------------------------------------

def chain(n):
    x = Value(1.0, label="x")
    v = x
    # The graph has no cycles, so the cyclic garbage collector has nothing to find; switched
    # off, it stops rescanning millions of young objects and building takes a third of the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(n):
            v = v * 1.0000001
    finally:
        if enabled:
            gc.enable()
    return x, v


def timed_backward(root):
    """CPU seconds of root.backward(): less at the mercy of other processes than wall time."""
    start = time.process_time()
    root.backward()
    return time.process_time() - start


def test_backward_on_a_chain_of_a_million_nodes_is_iterative_and_linear():
    x, v = chain(100_000)
    small = min(timed_backward(v) for _ in range(2))
    x, v = chain(1_000_000)
    big = timed_backward(v)
    # x.grad multiplies the same million local derivatives 1.0000001 in the same order as the
    # forward pass did (starting from x = 1), so it equals v.data exactly; both are about e^0.1.
    assert x.grad == v.data == pytest.approx(1.0000001 ** 1_000_000, rel=1e-9)
    assert len(v.topological_order()) == 2_000_001   # a product node and a constant per step
    assert big < 10.0, f"backward on 2e6 nodes took {big:.1f} s of CPU time"
    assert big < 40 * small, f"10x the nodes took {big / small:.0f}x the time: not linear"


# --- numerics -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [1e4, -1e4, 800.0, -800.0])
def test_tanh_and_sigmoid_stay_finite_for_large_inputs(x):
    for f in (Value.tanh, Value.sigmoid):
        v = Value(x)
        out = f(v)
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad) and v.grad == 0.0
    assert Value(x).sigmoid().data == (1.0 if x > 0 else 0.0)
    # exp(-700) is far below 1e-300 and still exact to rounding: no 1 - (1 - tiny) loss.
    assert Value(-700.0).sigmoid().data == pytest.approx(math.exp(-700.0), rel=1e-15)


def test_overflow_gives_inf_not_an_exception():
    big = Value(1000.0)
    e = big.exp()
    e.backward()
    assert e.data == math.inf and big.grad == math.inf
    assert math.isfinite(Value(709.0).exp().data)
    assert (Value(1e200) ** 2).data == math.inf and (Value(-1e200) ** 3).data == -math.inf
    root = Value(0.0) ** 0.5
    assert root.data == 0.0 and root.local_grads == (math.inf,)  # d sqrt(x)/dx at 0


# --- finite differences (hypothesis) ------------------------------------------------------------------

BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "linear": lambda a, b: linear([a, b], [b, 1.5], a),
}
UNARY = {
    "neg": (lambda a: -a, signed()), "exp": (lambda a: a.exp(), floats(-3, 3)),
    "log": (lambda a: a.log(), floats(0.2, 5)), "tanh": (lambda a: a.tanh(), floats(-3, 3)),
    "sigmoid": (lambda a: a.sigmoid(), floats(-4, 4)), "relu": (lambda a: a.relu(), signed(0.1, 3)),
    "**2": (lambda a: a ** 2, signed()), "**3": (lambda a: a ** 3, signed()),
    "**-2": (lambda a: a ** -2, signed()), "**0.5": (lambda a: a ** 0.5, floats(0.5, 3)),
    "**1.5": (lambda a: a ** 1.5, floats(0.5, 3)),
    "2 - a": (lambda a: 2 - a, signed()), "3 / a": (lambda a: 3 / a, signed()),
    "2 * a + 1": (lambda a: 2 * a + 1, signed()),
}


@FAST
@given(op=st.sampled_from(sorted(BINARY)), a=signed(), b=signed())
def test_binary_ops_match_finite_differences(op, a, b):
    f = BINARY[op]
    assert rel_error(grads_of(f, [a, b]), fd_grads(f, [a, b])) < 1e-7


@FAST
@given(data=st.data(), op=st.sampled_from(sorted(UNARY)))
def test_unary_ops_match_finite_differences(data, op):
    f, values = UNARY[op]
    a = data.draw(values)
    assert rel_error(grads_of(f, [a]), fd_grads(f, [a])) < 1e-7


def composite(a, b, c, lin):
    """Every operation once: + - * / **k neg exp log tanh sigmoid relu linear, reflected forms too."""
    d = a * b + 2.0 - c / 3.0
    e = (1.5 - d).tanh() * (0.5 * a).sigmoid()
    f = (b ** 2 + 1.0).log() + (-c).exp() / (1.0 + a ** 4)
    g = (c - 0.3).relu() + 2.0 / (1.0 + e ** 2)
    h = lin([a, b, c], [e, f, g], d)
    return (h * h + 1.0) ** 1.5 - 4 * h


def value_linear(ws, xs, b):
    return linear(ws, xs, b)


@FAST
@given(a=signed(), b=signed(), c=signed())
def test_composite_expression_matches_finite_differences(a, b, c):
    def f(*v):
        return composite(*v, value_linear)
    assert rel_error(grads_of(f, [a, b, c]), fd_grads(f, [a, b, c])) < 1e-7


# --- properties on random graphs ----------------------------------------------------------------------

OPS = ["+", "-", "*", "tanh", "sigmoid", "linear"]


@st.composite
def recipes(draw):
    """Leaf values and a list of (op, i, j): node k applies op to earlier nodes i and j."""
    leaves = draw(st.lists(signed(), min_size=1, max_size=4))
    steps = []
    # At most 8 steps: repeated squaring of 2 stays finite (2**256), so gradients do too.
    for k in range(draw(st.integers(1, 8))):
        n = len(leaves) + k
        steps.append((draw(st.sampled_from(OPS)), draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
    return leaves, steps


def build(leaves, steps, lin=value_linear):
    nodes = list(leaves)
    for op, i, j in steps:
        a, b = nodes[i], nodes[j]
        nodes.append({"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                      "tanh": lambda: a.tanh(), "sigmoid": lambda: (a - b).sigmoid(),
                      "linear": lambda: lin([a, b], [b, a], a)}[op]())
    return nodes[-1]


@FAST
@given(recipe=recipes())
def test_random_graphs_order_and_stepping(recipe):
    values, steps = recipe
    leaves = [Value(v) for v in values]
    root = build(leaves, steps)
    order = root.topological_order()
    assert [id(v) for v in order] == [id(v) for v in reference_order(root)]
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(c)] < position[id(v)] for v in order for c in v.children)
    root.backward()
    backward = [v.grad for v in order]
    for leaf in leaves:
        leaf.grad = 0.0
    for _ in root.backward_steps():
        pass
    assert [v.grad for v in order] == backward  # the same arithmetic, bit for bit


@FAST
@given(w=st.lists(signed(), min_size=1, max_size=8), data=st.data())
def test_linear_matches_the_chain_of_products_and_sums(w, data):
    x = data.draw(st.lists(signed(), min_size=len(w), max_size=len(w)))
    b = data.draw(signed())
    ws, xs, bias = [Value(v) for v in w], [Value(v) for v in x], Value(b)
    fused = linear(ws, xs, bias)
    fused.backward()
    fused_grads = [v.grad for v in ws + xs + [bias]]
    ws, xs, bias = [Value(v) for v in w], [Value(v) for v in x], Value(b)
    chained = bias
    for wi, xi in zip(ws, xs):
        chained = chained + wi * xi
    chained.backward()
    assert fused.data == pytest.approx(chained.data, rel=1e-12, abs=1e-12)
    assert fused_grads == [v.grad for v in ws + xs + [bias]]  # exactly: x_i, w_i and 1 either way


# --- PyTorch parity -------------------------------------------------------------------------------------

def test_matches_pytorch_on_every_operation():
    torch = pytest.importorskip("torch")

    def torch_linear(ws, xs, b):
        out = b  # b + w1 x1 + w2 x2 + ..., added in engine.linear's order
        for w, x in zip(ws, xs):
            out = out + w * x
        return out

    rng = np.random.default_rng(0)
    for a, b, c in [(0.7, -1.2, 0.9), (-1.5, 0.4, -0.6), *rng.uniform(-2, 2, size=(5, 3)).tolist()]:
        leaves = [Value(v) for v in (a, b, c)]
        out = composite(*leaves, value_linear)
        out.backward()
        tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b, c)]
        ref = composite(*tensors, torch_linear)
        ref.backward()
        assert out.data == pytest.approx(ref.item(), rel=1e-10)
        for v, t in zip(leaves, tensors):
            assert v.grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-12)


def test_matches_pytorch_on_random_graphs():
    torch = pytest.importorskip("torch")

    def torch_linear(ws, xs, b):
        out = b  # b + w1 x1 + w2 x2 + ..., added in engine.linear's order
        for w, x in zip(ws, xs):
            out = out + w * x
        return out

    @settings(max_examples=25, deadline=None)
    @given(recipe=recipes())
    def check(recipe):
        values, steps = recipe
        leaves = [Value(v) for v in values]
        build(leaves, steps).backward()
        tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
        root = build(tensors, steps, torch_linear)
        if root.requires_grad:
            root.backward()
        for v, t in zip(leaves, tensors):
            ref = 0.0 if t.grad is None else t.grad.item()
            assert v.grad == pytest.approx(ref, rel=1e-10, abs=1e-12)

    check()


# --- bad input -------------------------------------------------------------------------------------------

def test_bad_inputs_are_refused_with_a_clear_message():
    v = Value(2.0)
    with pytest.raises(TypeError, match=r"^Value expected data to be a real number, got 'x'$"):
        Value("x")
    with pytest.raises(TypeError, match=r"^Value expected data to be a real number, got True$"):
        Value(True)
    with pytest.raises(TypeError, match=r"Value expected data to be a real number, got None"):
        Value(None)
    with pytest.raises(TypeError, match=r"Value expected data to be a real number, got list of length 1"):
        Value([1.0])
    with pytest.raises(ValueError, match=r"Value expected data to be a real number \(finite or ±inf\), got nan"):
        Value(float("nan"))
    with pytest.raises(ValueError, match=r"Value expected data to fit in a float"):
        Value(10 ** 400)
    with pytest.raises(TypeError, match=r"Value expected label to be a str, got 3"):
        Value(1.0, label=3)
    with pytest.raises(ValueError, match=r"one local gradient per child .* got 1 children, 0 local"):
        Value(1.0, _children=(v,), _op="f")
    with pytest.raises(TypeError, match=r"Value \*\* expected a constant exponent \(int or float\), "
                                        r"got Value\(data=2.0, grad=0.0\); for a variable exponent"):
        v ** Value(2.0)
    with pytest.raises(TypeError, match=r"Value \*\* expected a constant exponent \(int or float\), got '2'"):
        v ** "2"
    with pytest.raises(ValueError, match=r"Value \*\* expected a finite exponent, got inf"):
        v ** math.inf
    with pytest.raises(ValueError, match=r"Value \*\* 0.5 expected a non-negative base for a non-integer "
                                         r"exponent, got -8.0"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match=r"Value \*\* -1 divides by zero: the base is 0.0"):
        Value(0.0) ** -1
    with pytest.raises(TypeError, match=r"number \*\* Value is not supported"):
        2 ** v
    with pytest.raises(ValueError, match=r"^Value.log expected a positive value, got 0.0$"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"^Value.log expected a positive value, got -3.0$"):
        Value(-3.0).log()
    with pytest.raises(ZeroDivisionError, match=r"Value / divides by zero: the denominator is 0.0 \(numerator 2.0\)"):
        v / Value(0.0)
    with pytest.raises(TypeError, match=r"Value \+ expected other to be a Value or a real number, got 'a'"):
        v + "a"
    with pytest.raises(TypeError, match=r"Value \+ expected other to be a Value or a real number, got 'a'"):
        "a" + v
    with pytest.raises(TypeError, match=r"Value \* expected other to be a Value or a real number, got True"):
        v * True
    with pytest.raises(TypeError, match=r"Value - expected other to be a Value or a real number, got None"):
        v - None
    with pytest.raises(ValueError, match=r"Value expected data to be a real number \(finite or ±inf\), got nan"):
        v / float("nan")


def test_linear_bad_inputs():
    v = Value(1.0)
    with pytest.raises(ValueError, match=r"linear expected inputs of length 2 \(one per weight\), got 1"):
        linear([v, v], [v], v)
    with pytest.raises(ValueError, match=r"linear expected at least one weight, got an empty list"):
        linear([], [], v)
    with pytest.raises(TypeError, match=r"linear expected weights to be a list of Values or numbers, got 2.0"):
        linear(2.0, [v], v)
    with pytest.raises(TypeError, match=r"linear expected inputs\[1\] to be a Value or a real number, got 'x'"):
        linear([v, v], [v, "x"], v)
    with pytest.raises(TypeError, match=r"linear expected bias to be a Value or a real number, got None"):
        linear([v], [v], None)


# --- max: a router of gradient ------------------------------------------------------------------------------

def test_max_routes_the_whole_gradient_to_the_larger_operand():
    a, b = Value(2.0), Value(-1.0)
    out = a.max(b) * 3.0          # d/da = 3 (a wins), d/db = 0
    out.backward()
    assert (out.data, a.grad, b.grad) == (6.0, 3.0, 0.0)
    c, d = Value(-4.0), Value(0.5)
    m = c.max(d)
    assert (m.op, m.children, m.local_grads) == ("max", (c, d), (0.0, 1.0))


def test_max_splits_a_tie_in_halves_and_a_reused_operand_gets_it_once():
    a, b = Value(1.5), Value(1.5)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)       # the central difference's slope on either side
    x = Value(-0.25)
    y = x.max(x)
    y.backward()
    assert (y.data, x.grad) == (-0.25, 1.0)     # max(x, x) = x: two halves make dy/dx = 1


def test_max_with_a_number_and_the_hinge_loss():
    s = Value(0.3)
    hinge = (1 - 2.0 * s).max(0)                # 1 - 0.6 = 0.4 > 0: the margin term is active
    hinge.backward()
    assert hinge.data == pytest.approx(0.4) and s.grad == -2.0
    s2 = Value(0.8)
    (1 - 2.0 * s2).max(0.0).backward()          # 1 - 1.6 < 0: the constant 0 wins, nothing flows back
    assert s2.grad == 0.0
    with pytest.raises(TypeError, match=r"^Value.max expected other to be a Value or a real number, got 'x'$"):
        Value(1.0).max("x")


@FAST
@given(a=floats(-3, 3), b=floats(-3, 3))
def test_max_matches_central_differences_off_ties(a, b):
    if abs(a - b) < 1e-3:
        return
    va, vb = Value(a), Value(b)
    va.max(vb).backward()
    h = 1e-6
    assert va.grad == pytest.approx((max(a + h, b) - max(a - h, b)) / (2 * h), abs=1e-6)
    assert vb.grad == pytest.approx((max(a, b + h) - max(a, b - h)) / (2 * h), abs=1e-6)


def test_max_matches_torch_maximum_including_ties():
    torch = pytest.importorskip("torch")
    for a, b in [(0.7, -1.2), (-1.5, 0.4), (2.0, 2.0), (-0.0, 0.0)]:
        va, vb = Value(a), Value(b)
        (va.max(vb) * va).backward()
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        (torch.maximum(ta, tb) * ta).backward()
        assert (va.grad, vb.grad) == pytest.approx((ta.grad.item(), tb.grad.item()), abs=1e-15)
