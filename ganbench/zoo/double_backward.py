"""Convolution, (leaky) ReLU and average pooling whose gradients are cheap to differentiate again, for D's
gradient penalties.

A gradient penalty (WGAN-GP, DRAGAN, R1) differentiates D's input gradient once more. PyTorch's own second
derivatives cost more than they need to on a CPU:

- a convolution's (``_convolution_double_backward``) computes the weight's term as a convolution of the transposed
  input with the transposed output gradient, at about 40% of the backward-weights kernel's speed, after copying both
  operands to transpose them (``scripts/profile_step.py --model pggan --width 16 --top 30``: the
  ``[32, 64, 32, 32] x [32, 64, 32, 32]`` convolutions and copies);
- a leaky ReLU's returns, for the derivative of its slope mask, a tensor of zeros, which autograd fills, adds and
  carries back through D's whole forward graph (a second backward pass of D that multiplies zeros); so does an
  average pooling's, for its input (read for its shape alone).

Here each first-order gradient is itself an autograd Function on the kernels of the forward and the backward
(``aten.convolution_backward`` with one output asked for), so every order runs on the fast kernels; and the mask's
derivative is None (and the pooling's in its input), which is exact (it is zero wherever it exists, and PyTorch
returns zeros at 0 too) and lets autograd skip D's forward graph unless something else there has a second
derivative (batch or layer norm, the minibatch stddev). The identities used, for y = conv(x, w) and L's gradients ``gy``, ``gx``, ``gw``:

    gx = conv_backward_input(gy, w)          d<gg, gx>/dgy = conv(gg, w)    d<gg, gx>/dw = conv_backward_weight(gy, gg)
    gw = conv_backward_weight(gy, x)         d<gg, gw>/dgy = conv(x, gg)    d<gg, gw>/dx = conv_backward_input(gy, gg)

A plain backward (no ``create_graph``) calls exactly PyTorch's kernels, so ordinary training steps give the same
numbers bit for bit; second derivatives agree with PyTorch's to float noise (``tests/zoo/test_double_backward.py``:
``gradgradcheck`` in float64, and the penalty's gradients on the nets' critics against PyTorch's own).

``Conv2d`` and ``LeakyReLU`` are drop-in ``nn`` modules (the same parameters and state dict). ``native()`` makes
these ops PyTorch's own (``F.conv2d``, ``F.leaky_relu``, ...) within a block (``GANModel(fast=False)``, ``scripts/bench_pggan.py
--before``); ``input_gradients_only()`` tells the convolutions' backward that only the input's gradient is wanted (a
penalty's first pass asks ``autograd.grad`` for it alone; a Function cannot see that, PyTorch's own ops can).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd import Function

_forward = threading.local()  # read where the graph is built: the thread that runs the forward
_inputs_only = [0]  # read in backward, which autograd runs on a device's own thread on CUDA: process-wide


def _native() -> bool:
    return getattr(_forward, "native", False)


@contextlib.contextmanager
def native(on: bool = True) -> Iterator[None]:
    """Within the block (when ``on``), ``conv2d``, ``leaky_relu``, ``relu`` and ``avg_pool2d`` are PyTorch's own ops
    (graphs built there keep PyTorch's second derivatives)."""
    before = _native()
    _forward.native = on
    try:
        yield
    finally:
        _forward.native = before


@contextlib.contextmanager
def input_gradients_only() -> Iterator[None]:
    """Within the block, the convolutions' backward computes no weight or bias gradients: for an ``autograd.grad``
    that asks for inputs' gradients alone. Process-wide while it lasts (ganbench trains one model per process)."""
    _inputs_only[0] += 1
    try:
        yield
    finally:
        _inputs_only[0] -= 1


class _Geometry(NamedTuple):
    stride: tuple[int, int]
    padding: tuple[int, int]


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _backward(gy: Tensor, x: Tensor, w: Tensor, geo: _Geometry, mask: list[bool], bias: bool = False):
    """PyTorch's convolution backward kernel: (grad input, grad weight, grad bias), those not in ``mask`` None."""
    return torch.ops.aten.convolution_backward(gy, x, w, [w.shape[0]] if bias else None, list(geo.stride),
                                               list(geo.padding), [1, 1], False, [0, 0], 1, mask)


class _Conv2d(Function):
    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, b: Tensor | None, geo: _Geometry) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.geo, ctx.has_bias = geo, b is not None
        ctx.set_materialize_grads(False)  # no gradient in: none out (not a pass over zeros)
        return F.conv2d(x, w, b, geo.stride, geo.padding)

    @staticmethod
    def backward(ctx, gy: Tensor | None):
        if gy is None:
            return None, None, None, None
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if _inputs_only[0]:
            need_w = need_b = False
        need_b = need_b and ctx.has_bias
        if not torch.is_grad_enabled():  # a plain backward: PyTorch's kernel, one call
            gx, gw, gb = _backward(gy, x, w, ctx.geo, [need_x, need_w, need_b], bias=ctx.has_bias)
            return gx, gw, gb, None
        gx = _ConvGrad.apply(gy, w, x.detach(), ctx.geo, "input") if need_x else None
        gw = _ConvGrad.apply(gy, x, w.detach(), ctx.geo, "weight") if need_w else None
        gb = gy.sum(dim=(0, 2, 3)) if need_b else None
        return gx, gw, gb, None


