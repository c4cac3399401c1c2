"""The invocation around the steps: envelopes in, one result per message out.

``envelopes`` (which trigger delivered what), ``run`` (:class:`Run`: one invocation's settings,
clock, deadline and lazily built clients), ``batch`` (:func:`process_batch`: every message through a
flow's steps, bounded concurrency, one result each), ``handler`` (start the run, answer the
trigger), ``continuation`` (the one self-invocation: work handed on to an asynchronous
invocation of the same function).
"""
