"""Human evaluation: a HYPE∞ or HYPE_time real-vs-fake study served in the browser, scored with a bootstrap CI.

Zhou et al. 2019, "HYPE: A Benchmark for Human eYe Perceptual Evaluation of Generative Models" (NeurIPS).
``protocol`` holds a study's settings (``HumanProtocol``, the paper's by default) and checks them;
``pool`` draws a run's generated samples and reference images and encodes them alike; ``study`` holds the
sessions and validates every answer, written at once to the results store; ``server`` serves the page and
the answers over HTTP (standard library only); ``score`` turns the answers into HYPE∞ or HYPE_time per model
(the maths is ``metrics.hype`` and ``metrics.hype_time``) and writes it beside FID, so the tables and the report
show it.
"""
