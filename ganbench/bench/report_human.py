"""The report's human-study section: per model, the fakes that fooled people most and the reals most often called
fake, each image with its count (``7 of 9 judged real``), read from the study's finished evaluators' answers."""

from __future__ import annotations

import base64
import html
from typing import Sequence

from .human_records import finished_answers, has_study, top_images
from .store import Store

#: Images per gallery.
GALLERY_IMAGES = 12
#: Displayed size of a gallery image (pixels; small images are enlarged without smoothing).
SHOWN_PX = 84


def _figure(image_id: str, png: bytes, caption: str, alt: str) -> str:
    src = base64.b64encode(png).decode()
    return (f"<figure class='human' data-image='{html.escape(image_id)}'><img alt='{html.escape(alt)}' "
            f"width='{SHOWN_PX}' height='{SHOWN_PX}' "
            f"src='data:image/png;base64,{src}'><figcaption>{html.escape(caption)}</figcaption></figure>")


def gallery(store: Store, study: str, model: str, truth: str, k: int = GALLERY_IMAGES) -> str:
    """One gallery as HTML: the ``k`` images of ``truth`` that ``model``'s evaluators most often judged wrongly."""
    said = "real" if truth == "fake" else "fake"
    figures = [_figure(r.image, png, f"{r.wrong} of {r.answers} judged {said}", f"{model}: a {truth} image judged {said} "
                                                                        f"{r.wrong} of {r.answers} times")
               for r, png in top_images(store, study, model, truth, k)]
    return f"<div class='row gallery' data-gallery='{truth}'>{''.join(figures)}</div>" if figures else ""


def human_section(store: Store, study: str, models: Sequence[str]) -> str:
    """The section (empty when the run has no study or no finished evaluator)."""
    if not has_study(store, study):
        return ""
    parts = []
    for model in models:
        if not finished_answers(store, study, model):
            continue
        fakes, reals = gallery(store, study, model, "fake"), gallery(store, study, model, "real")
        parts.append(f"<h3>{html.escape(model)}</h3>"
                     f"<p>Generated images that fooled people most (judged real, most often first):</p>{fakes}"
                     f"<p>Real images most often called fake, beside {html.escape(model)}'s images:</p>{reals}")
    if not parts:
        return ""
    return ("<h2>Human study (HYPE∞): per image</h2><p>Counts are over the evaluators who finished the study; "
            "each model's evaluators saw its images and the real ones.</p>" + "".join(parts))
