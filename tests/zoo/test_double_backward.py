"""zoo.double_backward: convolution and (leaky) ReLU with cheap higher-order gradients give PyTorch's derivatives.

Checked three ways: finite differences in float64 (``gradcheck``/``gradgradcheck``, first and second order); the
gradient penalty's value and D's parameter gradients against PyTorch's own ops on the nets that use them (the
pggan, DCGAN, Lucic, MLP and ResNet D, with and without a norm that has a second derivative of its own); and a plain
backward giving PyTorch's first-order gradients bit for bit. Training with them against ``fast=False`` (PyTorch's ops) is
``tests/zoo/test_fast_path.py`` (lucic-wgan-gp, lucic-dragan) and ``tests/zoo/test_pggan.py``.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganbench.config import ArchSpec
from ganbench.zoo import double_backward as db
from ganbench.zoo.nets import build_nets
from ganbench.zoo.nets.pggan import PGDiscriminator
from ganbench.zoo.regularizers import _grad_norm


@pytest.mark.parametrize("stride,padding,kernel,bias", [(1, 1, 3, True), (2, 1, 4, True), (1, 0, 1, False),
                                                         (2, 0, 3, False)])
def test_conv2d_first_and_second_derivatives_match_finite_differences(stride, padding, kernel, bias):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(4, 3, kernel, kernel, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, generator=g, requires_grad=True) if bias else None
    inputs = (x, w, b) if bias else (x, w)

    def f(*t):
        return db.conv2d(t[0], t[1], t[2] if bias else None, stride, padding)

    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs)
    # and the value is F.conv2d's
    assert torch.equal(f(*inputs), F.conv2d(x, w, b, stride, padding))


def test_leaky_relu_first_and_second_derivatives_match_finite_differences():
    x = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = (x + 0.1 * x.sign()).requires_grad_(True)  # away from the kink, where finite differences break
    assert torch.autograd.gradcheck(lambda t: db.leaky_relu(t, 0.2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: db.leaky_relu(t, 0.2), (x,))
    assert torch.equal(db.leaky_relu(x, 0.2), F.leaky_relu(x, 0.2))
    assert torch.autograd.gradgradcheck(db.relu, (x,))
    assert torch.equal(db.relu(x), F.relu(x))


def test_avg_pool_first_and_second_derivatives_match_finite_differences():
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(7), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: db.avg_pool2d(t, 2), (x,))
    assert torch.autograd.gradgradcheck(lambda t: db.avg_pool2d(t, 2), (x,))
    assert torch.equal(db.avg_pool2d(x, 3), F.avg_pool2d(x, 3))


def test_a_piecewise_linear_critics_penalty_never_walks_its_forward_graph():
    """A ResNet D (convolutions, ReLUs, average pooling, sums): the penalty's second pass needs no input gradient of
    any convolution (PyTorch's own ops carry zeros back through all of them: 10 at width 4)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class InputGradients(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket is torch.ops.aten.convolution_backward and args[-1][0]:
                InputGradients.calls += 1
            return func(*args, **(kwargs or {}))

    D = build_nets(ArchSpec(name="resnet", width=4), (1, 32, 32), seed=0)[1]
    counts = {}
    for native in (True, False):
        with db.native(native):
            value = ((_grad_norm(D, torch.randn(4, 1, 32, 32)) - 1.0) ** 2).mean()
        InputGradients.calls = 0
        with InputGradients():
            value.backward()
        counts[native] = InputGradients.calls
    assert counts == {True: 10, False: 0}


def test_a_third_derivative_through_the_gradients_of_a_conv_stack():
    """The gradients are closed under differentiation: third order by finite differences too."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, generator=g, requires_grad=True)
    w1 = torch.randn(3, 2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    w2 = torch.randn(1, 3, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)

    def grad_of_x(x, w1, w2):
        y = db.conv2d(torch.tanh(db.conv2d(x, w1, padding=1)), w2, padding=1)
        (gx,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
        return gx

    assert torch.autograd.gradgradcheck(grad_of_x, (x, w1, w2))


def _penalty_grads(D: nn.Module, x: torch.Tensor, native: bool):
    """WGAN-GP's penalty on D at ``x`` (unit target) and D's parameter gradients, with PyTorch's ops or these."""
    with db.native(native):
        value = ((_grad_norm(D, x) - 1.0) ** 2).mean()
    D.zero_grad(set_to_none=True)
    value.backward()
    return value.detach(), {n: p.grad.clone() if p.grad is not None else torch.zeros_like(p)
                            for n, p in D.named_parameters()}


def _pggan_d_mid_fade_in():
    D = PGDiscriminator(1, 32, 32)
    torch.manual_seed(3)
    for p in D.parameters():  # the official init leaves biases at 0; random biases exercise their gradients too
        p.data.normal_()
    D.set_phase(16, 0.5)  # both fade-in paths and the minibatch stddev
    return D.to(memory_format=torch.channels_last)


@pytest.mark.parametrize("make,shape", [
    (_pggan_d_mid_fade_in, (1, 32, 32)),
    (lambda: build_nets(ArchSpec(name="dcgan", variant="infogan", width=8, d_norm="none"), (1, 28, 28), seed=0)[1],
     (1, 28, 28)),
    (lambda: build_nets(ArchSpec(name="dcgan", width=8, d_norm="layer"), (1, 32, 32), seed=0)[1], (1, 32, 32)),
    (lambda: build_nets(ArchSpec(name="mlp", width=8), (1, 28, 28), seed=0)[1], (1, 28, 28)),
    (lambda: build_nets(ArchSpec(name="resnet", width=4), (1, 32, 32), seed=0)[1], (1, 32, 32)),
], ids=["pggan", "lucic-infogan-d", "dcgan-d-layer-norm", "mlp-d", "resnet-d"])
def test_penalty_gradients_equal_pytorchs_own(make, shape):
    D = make()
    x = torch.randn(8, *shape, generator=torch.Generator().manual_seed(4)).contiguous(
        memory_format=torch.channels_last)
    ref_value, ref = _penalty_grads(D, x, native=True)
    value, got = _penalty_grads(D, x, native=False)
    assert value.item() == pytest.approx(ref_value.item(), rel=1e-6)
    scale = max(g.abs().max().item() for g in ref.values())
    assert scale > 0
    for name in ref:  # float noise against the largest gradient of the net (biases before a norm get ~0)
        assert (got[name] - ref[name]).abs().max().item() <= 1e-5 * scale, name


def test_a_plain_backward_is_pytorchs_bit_for_bit():
    D = build_nets(ArchSpec(name="dcgan", width=8, d_norm="none"), (1, 32, 32), seed=0)[1]
    x = torch.randn(8, 1, 32, 32, generator=torch.Generator().manual_seed(5), requires_grad=True)
    grads = {}
    for native in (True, False):
        with db.native(native):
            out = D(x)
        D.zero_grad(set_to_none=True)
        x.grad = None
        out.square().sum().backward()
        grads[native] = [x.grad.clone()] + [p.grad.clone() for p in D.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(grads[True], grads[False]))


def test_native_builds_pytorchs_graph_and_input_gradients_only_skips_the_weights():
    conv = db.Conv2d(2, 3, 3, 1, 1)
    x = torch.randn(2, 2, 6, 6, requires_grad=True)
    with db.native():
        assert type(conv(x).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(conv(x).grad_fn).__name__ != "ConvolutionBackward0"
    (reference,) = torch.autograd.grad(F.conv2d(x, conv.weight, conv.bias, 1, 1).sum(), x)
    with db.input_gradients_only():
        conv(x).sum().backward()
    assert torch.equal(x.grad, reference)
    assert conv.weight.grad is None and conv.bias.grad is None
    conv(x).sum().backward()  # outside the block the weights get theirs
    assert conv.weight.grad is not None and conv.bias.grad is not None


def test_the_modules_keep_nn_parameters_and_refuse_what_they_do_not_implement():
    assert db.Conv2d(2, 3, 4, 2, 1).state_dict().keys() == nn.Conv2d(2, 3, 4, 2, 1).state_dict().keys()
    assert isinstance(db.Conv2d(2, 3, 1), nn.Conv2d) and isinstance(db.LeakyReLU(0.2), nn.LeakyReLU)
    for bad in ({"groups": 1 + 1}, {"dilation": 2}, {"padding_mode": "reflect"}, {"padding": "same"}):
        with pytest.raises(ValueError, match="groups 1, dilation 1"):
            db.Conv2d(2, 4, 3, **bad)


def test_under_bfloat16_autocast_every_order_runs_in_one_dtype():
    D = _pggan_d_mid_fade_in()
    x = torch.randn(8, 1, 32, 32, generator=torch.Generator().manual_seed(6))
    values = {}
    for native in (True, False):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            values[native], _ = _penalty_grads(D, x, native)
    assert values[False].item() == pytest.approx(values[True].item(), rel=2e-2)


def test_input_gradients_only_reaches_a_backward_on_another_thread():
    """On CUDA autograd runs a backward on the device's own thread: the block holds for the whole process."""
    import threading

    conv = db.Conv2d(2, 3, 3, 1, 1)
    x = torch.randn(2, 2, 6, 6, requires_grad=True)
    with db.input_gradients_only():
        worker = threading.Thread(target=lambda: conv(x).sum().backward())
        worker.start()
        worker.join()
    assert x.grad is not None and conv.weight.grad is None and conv.bias.grad is None
