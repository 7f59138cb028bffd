"""Sessions and answers of a HYPE∞ study, apart from HTTP: who sees which images, and which answers count.

Each evaluator is a random token. A new one is given the model with the fewest evaluators so far (HYPE
judges each model with its own evaluators: the error on reals depends on the fakes beside them) and a fixed
sequence, drawn from a seeded stream (``draws``: the study's seed and the session's ordinal, stored with it, so
the study can be replayed): ``tutorial`` images with feedback (an option, not the paper's), then the paper's
``qualification`` without feedback (half real; the fakes from every model of the study), then ``images`` study
images (half real, half the model's). Each part is drawn without replacement and shuffled (Zhou et al. 2019,
HYPE∞: 50 real and 50 fake images per evaluator, in random order).

An answer is checked and written inside a store transaction, under the store's write lock (``writer``: one
thread commits the answers that queue up together): the evaluator must exist and be unfinished, the image
must be the one at its current position, and (evaluator, image) is unique in the table, so two racing
copies of one answer store one and refuse the other. The gate (the qualification; without one, the tutorial)
is passed with ``pass_rate`` of its reals and of its fakes right (the paper's threshold, 65%); an evaluator who
fails it is thanked and takes no part in the score.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from dataclasses import dataclass

import numpy as np

from ..bench import human_store
from ..errors import BadInput
from ..metrics.hype import evaluator_summary, right_needed
from ..metrics.hype_time import Staircase
from .draws import RNG, draw_session
from .pool import StudyRef, pool_counts
from .protocol import DEFAULT_HUMAN, HumanProtocol, check_human
from .writer import GroupWriter

#: An image id: 16 hex digits (``pool``); an evaluator token: ``secrets.token_urlsafe(18)``.
IMAGE_ID = re.compile(r"[0-9a-f]{16}")
EVALUATOR = re.compile(r"[A-Za-z0-9_-]{24}")
ANSWERS = ("real", "fake")
#: A session's states while it takes answers (then ``done`` or ``failed``).
PHASES = ("tutorial", "qualification", "study")
#: Longest time an answer may report (a day, in milliseconds): beyond it the client is not measuring.
MAX_TIME_MS = 86_400_000.0
#: A HYPE_time answer's display frame (ms) must lie here: 10 to 500 Hz; an exposure it reports, below MAX_EXPOSURE_MS.
FRAME_MS = (2.0, 100.0)
MAX_EXPOSURE_MS = 10_000.0
#: What a HYPE_time session stores of its protocol (``draw``), so it keeps its staircase whatever a later serve says.
TIMING = ("start_ms", "step_ms", "fixation_ms", "mask_ms")


class Refused(Exception):
    """A request the study refuses: ``status`` is its HTTP status (4xx), the message says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Image:
    image_id: str
    model: str | None  # None for a real image
    truth: str
    role: str


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Study:
    """A study being served: its images in memory (PNG bytes by id), its sessions and answers in the store."""

    def __init__(self, ref: StudyRef, protocol: HumanProtocol = DEFAULT_HUMAN):
        check_human(protocol)
        self.ref, self.protocol = ref, protocol
        counts = pool_counts(ref)
        q_share = math.ceil(protocol.qualification // 2 / len(ref.models))  # the most fakes a model gives
        short = []
        for model in (None, *ref.models):
            truth = "real" if model is None else "fake"
            for role, need in (("qualification", protocol.qualification // 2 if model is None else q_share),
                               ("tutorial", protocol.tutorial // 2), ("study", protocol.images // 2)):
                have = counts.get((model, truth, role), 0)
                if have < need:
                    short.append(f"{model or 'real images'}: {have} {role} images, {need} needed")
        if short:
            older = not any(k[2] == "qualification" for k in counts) and protocol.qualification
            raise BadInput("the study's image pools are too small (" + "; ".join(short) + "); lower --images, "
                           "--qualification or --tutorial, or prepare larger pools"
                           + (" (this study was prepared without qualification images, by an older ganbench: serve "
                              "it with --qualification 0 --tutorial 10 as it was, or start a new study in another "
                              "--store)" if older else ""))
        self.images: dict[str, Image] = {}
        self.png: dict[str, bytes] = {}
        with ref.store.read() as con:
            for r in human_store.pool_images(con, ref.key, ref.models):
                self.images[r["image_id"]] = Image(r["image_id"], r["model"], r["truth"], r["role"])
                self.png[r["image_id"]] = bytes(r["png"])
        # each pool's ids sorted once (``draws``: a pool's order is its content's)
        self.pools: dict[tuple[str | None, str], list[str]] = {}
        for image_id in sorted(self.images):
            im = self.images[image_id]
            self.pools.setdefault((im.model, im.role), []).append(image_id)
        # Writes go through one thread, in batches (group commit): the server's threads do not queue on SQLite's
        # busy handler, whose growing sleeps give some answers seconds of delay under load, and one disk sync
        # serves every answer that arrived meanwhile. Other processes writing the store wait on SQLite's lock.
        self._writer = GroupWriter(ref.store, refusals=(Refused,))

    def close(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        self._writer.close()

    # ------------------------------------------------------------------ sessions
    def new_session(self) -> dict:
        """A new evaluator: a random token, the least-judged model, a seeded sequence. Returns its state."""
        token = secrets.token_urlsafe(18)
        self._writer.submit(lambda con: self._insert_session(con, token))
        return self.state(token)

    def _insert_session(self, con, token: str) -> None:
        p = self.protocol
        taken = human_store.sessions_per_model(con, self.ref.key, p.variant)
        ordinal = human_store.session_count(con, self.ref.key)
        fewest = min(taken.get(m, 0) for m in self.ref.models)
        candidates = [m for m in self.ref.models if taken.get(m, 0) == fewest]
        model, sequence = draw_session(p.seed, ordinal, candidates, self.ref.models, self.pools, p.tutorial,
                                       p.qualification, p.images)
        draw = {"rng": RNG, "numpy": np.__version__, "candidates": candidates, "models": list(self.ref.models),
                "images": p.images, "pass_rate": p.pass_rate}
        if p.variant == "time":
            draw["timing"] = {k: getattr(p, k) for k in TIMING}
        human_store.insert_session(con, token, self.ref.key, model, json.dumps(sequence), p.tutorial, p.qualification,
                                   _phase_at(0, p.tutorial, p.qualification), _now(), ordinal, p.seed,
                                   json.dumps(draw), p.variant)

    def _session(self, con, evaluator: str) -> dict:
        if not isinstance(evaluator, str) or not EVALUATOR.fullmatch(evaluator):
            raise Refused(403, "unknown evaluator")
        s = human_store.session(con, evaluator, self.ref.key)
        if s is None:
            raise Refused(403, "unknown evaluator")
        s["sequence"] = json.loads(s["sequence"])
        s["qualification"] = s.get("qualification") or 0  # sessions stored before issue 21 had none
        draw = json.loads(s["draw"]) if s.get("draw") else {}
        s["pass_rate"] = draw.get("pass_rate", self.protocol.pass_rate)
        s["timing"] = draw.get("timing") if s.get("variant") == "time" else None
        s["answers"] = human_store.session_answers(con, evaluator)
        return s

    def state(self, evaluator: str) -> dict:
        """What the page needs to show next (for resuming too): phase, position, next image, own result."""
        with self.ref.store.read() as con:
            return self._state(self._session(con, evaluator))

    def _state(self, s: dict) -> dict:
        pos, seq, tut, qual = len(s["answers"]), s["sequence"], s["tutorial"], s["qualification"]
        out = {"evaluator": s["evaluator"], "phase": s["state"], "position": pos, "total": len(seq), "tutorial": tut,
               "qualification": qual, "images": len(seq) - tut - qual, "pass_rate": s["pass_rate"], "next": None}
        out["variant"] = "time" if s["timing"] else "infinity"
        if s["state"] in PHASES and pos < len(seq):
            out["next"] = {"id": seq[pos], "url": f"/img/{seq[pos]}"}
            if s["timing"] and s["state"] == "study":
                out["next"].update(exposure_ms=_target(s), fixation_ms=s["timing"]["fixation_ms"],
                                   mask_ms=s["timing"]["mask_ms"])
        if tut and pos >= tut:
            out["tutorial_result"] = _summary([a for a in s["answers"] if a["role"] == "tutorial"])
        if qual and s["state"] == "failed":  # no feedback on the qualification unless it ends the session
            out["qualification_result"] = _summary([a for a in s["answers"] if a["role"] == "qualification"])
        if s["state"] == "done":
            out["result"] = _summary([a for a in s["answers"] if a["role"] == "study"])
        return out

    # ------------------------------------------------------------------- answers
    def answer(self, evaluator: str, image_id: str, answer: str, time_ms: float,
               shown: tuple[float, float] | None = None) -> dict:
        """Check and store one answer (``shown``: a HYPE_time image's measured ``(exposure_ms, frame_ms)``); the new
        state (with feedback on a tutorial image)."""
        if answer not in ANSWERS:
            raise Refused(400, f"answer must be 'real' or 'fake', got {answer!r}")
        _check_ms("time_ms", time_ms, 0, MAX_TIME_MS)
        if shown is not None:
            _check_ms("exposure_ms", shown[0], 0, MAX_EXPOSURE_MS)
            _check_ms("frame_ms", shown[1], *FRAME_MS)
            shown = (float(shown[0]), float(shown[1]))
        if not isinstance(image_id, str) or not IMAGE_ID.fullmatch(image_id) or image_id not in self.images:
            raise Refused(404, "unknown image")
        s = self._writer.submit(lambda con: self._record(con, evaluator, image_id, answer, float(time_ms), shown))
        image = self.images[image_id]
        out = self._state(s)
        if image.role == "tutorial":
            out["feedback"] = {"truth": image.truth, "correct": answer == image.truth}
        return out

    def _record(self, con, evaluator: str, image_id: str, answer: str, time_ms: float,
                shown: tuple[float, float] | None) -> dict:
        """Check and insert one answer in the writer's transaction (refusals before any write); the session after."""
        s = self._session(con, evaluator)
        seq, pos = s["sequence"], len(s["answers"])
        if image_id not in seq:
            raise Refused(403, "this image is not assigned to this evaluator")
        if s["state"] not in PHASES:
            raise Refused(409, f"this evaluator has finished (state {s['state']})")
        if seq.index(image_id) < pos:
            raise Refused(409, "this image has been answered already")
        if seq[pos] != image_id:
            raise Refused(409, "this is not the current image; reload the page")
        image = self.images[image_id]
        timed = bool(s["timing"]) and image.role == "study"
        if timed != (shown is not None):
            raise Refused(400, "a HYPE_time study image is answered with exposure_ms and frame_ms, any other image "
                               "without them" if timed else "this image is not timed: send no exposure_ms or frame_ms")
        timing = None
        if timed:  # the exposure counts when the display showed it within one frame of the staircase's target
            target = _target(s)
            timing = (target, shown[0], shown[1], abs(shown[0] - target) <= shown[1])
        human_store.insert_answer(con, evaluator, pos, image_id, self.ref.key, s["model"], image.role, image.truth,
                                  answer, time_ms, _now(), timing)
        s["answers"].append({"position": pos, "image_id": image_id, "truth": image.truth, "answer": answer,
                             "role": image.role, "target_ms": timing and timing[0],
                             "valid": None if timing is None else int(timing[3])})
        nxt, tut, qual = pos + 1, s["tutorial"], s["qualification"]
        gate = "qualification" if qual else ("tutorial" if tut else None)
        new_state = "done" if nxt == len(seq) else _phase_at(nxt, tut, qual)
        if gate and nxt == tut + qual and not _passed(s["answers"], gate, s["pass_rate"]):
            new_state = "failed"
        if new_state != s["state"]:
            human_store.set_session_state(con, evaluator, new_state,
                                          _now() if new_state in ("done", "failed") else None)
            s["state"] = new_state
        return s


def _check_ms(name: str, value, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
        raise Refused(400, f"{name} must be a number of milliseconds in [{lo:g}, {hi:.0f}], got {value!r}")


def _target(s: dict) -> float:
    """The exposure of a HYPE_time session's next study image: its staircase moved by the study answers so far
    (right or wrong; a dropped answer does not move it)."""
    t = s["timing"]
    outcomes = [None if not a["valid"] else a["answer"] == a["truth"] for a in s["answers"] if a["role"] == "study"]
    return Staircase(start_ms=t["start_ms"], step_ms=t["step_ms"]).targets(outcomes)[-1]


def _phase_at(position: int, tutorial: int, qualification: int) -> str:
    """The phase of a sequence's ``position``: tutorial images first, then the qualification, then the study."""
    return "tutorial" if position < tutorial else ("qualification" if position < tutorial + qualification else "study")


def _passed(answers: list[dict], role: str, pass_rate: float) -> bool:
    """``pass_rate`` of the ``role`` images' reals and of their fakes answered right (``hype.right_needed``)."""
    for truth in ANSWERS:
        mine = [a for a in answers if a["role"] == role and a["truth"] == truth]
        if sum(a["answer"] == truth for a in mine) < right_needed(len(mine), pass_rate):
            return False
    return True


def _summary(answers: list[dict]) -> dict:
    return evaluator_summary([a["truth"] for a in answers], [a["answer"] for a in answers])
