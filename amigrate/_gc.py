"""The ``amigrate`` program's garbage collector: off while amigrate starts, on for user code.

Starting a command allocates hundreds of thousands of objects that all live until the exit
(SQLAlchemy, the models, reflected schemas), so every pass of the cyclic collector over them
is wasted: about 20 ms of a ``revision --autogenerate``, 40 ms of a 500-revision ``--sql``.
The program turns the collector off at start (:func:`defer`) and back on, with a high
threshold, when the first revision script is loaded for an online run, or when a command
runs on more than a few targets (tenants) (:func:`resume`): migrations that churn through
data, and connections to hundreds of databases, get it as usual. Writing SQL (``--sql``) touches no
data, so it keeps the collector off (a few MB more for 500 revisions). Code that embeds
amigrate never calls :func:`defer`, so its process is left alone.
"""

from __future__ import annotations

import gc

_deferred = False


def defer() -> None:
    """Turn the collector off until :func:`resume` (the ``amigrate`` program only)."""
    global _deferred
    _deferred = gc.isenabled()
    gc.disable()


def resume() -> None:
    """Turn the collector back on, if :func:`defer` turned it off; cheap to call often."""
    global _deferred
    if _deferred:
        _deferred = False
        gc.set_threshold(20_000, 20, 20)  # most objects still live to the exit
        gc.enable()
