"""The flufl.bounce adapter: the one module that imports it.

flufl.bounce is GNU Mailman's collection of bounce detectors: beside RFC 3464
reports it knows the formats mail servers used before (and besides) it, such
as qmail's, Exim's, Postfix's older one, Yahoo's, GroupWise's and Exchange's.
reports.py reads standard reports itself (it needs each recipient's status
code, which flufl.bounce does not hand out) and asks this module about the rest.
"""

from __future__ import annotations

from email.message import Message

from flufl.bounce import all_failures


def _text(addresses: frozenset[bytes]) -> frozenset[str]:
    # the detectors hand out ASCII bytes; anything else was already dropped by them
    return frozenset(a.decode("ascii", "replace").strip().lower() for a in addresses if b"@" in a)


def nonstandard_failures(msg: Message) -> tuple[frozenset[str], frozenset[str]]:
    """(temporary, permanent) failed recipients the detectors find in a bounce of any format.

    A detector that cannot tell the two apart calls every failure permanent.
    """
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a heuristic detector tripping over one odd message must not end the run
        return frozenset(), frozenset()
    return _text(temporary), _text(permanent)
