"""Two places where compare_gan v1's TensorFlow code and ganbench's torch could differ, measured in TF.

``--adam``: TF's AdamOptimizer adds epsilon to sqrt(v) before the bias correction ("epsilon hat"), torch.optim.Adam
to the bias-corrected sqrt(v_hat). Each of a few gradients is stepped three times in TF and set beside both closed
forms, so the ratio says which one TF computes and how far torch's step is from it (ganbench keeps torch's: the
lucic2018 study's ``kept``).

Otherwise (the default): in which order does compare_gan v1's WGAN clip the critic and take its Adam step?

compare_gan v1's ``WGAN.py`` builds ``d_optim = tf.group(adam.minimize(d_loss), clip_D)`` with ``clip_D`` the
assignments ``p <- clip(p, -c, c)`` of every ``d_`` variable. ``tf.group`` adds no order between the two, so which
one a session runs first is up to TF's executor. This script builds a critic of the same shape (the InfoGAN-style
D of ``abstract_gan.py``, TF1 graph mode, reference variables as TF 1.x made them) and measures, after each step,
the largest |weight| / c and, per variable, whether the step left weights outside [-c, c] or left them all as they
were. With the clip after the update (Arjovsky et al. 2017, alg. 1; ganbench's default) every weight ends within
[-c, c]; with the clip first, each update lands on clipped weights and may go past c by one Adam step (Arjovsky et
al.'s main.py; ganbench ``tricks.weight_clip_at: before_step``); if the clip's assignment of the old weights is
written after the update, the update is lost. The grouped op is set beside the two orders run one after the other.

It needs TensorFlow, which ganbench does not: ``python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu``,
then ``/tmp/tf/bin/python scripts/check_compare_gan_tf.py``. Which of the step's reads of a weight see it
clipped is up to the executor too, so the grouped op's gradients match neither order exactly (the paths diverge
after a few steps); the weights' bound is the order's signature.

Measured with TF 2.21 on this CPU (2026-12-04, 40 steps, inter-op 1 / 2 / 16; the schedule varies run to run):

- The grouped op's weights go past c by about one Adam step, as with the clip before each step and never as with
  it after: mean max |w| / c over steps 10-40 of 23.2 / 15.4 / 17.1 (before 13.7, after 1.00) at lr 1e-2, c 1e-3;
  1.19 / 1.23 / 1.17 (before 1.19, after 1.00) at lr 1e-3, c 1e-2; 1.01 (before 1.01, after 1.00) at compare_gan's
  default lr 5e-5, c 1e-2.
- Every kernel's steps left weights outside [-c, c] in 100% of steps but for one or two per run; some tensors (a
  bias, and in one run d_conv2_w or d_fc3_w) lost their update in 13-50% of steps: the clip of the old weights
  was written after it. ganbench's ``before_step`` reproduces the order TF ran most often, not the race.
- ``--adam``: TF's steps equal the epsilon-hat form to 1e-5; torch's form steps 3% further at a gradient of 1e-5
  and 0.03% at 1e-3 in the first steps (TF / torch 0.970 and 0.9997), the gap shrinking as 1/sqrt(1 - beta2^t).
"""

from __future__ import annotations

import argparse

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
    clip_d = [p.assign(tf.clip_by_value(p, -clip, clip)) for p in d_vars]
    clip_only = tf.group(*[p.assign(tf.clip_by_value(p, -clip, clip)) for p in d_vars])
    return dict(real=real, fake=fake, d_vars=d_vars, adam=adam, grouped=tf.group(*[adam, clip_d]),
                clip_only=clip_only)


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--adam", action="store_true", help="check Adam's epsilon instead of the clip's order")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--inter-op", type=int, nargs="+", default=[1, 2, 16],
                    help="TF's inter-op threads: how many ops its executor may run at once")
    args = ap.parse_args()
    import tensorflow as tf
    tf.compat.v1.disable_v2_behavior()
    tf.compat.v1.disable_resource_variables()  # TF 1.x's reference variables, as compare_gan v1 ran
    if args.adam:
        adam_epsilon(tf)
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
