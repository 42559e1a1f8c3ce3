"""Stand-ins for the platforms that cannot run here (X, Mastodon) and for injecting faults
into the ones that can (Bluesky): real HTTP servers on 127.0.0.1 that follow each
platform's documented contract, so the real client libraries run unmodified against them.

A development package: ``make run``, the tests and the benchmarks use it. It is not part of
the built wheel, and no module of the product imports it (``make lint`` enforces that).
"""
