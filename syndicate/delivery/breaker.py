"""The circuit breaker of a send: the same permanent refusal for many recipients in a row.

One bad address is the reader's problem; ten in a row refused with the same
words are the server's (a broken relay, a blocked sender, a full disk that
answers 5xx), and marking them all failed or bounced would cut them off for
good. So the run stops there and those recipients are put back as if never
tried. Answers are compared without the addresses they quote.
"""

from __future__ import annotations

import re

from syndicate.delivery.smtp import Reply

BREAKER_LIMIT = 10  # the same refusal this many recipients in a row stops the run
_QUOTED = re.compile(r"<[^<>]*>|\S+@\S+")


def refusal_key(reply: Reply) -> str:
    """What makes two refusals 'the same': the code, the stage and the words, addresses left out."""
    return f"{reply.code} {reply.stage} {_QUOTED.sub('<>', reply.text.lower())}"


class Breaker:
    def __init__(self, limit: int = BREAKER_LIMIT) -> None:
        self.limit = limit
        self.key = ""
        self.streak: list[tuple[int, bool]] = []  # (subscriber id, marked bounced) of this run of refusals

    def observe(self, subscriber_id: int, reply: Reply) -> list[tuple[int, bool]]:
        """Note one recipient's outcome; the whole streak when it trips (else [])."""
        if reply.kind != "permanent":
            if reply.kind == "accepted":
                self.key, self.streak = "", []
            return []  # a deferral neither breaks nor extends a streak
        key = refusal_key(reply)
        if key != self.key:
            self.key, self.streak = key, []
        self.streak.append((subscriber_id, reply.bounced))
        return list(self.streak) if len(self.streak) >= self.limit else []
