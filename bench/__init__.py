"""The load benchmark harness (``make bench``, ``ml-connector bench``).

Three kinds of process, so each one's CPU time and memory are its own:

* the harness (:mod:`bench.run`) plans the stages, starts the others, and writes
  ``bench/results/latest.json`` and the summary table;
* a sandbox (:mod:`bench.sandbox`) serves the simulators a stage needs, seeded and set up
  exactly as ``ml-connector demo`` does it;
* a connector (:mod:`bench.worker`) runs one stage against that sandbox (or, for the
  pipeline and memory stages, against a synthetic source and a target that writes nothing)
  and prints its measurements as one JSON line.

Tests run the harness in ``--smoke`` mode and check only the shape of its report: the
figures are for people, never for assertions.
"""
