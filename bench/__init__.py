"""Benchmarks and the fault soak: ``python -m bench`` (figures) and ``python -m bench soak``.

Everything runs against localcloud, in one process tree, so that ratios hold on a noisy machine:

* :mod:`bench.coldstart` - fresh interpreters: a handler's first invocation vs importing only
  the SDK modules its code path needs;
* :mod:`bench.throughput` - a 1000-message Kafka batch through the real handler against
  localcloud with a fixed latency per API call; handler overhead and validation cost;
* ``bench/_floor.py`` - the bare SDK making the batch's calls in the same child (the CPU floor);
* :mod:`bench.backlog` - a 5000-message batch carried to the end by continuations;
* :mod:`bench.sizing` - the batch at each memory size's CPU share, priced in GB-seconds;
* :mod:`bench.ecs` - from the CTS trace of a new server to its groups attached;
* :mod:`bench.soak` - thousands of requests and creations with faults on every route, checked
  against the cloud state and the request log (also run, smaller, by ``tests/soak``).

:mod:`bench.workload` builds the seed and the requests (and knows the fewest calls each needs);
:mod:`bench.report` prints the tables;
``bench/_child.py`` is the stdlib-only script the measured child processes run.
"""