class _ConvGrad(Function):
    """A convolution's first-order gradient ``of`` its input, gx = conv_backward_input(gy, w), or ``of`` its weight,
    gw = conv_backward_weight(gy, x); ``other`` is the operand it is taken with (w, or x) and ``like`` the one it has
    the shape and layout of. Its own gradient, in gy and in ``other``, is a convolution and the other gradient."""

    @staticmethod
    def forward(ctx, gy: Tensor, other: Tensor, like: Tensor, geo: _Geometry, of: str) -> Tensor:
        ctx.save_for_backward(gy, other)
        ctx.geo, ctx.of = geo, of
        ctx.set_materialize_grads(False)
        if of == "input":
            return _backward(gy, like, other, geo, [True, False, False])[0]
        return _backward(gy, other, like, geo, [False, True, False])[1]

    @staticmethod
    def backward(ctx, gg: Tensor | None):
        if gg is None:
            return None, None, None, None, None
        gy, other = ctx.saved_tensors
        x, w = (gg, other) if ctx.of == "input" else (other, gg)
        d_gy = _Conv2d.apply(x, w, None, ctx.geo) if ctx.needs_input_grad[0] else None
        d_other = (_ConvGrad.apply(gy, gg, other.detach(), ctx.geo, "weight" if ctx.of == "input" else "input")
                   if ctx.needs_input_grad[1] else None)
        return d_gy, d_other, None, None, None


class _LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x: Tensor, slope: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.slope = slope
        ctx.set_materialize_grads(False)
        return F.leaky_relu(x, slope) if slope else F.relu(x)

    @staticmethod
    def backward(ctx, gy: Tensor | None):
        if gy is None:
            return None, None
        (x,) = ctx.saved_tensors
        # x detached: the gradient's derivative in x is zero, and an edge to x would make autograd walk D's forward
        # graph with zeros
        return _LeakyReLUGrad.apply(gy, x.detach(), ctx.slope), None


class _LeakyReLUGrad(Function):
    """gx = gy * (1 if x > 0 else slope): linear in gy; its derivative in x is zero (None: nothing to carry back)."""

    @staticmethod
    def forward(ctx, gy: Tensor, x: Tensor, slope: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.slope = slope
        ctx.set_materialize_grads(False)
        return torch.ops.aten.leaky_relu_backward(gy, x, slope, False)

    @staticmethod
    def backward(ctx, gg: Tensor | None):
        if gg is None:
            return None, None, None
        (x,) = ctx.saved_tensors
        return _LeakyReLUGrad.apply(gg, x, ctx.slope), None, None


class _AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x: Tensor, k: int) -> Tensor:
        ctx.save_for_backward(x)
        ctx.k = k
        ctx.set_materialize_grads(False)
        return F.avg_pool2d(x, k)

    @staticmethod
    def backward(ctx, gy: Tensor | None):
        if gy is None:
            return None, None
        (x,) = ctx.saved_tensors
        return _AvgPool2dGrad.apply(gy, x.detach(), ctx.k), None


class _AvgPool2dGrad(Function):
    """gx = avg_pool2d_backward(gy): linear in gy; x only gives gx its shape (PyTorch's derivative in x is a tensor
    of zeros, carried back through D's forward graph like the leaky ReLU's)."""

    @staticmethod
    def forward(ctx, gy: Tensor, x_like: Tensor, k: int) -> Tensor:
        ctx.k = k
        ctx.set_materialize_grads(False)
        return torch.ops.aten.avg_pool2d_backward(gy, x_like, [k, k], [k, k], [0, 0], False, True, None)

    @staticmethod
    def backward(ctx, gg: Tensor | None):
        if gg is None:
            return None, None, None
        return _AvgPool2d.apply(gg, ctx.k), None, None


def _autocast(*tensors: Tensor | None) -> list[Tensor | None]:
    """The tensors in autocast's dtype where it is on (as ``F.conv2d`` would cast them), so that every order of the
    gradient sees one dtype."""
    device = next(t for t in tensors if t is not None).device.type
    if not torch.is_autocast_enabled(device):
        return list(tensors)
    dtype = torch.get_autocast_dtype(device)
    return [None if t is None else t.to(dtype) for t in tensors]


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0) -> Tensor:
    """``F.conv2d`` (groups 1, dilation 1, zero padding) with cheap higher-order gradients."""
    if _native():
        return F.conv2d(x, weight, bias, stride, padding)
    x, weight, bias = _autocast(x, weight, bias)
    return _Conv2d.apply(x, weight, bias, _Geometry(_pair(stride), _pair(padding)))


def leaky_relu(x: Tensor, slope: float) -> Tensor:
    """``F.leaky_relu`` with a second derivative that carries nothing back (it is zero)."""
    if _native():
        return F.leaky_relu(x, slope)
    return _LeakyReLU.apply(x, slope)


def relu(x: Tensor) -> Tensor:
    """``F.relu``, the leaky ReLU of slope 0, with the same second derivative."""
    if _native():
        return F.relu(x)
    return _LeakyReLU.apply(x, 0.0)


def avg_pool2d(x: Tensor, k: int) -> Tensor:
    """``F.avg_pool2d(x, k)`` (stride k, no padding) whose gradient's derivative carries nothing back to x."""
    if _native():
        return F.avg_pool2d(x, k)
    return _AvgPool2d.apply(x, k)


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` (groups 1, dilation 1, zero padding) on ``conv2d``: the same parameters and state dict."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.groups != 1 or self.dilation != (1, 1) or self.padding_mode != "zeros" or isinstance(self.padding, str):
            raise ValueError("double_backward.Conv2d supports groups 1, dilation 1 and numeric zero padding only")

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)


class LeakyReLU(nn.LeakyReLU):
    """``nn.LeakyReLU`` on ``leaky_relu`` (not in place)."""

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)
