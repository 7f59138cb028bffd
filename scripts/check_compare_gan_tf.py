"""Where compare_gan v1's TensorFlow code and ganbench's torch could differ, measured in TF.

It needs TensorFlow, which ganbench does not: ``python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu``,
then ``/tmp/tf/bin/python scripts/check_compare_gan_tf.py [MODE]``. TF runs in graph mode with TF 1.x's reference
variables, as compare_gan v1 did. Where torch is needed it runs in ganbench's interpreter
(``--ganbench-python``, default .venv/bin/python): torch and TF do not share a process here.

Modes:

- (default) the order of WGAN's clip and Adam step. compare_gan v1's ``WGAN.py`` builds ``d_optim =
  tf.group(adam.minimize(d_loss), clip_D)``, ``clip_D`` the assignments ``p <- clip(p, -c, c)`` of every ``d_``
  variable; ``tf.group`` adds no order between the two, so the executor decides. A critic of the same shape (the
  InfoGAN-style D of ``abstract_gan.py``) is stepped 40 times and, after each step, the largest |weight| / c is
  taken and, per variable, whether the step left weights outside [-c, c] or left them all as they were. With the
  clip after the update (Arjovsky et al. 2017, alg. 1; ganbench's default) every weight ends within [-c, c]; with
  the clip first, each update lands on clipped weights and may go past c by one Adam step (Arjovsky et al.'s
  main.py; ganbench ``tricks.weight_clip_at: before_step``); if the clip's assignment of the old weights is written
  after the update, the update is lost. Which of the step's reads of a weight see it clipped is up to the executor
  too, so the grouped op's gradients match neither order exactly; the weights' bound is the order's signature.
- ``--step [MODEL ...]``: one D step and one G step of each lucic2018 loss at its defaults, in both. ganbench's
  GANModel steps and hands over its initial weights, batch, each G forward's z and the penalties' draws; TF builds
  compare_gan's InfoGAN nets (abstract_gan.py ``generator`` / ``discriminator``; ops.py ``linear``, ``conv2d``,
  ``deconv2d`` and ``batch_norm`` as tf.contrib.layers.batch_norm computes it: non-fused, decay 0.999, eps 1e-3,
  moving averages updated in place), the losses and penalties of GAN.py, LSGAN.py, WGAN.py, WGAN_GP.py and
  DRAGAN.py, and TF's Adam, from those weights, and takes the same steps. Printed: both losses, each tensor's
  update (TF's over torch's) and G's eval-mode samples after the steps.
- ``--adam``: TF's AdamOptimizer adds epsilon to sqrt(v) before the bias correction ("epsilon hat"),
  torch.optim.Adam to the bias-corrected sqrt(v_hat). Fixed gradients are stepped three times in TF and set beside
  both closed forms.
- ``--resize``: compare_gan's fid_score.py feeds Inception tfgan's ``preprocess_image`` (TF1's resize_bilinear to
  299x299, then (x - 128) / 128), against ganbench's ``tf1`` resize.
- ``--grad-scale MODEL G_STEPS`` (torch only): G's gradient magnitudes over ganbench's training on Fashion-MNIST,
  which say how long the epsilon hat matters.

Measured with TF 2.21 on this CPU, 2026-12-04:

- Clip order (40 steps, inter-op threads 1 / 2 / 16; the schedule varies run to run): the grouped op's weights go
  past c by about one Adam step, as with the clip before each step and never as with it after: mean max |w| / c
  over steps 10-40 of 23.2 / 15.4 / 17.1 (before 13.7, after 1.00) at lr 1e-2, c 1e-3; 1.19 / 1.23 / 1.17 (before
  1.19, after 1.00) at lr 1e-3, c 1e-2; 1.01 (before 1.01, after 1.00) at compare_gan's default lr 5e-5, c 1e-2.
  Every kernel's steps left weights outside [-c, c] in 100% of steps but for one or two per run; some tensors (a
  bias, and in one run d_conv2_w or d_fc3_w) lost their update in 13-50% of steps. ganbench's ``before_step``
  reproduces the order TF ran most often, not the race.
- ``--step``: the D loss, penalties included, agrees to 2e-5 or better (NS 1.4248939 vs 1.4248940, WGAN-GP 9.69454
  vs 9.69470, DRAGAN 8.6901093 vs 8.6901102), the G loss after the D step to 7e-4; per weight tensor, the median
  update ratio TF / torch is 0.984-1.000 for MM, NS, LSGAN and DRAGAN and for WGAN-GP's D, and 0.929-1.000 for
  WGAN's D (d_conv1_b; cause not traced); G's eval-mode samples after the two steps agree to 6e-5. The exception is
  G's first step under WGAN (0.08-0.21) and WGAN-GP (0.75-1.00): their critics pass G gradients of 1e-9 to 1e-6,
  where TF's epsilon hat (31.6 x 1e-8 at step 1) dominates. The biases in front of a batch norm
  (``BEFORE_BATCH_NORM``) have a zero gradient up to float noise, which Adam scales to steps of up to lr in torch
  and about 30x shorter in TF's first steps; such a bias changes no train-mode output, and the moving mean follows
  it.
- ``--adam``: TF's steps equal the epsilon-hat form to 1e-5; torch's form steps 3% further at a gradient of 1e-5
  and 0.03% at 1e-3 in the first steps (TF / torch 0.970 and 0.9997), the gap shrinking as 1/sqrt(1 - beta2^t).
- ``--resize``: ganbench's ``tf1`` resize equals TF1's resize_bilinear exactly (largest difference 0).
- ``--grad-scale lucic-wgan 1000``: G's median |gradient| grows from 1.4e-9 at G step 1 to 5e-7 by step 10 and
  1.1e-6 by step 500, so TF's step at the median is 0.04 / 0.37 / 0.86 / 0.95 / 0.98 / 0.998 of torch's at G
  steps 1 / 5 / 10 / 100 / 200 / 1000: the difference sits in WGAN's first ~100 of its 3,125 G steps.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def build(tf, lr: float, clip: float, batch: int = 64):
    v1 = tf.compat.v1
    init = v1.truncated_normal_initializer(stddev=0.02)  # ops.py: conv2d / linear initialisers

    def layer(h, shape, name, conv):
        w = v1.get_variable(name + "_w", shape, initializer=init)
        b = v1.get_variable(name + "_b", shape[-1:], initializer=v1.zeros_initializer())
        return (tf.nn.conv2d(h, w, [1, 2, 2, 1], "SAME") if conv else tf.matmul(h, w)) + b

    def critic(x, reuse):
        with v1.variable_scope("discriminator", reuse=reuse):
            h = tf.nn.leaky_relu(layer(x, [4, 4, 1, 64], "d_conv1", True), 0.2)
            h = tf.nn.leaky_relu(layer(h, [4, 4, 64, 128], "d_conv2", True), 0.2)
            h = tf.nn.leaky_relu(layer(tf.reshape(h, [batch, -1]), [7 * 7 * 128, 1024], "d_fc3", False), 0.2)
            return layer(h, [1024, 1], "d_fc4", False)

    real = v1.placeholder(tf.float32, [batch, 28, 28, 1])
    fake = v1.placeholder(tf.float32, [batch, 28, 28, 1])
    d_loss = -tf.reduce_mean(critic(real, False)) + tf.reduce_mean(critic(fake, True))  # WGAN.py
    d_vars = [v for v in v1.trainable_variables() if "d_" in v.name]
    adam = v1.train.AdamOptimizer(lr, beta1=0.5).minimize(d_loss, var_list=d_vars)
    clip_d = [p.assign(tf.clip_by_value(p, -clip, clip)) for p in d_vars]  # WGAN.py's clip_D
    return dict(real=real, fake=fake, d_vars=d_vars, adam=adam, grouped=tf.group(*[adam, clip_d]),
                clip_only=tf.group(*clip_d))


def run(tf, order: str, lr: float, clip: float, steps: int, inter_op: int):
    """Per step and variable: did the step leave some weight outside [-c, c] (its update landed on clipped
    weights), leave every weight where it was (the update was lost: the clip of the old weights written after
    it), or neither? And the largest |w| / c after each step."""
    v1 = tf.compat.v1
    v1.reset_default_graph()
    v1.set_random_seed(0)
    g = build(tf, lr, clip)
    rng = np.random.RandomState(0)
    cfg = v1.ConfigProto(inter_op_parallelism_threads=inter_op, intra_op_parallelism_threads=1)
    worst, outcome = [], []
    with v1.Session(config=cfg) as s:
        s.run(v1.global_variables_initializer())
        for _ in range(steps):
            feed = {g["real"]: rng.rand(64, 28, 28, 1), g["fake"]: rng.rand(64, 28, 28, 1) * 0.5}
            w0 = s.run(g["d_vars"])
            if order == "grouped":
                s.run(g["grouped"], feed)
            elif order == "before":
                s.run(g["clip_only"])
                s.run(g["adam"], feed)
            else:
                s.run(g["adam"], feed)
                s.run(g["clip_only"])
            w1 = s.run(g["d_vars"])
            outcome.append(["outside" if np.abs(b).max() > clip * (1 + 1e-6) else "lost" if np.array_equal(a, b)
                            else "inside" for a, b in zip(w0, w1)])
            worst.append(max(float(np.abs(w).max()) for w in w1) / clip)
    names = [v.name.split("/")[-1].split(":")[0] for v in g["d_vars"]]
    return np.array(worst), names, np.array(outcome)


def adam_epsilon(tf, lr: float = 1e-3, beta1: float = 0.5, beta2: float = 0.999, eps: float = 1e-8) -> None:
    """TF's Adam steps on fixed gradients, over each closed form: 1 where the form is TF's."""
    v1 = tf.compat.v1
    v1.reset_default_graph()
    g0 = np.array([1e-9, 1e-7, 1e-5, 1e-3])
    w = v1.get_variable("w", initializer=np.zeros(4))
    step = v1.train.AdamOptimizer(lr, beta1=beta1, beta2=beta2, epsilon=eps).minimize(tf.reduce_sum(w * g0))
    m = v = 0.0
    hat = torch_form = np.zeros(4)
    with v1.Session() as s:
        s.run(v1.global_variables_initializer())
        for t in range(1, 4):
            s.run(step)
            got = s.run(w)
            m, v = beta1 * m + (1 - beta1) * g0, beta2 * v + (1 - beta2) * g0 ** 2
            hat = hat - lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t) * m / (np.sqrt(v) + eps)
            torch_form = torch_form - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
            ratios = " ".join(f"{r:.5f}" for r in got / hat), " ".join(f"{r:.4f}" for r in got / torch_form)
            print(f"step {t}, gradients {' '.join(f'{g:.0e}' for g in g0)}: TF / epsilon-hat form {ratios[0]}; "
                  f"TF / torch's form {ratios[1]}")


#: Biases followed by a batch norm: their gradient is 0 up to float noise, which Adam scales up (see --step).
BEFORE_BATCH_NORM = ("g_fc1_b", "g_fc2_b", "g_dc3_b", "d_conv2_b", "d_fc3_b")
STEP_MODELS = ("lucic-mm", "lucic-ns", "lucic-lsgan", "lucic-wgan", "lucic-wgan-gp", "lucic-dragan")


def torch_side(name: str, out: str) -> None:
    """ganbench's D step and G step of baseline ``name``, written to ``out`` (npz): initial and final weights, the
    batch, each G forward's z, the penalty's draws (torch.rand calls of the batch's and the batch size's shape) and
    the losses."""
    import torch

    from ganbench.zoo.baselines import load_baseline
    from ganbench.zoo.model import GANModel

    torch.set_num_threads(1)
    spec = load_baseline(name)
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0)
    zs, draws, rand = [], {}, torch.rand

    def recording_rand(*size, **kw):
        x = rand(*size, **kw)
        draws.setdefault(tuple(x.shape), x.clone())
        return x
    model.G.register_forward_pre_hook(lambda m, a: zs.append(a[0].detach().clone()))
    real = torch.from_numpy(np.random.RandomState(0).rand(64, 1, 28, 28).astype(np.float32))
    def weights(prefix: str) -> dict:
        return {f"{prefix}{net}.{k}": v.numpy().copy() for net in ("G", "D")
                for k, v in getattr(model, net).state_dict().items()}
    state = weights("")
    gen = torch.Generator().manual_seed(1)
    torch.rand = recording_rand
    try:
        d_logs = model.d_step(real, gen)  # one D step and one G step, whatever the spec's n_critic
        g_logs = model.g_step(gen)
    finally:
        torch.rand = rand
    assert len(zs) == 2
    after = weights("after.")
    model.G.eval()
    with torch.no_grad():
        samples = model.G(zs[0]).numpy()
    t = spec.tricks
    np.savez(out, real=real.numpy(), z_d=zs[0].numpy(), z_g=zs[1].numpy(), samples=samples,
             d_loss=float(d_logs.get("d_total", d_logs["d_loss"])), g_loss=float(g_logs["g_loss"]),
             u=draws.get((64,), torch.zeros(64)).numpy(), noise=draws.get((64, 1, 28, 28), real * 0).numpy(),
             lr=spec.optim_d.lr, beta1=spec.optim_d.betas[0], loss=spec.loss, clip=t.weight_clip,
             gp=t.gradient_penalty, dragan=t.dragan, **state, **after)


def _from_ganbench(ganbench_python: str, args: list[str]) -> dict:
    """Run ``ganbench_python ARGS OUT.npz`` (torch, in ganbench's interpreter) and load what it wrote."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([ganbench_python, *args, f"{tmp}/out.npz"], check=True)
        return dict(np.load(f"{tmp}/out.npz"))


def resize_check(tf, ganbench_python: str) -> None:
    """compare_gan's fid_score.py feeds Inception tfgan's preprocess_image: TF1's resize_bilinear to 299x299
    (align_corners False), then (x - 128) / 128; ganbench's ``tf1`` resize against TF's on random 28x28 images."""
    code = ("import sys, numpy as np, torch; from ganbench.metrics.inception import resize_tf1; "
            "x = np.random.RandomState(0).randint(0, 256, (8, 1, 28, 28)).astype(np.uint8); "
            "np.savez(sys.argv[1], x=x, y=resize_tf1(torch.from_numpy(x)).numpy())")
    d = _from_ganbench(ganbench_python, ["-c", code])
    x = d["x"].transpose(0, 2, 3, 1).astype(np.float32)
    y = tf.compat.v1.image.resize_bilinear(x, [299, 299], align_corners=False)
    with tf.compat.v1.Session() as s:
        y = s.run(y).transpose(0, 3, 1, 2)
    print(f"resize to 299: largest |ganbench tf1 - TF resize_bilinear| {np.abs(y - d['y']).max():.2e} (of 255)")


def grad_scale(name: str, g_steps: int, data_root: str) -> None:
    """How small G's gradients are in ganbench's training of ``name`` on Fashion-MNIST (torch only): where they
    are near TF's effective Adam epsilon (1e-8 / sqrt(1 - 0.999^t)), TF's steps are shorter than torch's."""
    import gzip

    import torch

    from ganbench.zoo.baselines import load_baseline
    from ganbench.zoo.model import GANModel

    torch.set_num_threads(1)
    with gzip.open(f"{data_root}/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 1, 28, 28)[:20_000]
    data = torch.from_numpy(images.astype(np.float32) / 255.0)  # the lucic2018 nets see [0, 1]
    model = GANModel(load_baseline(name), (1, 28, 28), "cpu", seed=0)
    gen, at = torch.Generator().manual_seed(0), [0]

    def next_real():
        at[0] = (at[0] + 64) % (len(data) - 64)
        return data[at[0]:at[0] + 64], None
    marks = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 3000}
    for step in range(1, g_steps + 1):
        model.train_step(next_real, gen)
        if step in marks:
            g = torch.cat([p.grad.abs().flatten() for p in model.G.parameters() if p.grad is not None and p.dim() > 1])
            g = g[torch.randperm(len(g), generator=torch.Generator().manual_seed(0))[:1_000_000]]
            eps_tf = 1e-8 / np.sqrt(1 - 0.999 ** step)
            med = float(g.median())
            print(f"{name} G step {step}: |gradient| of G's weights median {med:.1e}, 10th percentile "
                  f"{float(g.quantile(0.1)):.1e}; TF's effective epsilon {eps_tf:.1e}, so its step at the median is "
                  f"{(med + 1e-8) / (med + eps_tf):.3f} of torch's", flush=True)


def _tf_nets(tf, w: dict, batch: int = 64):
    """compare_gan's InfoGAN G and D (abstract_gan.py), their variables initialised from ganbench's torch weights
    ``w`` (torch layouts: Linear (out, in), Conv2d (out, in, kh, kw), ConvTranspose2d (in, out, kh, kw); torch
    flattens NCHW where TF flattens NHWC, so the FC layer next to a reshape is permuted to match)."""
    v1 = tf.compat.v1
    c, s = 128, 7
    nchw_to_nhwc = np.arange(c * s * s).reshape(c, s, s).transpose(1, 2, 0).ravel()  # TF's index -> torch's
    d_bn = "D.net.3.weight" in w

    def var(name, value):
        return v1.get_variable(name, initializer=np.asarray(value, np.float32))

    def bn(x, is_training, scope, key):
        """tf.contrib.layers.batch_norm(decay=0.999, epsilon=0.001, updates_collections=None, scale=True,
        fused=False): batch moments in training (the moving averages updated before the output), else the
        moving ones."""
        perm = nchw_to_nhwc if key == "G.fc.4" else slice(None)
        with v1.variable_scope(scope, reuse=v1.AUTO_REUSE):
            gamma, beta = var("gamma", w[f"{key}.weight"][perm]), var("beta", w[f"{key}.bias"][perm])
            mm = v1.get_variable("moving_mean", initializer=np.float32(w[f"{key}.running_mean"][perm]), trainable=False)
            mv = v1.get_variable("moving_variance", initializer=np.float32(w[f"{key}.running_var"][perm]),
                                 trainable=False)
        if not is_training:
            return tf.nn.batch_normalization(x, mm, mv, beta, gamma, 1e-3)
        mean, variance = tf.nn.moments(x, list(range(len(x.shape) - 1)))
        upd = [v1.assign(mm, mm * 0.999 + mean * 0.001), v1.assign(mv, mv * 0.999 + variance * 0.001)]
        with tf.control_dependencies(upd):
            return tf.identity(tf.nn.batch_normalization(x, mean, variance, beta, gamma, 1e-3))

    def lrelu(x):
        return tf.maximum(x, 0.2 * x)

    def generator(z, is_training):
        with v1.variable_scope("generator", reuse=v1.AUTO_REUSE):
            h = tf.matmul(z, var("g_fc1_w", w["G.fc.0.weight"].T)) + var("g_fc1_b", w["G.fc.0.bias"])
            h = lrelu(bn(h, is_training, "g_bn1", "G.fc.1"))
            h = (tf.matmul(h, var("g_fc2_w", w["G.fc.3.weight"][nchw_to_nhwc].T))
                 + var("g_fc2_b", w["G.fc.3.bias"][nchw_to_nhwc]))
            h = lrelu(bn(h, is_training, "g_bn2", "G.fc.4"))
            h = tf.reshape(h, [batch, s, s, c])
            h = tf.nn.conv2d_transpose(h, var("g_dc3_w", w["G.conv.0.weight"].transpose(2, 3, 1, 0)),
                                       [batch, 14, 14, 64], [1, 2, 2, 1]) + var("g_dc3_b", w["G.conv.0.bias"])
            h = lrelu(bn(h, is_training, "g_bn3", "G.conv.1"))
            h = tf.nn.conv2d_transpose(h, var("g_dc4_w", w["G.conv.3.weight"].transpose(2, 3, 1, 0)),
                                       [batch, 28, 28, 1], [1, 2, 2, 1]) + var("g_dc4_b", w["G.conv.3.bias"])
            return tf.nn.sigmoid(h)

    def discriminator(x):
        with v1.variable_scope("discriminator", reuse=v1.AUTO_REUSE):
            h = lrelu(tf.nn.conv2d(x, var("d_conv1_w", w["D.net.0.weight"].transpose(2, 3, 1, 0)), [1, 2, 2, 1],
                                   "SAME") + var("d_conv1_b", w["D.net.0.bias"]))
            h = tf.nn.conv2d(h, var("d_conv2_w", w["D.net.2.weight"].transpose(2, 3, 1, 0)), [1, 2, 2, 1], "SAME")
            h = h + var("d_conv2_b", w["D.net.2.bias"])
            h = lrelu(bn(h, True, "d_bn2", "D.net.3") if d_bn else h)  # discriminator_batchnorm
            h = tf.reshape(h, [batch, -1])
            h = tf.matmul(h, var("d_fc3_w", w["D.net.6.weight"][:, nchw_to_nhwc].T)) + var("d_fc3_b", w["D.net.6.bias"])
            h = lrelu(bn(h, True, "d_bn3", "D.net.7") if d_bn else h)
            return tf.matmul(h, var("d_fc4_w", w["D.net.9.weight"].T)) + var("d_fc4_b", w["D.net.9.bias"])

    return generator, discriminator, nchw_to_nhwc


def _tf_losses(tf, loss: str, d_real, d_fake):
    """compare_gan's D and G losses on D's logits: GAN.py (GAN, GAN_MINMAX), LSGAN.py, WGAN.py / WGAN_GP.py."""
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    if loss in ("ns", "minimax"):
        fake_d = tf.reduce_mean(xent(logits=d_fake, labels=tf.zeros_like(d_fake)))
        d = tf.reduce_mean(xent(logits=d_real, labels=tf.ones_like(d_real))) + fake_d
        return d, (tf.reduce_mean(xent(logits=d_fake, labels=tf.ones_like(d_fake))) if loss == "ns" else -fake_d)
    if loss == "lsgan_sigmoid":
        real_p, fake_p = tf.sigmoid(d_real), tf.sigmoid(d_fake)
        d = 0.5 * (tf.reduce_mean(tf.square(real_p - 1.0)) + tf.reduce_mean(tf.square(fake_p)))
        return d, 0.5 * tf.reduce_mean(tf.square(fake_p - 1))
    if loss == "wgan":
        return -tf.reduce_mean(d_real) + tf.reduce_mean(d_fake), -tf.reduce_mean(d_fake)
    raise ValueError(f"no compare_gan loss for {loss!r}")


def step_check(tf, ganbench_python: str, name: str) -> None:
    """One D and one G step of baseline ``name`` in torch (ganbench) and in TF (compare_gan's graph), compared."""
    v1 = tf.compat.v1
    v1.reset_default_graph()
    w = _from_ganbench(ganbench_python, [__file__, "--torch-side", name])
    generator, discriminator, perm = _tf_nets(tf, w)
    real_in = v1.placeholder(tf.float32, [64, 28, 28, 1])
    z = v1.placeholder(tf.float32, [64, 64])
    fake = generator(z, True)
    d_real, d_fake = discriminator(real_in), discriminator(fake)  # two calls: batch norm sees each batch alone
    d_loss, g_loss = _tf_losses(tf, str(w["loss"]), d_real, d_fake)
    nhwc = lambda a: np.asarray(a, np.float32).transpose(0, 2, 3, 1)  # noqa: E731
    # torch draws x_hat = u real + (1 - u) other; compare_gan real + alpha (other - real): alpha = 1 - u
    alpha = (1.0 - w["u"]).reshape(64, 1, 1, 1).astype(np.float32)
    if float(w["gp"]):  # WGAN_GP.py: interpolates between reals and this step's G, on D's logits
        inter = real_in + alpha * (fake - real_in)
        grads = tf.gradients(discriminator(inter), [inter])[0]
        slopes = tf.sqrt(0.0001 + tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
        d_loss += float(w["gp"]) * tf.reduce_mean(tf.square(slopes - 1.0))
    if float(w["dragan"]):  # DRAGAN.py: around reals perturbed by 0.5 std U[0, 1), on D's sigmoid output
        real_np = w["real"]
        perturbed = nhwc(real_np + 0.5 * real_np.std() * w["noise"])
        inter = real_in + alpha * (perturbed - real_in)
        grads = tf.gradients(tf.sigmoid(discriminator(inter)), [inter])[0]
        slopes = tf.sqrt(0.0001 + tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
        d_loss += float(w["dragan"]) * tf.reduce_mean(tf.square(slopes - 1.0))
    t_vars = v1.trainable_variables()
    d_vars, g_vars = [v for v in t_vars if "d_" in v.name], [v for v in t_vars if "g_" in v.name]
    lr, beta1, clip = float(w["lr"]), float(w["beta1"]), float(w["clip"])
    d_optim = v1.train.AdamOptimizer(lr, beta1=beta1).minimize(d_loss, var_list=d_vars)
    g_optim = v1.train.AdamOptimizer(lr, beta1=beta1).minimize(g_loss, var_list=g_vars)
    clip_d = tf.group(*[p.assign(tf.clip_by_value(p, -clip, clip)) for p in d_vars]) if clip else tf.no_op()
    samples = generator(z, False)
    cfg = v1.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    with v1.Session(config=cfg) as s:
        s.run(v1.global_variables_initializer())
        before = s.run(t_vars)
        s.run(clip_d)  # the order TF ran most often (the default mode), as tricks.weight_clip_at: before_step
        _, dl = s.run([d_optim, d_loss], {real_in: nhwc(w["real"]), z: w["z_d"]})
        _, gl = s.run([g_optim, g_loss], {z: w["z_g"]})
        after = s.run(t_vars)
        out_tf = s.run(samples, {z: w["z_d"]}).transpose(0, 3, 1, 2)
    print(f"{name}: losses at the step: D {dl:.7f} (torch {float(w['d_loss']):.7f}), G {gl:.7f} (torch "
          f"{float(w['g_loss']):.7f})")
    torch_of = _torch_names(perm)
    ratios: dict[str, list[float]] = {"G": [], "D": []}
    for v, b, a in zip(t_vars, before, after):
        vname = v.name.split(":")[0]
        key, to_tf = torch_of[vname]
        tb, ta = to_tf(w[key]), to_tf(w["after." + key])
        assert np.array_equal(tb, b), vname  # the same initial weights
        d_tf, d_torch = a - b, ta - tb
        big = np.abs(d_torch) > 0.5 * lr  # updates of about a full Adam step
        ratio = f"{np.median(d_tf[big] / d_torch[big]):8.5f}" if big.any() else "       –"
        if big.mean() > 0.5 and vname.split("/")[-1] not in BEFORE_BATCH_NORM:
            ratios["G" if vname.startswith("generator") else "D"].append(float(ratio))
        print(f"  {vname:32s} update TF / torch: median {ratio} over the {big.mean():6.1%} of its weights that "
              f"moved by over lr / 2; largest difference {np.max(np.abs(d_tf - d_torch)) / lr:.4f} lr")
    gap = np.abs(out_tf - w["samples"])
    span = "; ".join(f"{net} {min(r):.3f} to {max(r):.3f}" for net, r in ratios.items() if r)
    print(f"{name}: median update ratio TF / torch over the tensors that moved by full steps (biases in front of a "
          f"batch norm left out): {span}; G's eval-mode samples after the steps: largest difference {gap.max():.2e}")


def _torch_names(perm) -> dict:
    """TF variable name -> (torch state key, torch layout -> TF layout)."""
    lin = lambda a: a.T  # noqa: E731
    conv = lambda a: a.transpose(2, 3, 1, 0)  # noqa: E731
    same = lambda a: a  # noqa: E731
    names = {"generator/g_fc1_w": ("G.fc.0.weight", lin), "generator/g_fc1_b": ("G.fc.0.bias", same),
             "generator/g_fc2_w": ("G.fc.3.weight", lambda a: a[perm].T),
             "generator/g_fc2_b": ("G.fc.3.bias", lambda a: a[perm]),
             "generator/g_dc3_w": ("G.conv.0.weight", conv), "generator/g_dc3_b": ("G.conv.0.bias", same),
             "generator/g_dc4_w": ("G.conv.3.weight", conv), "generator/g_dc4_b": ("G.conv.3.bias", same),
             "discriminator/d_conv1_w": ("D.net.0.weight", conv), "discriminator/d_conv1_b": ("D.net.0.bias", same),
             "discriminator/d_conv2_w": ("D.net.2.weight", conv), "discriminator/d_conv2_b": ("D.net.2.bias", same),
             "discriminator/d_fc3_w": ("D.net.6.weight", lambda a: a[:, perm].T),
             "discriminator/d_fc3_b": ("D.net.6.bias", same),
             "discriminator/d_fc4_w": ("D.net.9.weight", lin), "discriminator/d_fc4_b": ("D.net.9.bias", same)}
    for scope, key in (("generator/g_bn1", "G.fc.1"), ("generator/g_bn2", "G.fc.4"),
                       ("generator/g_bn3", "G.conv.1"), ("discriminator/d_bn2", "D.net.3"),
                       ("discriminator/d_bn3", "D.net.7")):
        f = (lambda a: a[perm]) if key == "G.fc.4" else same
        names[f"{scope}/gamma"], names[f"{scope}/beta"] = (f"{key}.weight", f), (f"{key}.bias", f)
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Modes and results: the module's docstring.")
    ap.add_argument("--adam", action="store_true", help="check Adam's epsilon instead of the clip's order")
    ap.add_argument("--step", nargs="*", metavar="MODEL", help="one training step of each lucic2018 loss in torch "
                    f"and in TF (default: {', '.join(STEP_MODELS)})")
    ap.add_argument("--ganbench-python", default=".venv/bin/python", help="the interpreter ganbench is installed in")
    ap.add_argument("--resize", action="store_true", help="ganbench's tf1 resize against TF1's resize_bilinear")
    ap.add_argument("--grad-scale", nargs=2, metavar=("MODEL", "G_STEPS"),
                    help="torch only, in ganbench's interpreter: G's gradient magnitudes over training")
    ap.add_argument("--data-root", default="/usr/share/datasets/fashion-mnist", help="Fashion-MNIST's .gz files")
    ap.add_argument("--torch-side", nargs=2, metavar=("MODEL", "OUT.npz"), help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--inter-op", type=int, nargs="+", default=[1, 2, 16],
                    help="TF's inter-op threads: how many ops its executor may run at once")
    args = ap.parse_args()
    if args.torch_side:
        return torch_side(*args.torch_side)
    if args.grad_scale:
        return grad_scale(args.grad_scale[0], int(args.grad_scale[1]), args.data_root)
    try:
        import tensorflow as tf
    except ImportError:
        print("check_compare_gan_tf.py: this mode needs TensorFlow; `python -m venv /tmp/tf && /tmp/tf/bin/pip "
              "install tensorflow-cpu`, then run it with /tmp/tf/bin/python", file=sys.stderr)
        sys.exit(2)
    tf.compat.v1.disable_v2_behavior()
    tf.compat.v1.disable_resource_variables()  # TF 1.x's reference variables, as compare_gan v1 ran
    if args.adam:
        return adam_epsilon(tf)
    if args.resize:
        return resize_check(tf, args.ganbench_python)
    if args.step is not None:
        for name in args.step or STEP_MODELS:
            step_check(tf, args.ganbench_python, name)
        return
    for lr, clip in ((1e-2, 1e-3), (1e-3, 1e-2), (5e-5, 1e-2)):
        print(f"lr {lr:g}, clip {clip:g}; max |w| / c after steps 10-{args.steps} (mean, max):")
        for order in ("before", "after"):
            worst, _, _ = run(tf, order, lr, clip, args.steps, 1)
            print(f"  clip {order} each step: {worst[10:].mean():6.2f} {worst[10:].max():6.2f}")
        for inter in args.inter_op:
            worst, names, outcome = run(tf, "grouped", lr, clip, args.steps, inter)
            late = outcome[10:]
            per = " ".join(f"{n} {np.mean(late[:, i] == 'outside'):.0%}/{np.mean(late[:, i] == 'lost'):.0%}"
                           for i, n in enumerate(names) if n != "d_fc4_b")  # WGAN's loss has no gradient there
            print(f"  grouped, inter-op {inter:2d}: {worst[10:].mean():6.2f} {worst[10:].max():6.2f}; steps that "
                  f"left weights outside [-c, c] / lost the update: {per}")


if __name__ == "__main__":
    main()
