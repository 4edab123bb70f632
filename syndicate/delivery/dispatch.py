"""One run of one issue: the only writer to the send log, handing messages to the lanes.

The calling thread plans the run, composes each recipient's message, gives it to a lane
(delivery/lanes.py), commits the `sending` marks of every lane waiting at its final dot
in one transaction, and records each answer. It paces the run ([smtp] rate, max_per_hour,
max_per_day), retries 4xx answers after the configured waits, and stops the run when the
server refuses our sending itself, when the same refusal hits recipient after recipient,
or on Ctrl+C (within about two seconds: a message whose dot was not sent is not sent).
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from syndicate.config import SMTP_PASSWORD_ENV
from syndicate.delivery.lanes import Broken, Done, Job, Lanes, Mark
from syndicate.delivery.send import (
    IssueCache,
    Letterhead,
    Personalizer,
    SendOptions,
    SendReport,
    envelope_sender,
    recipient_for,
    wire_bytes,
)
from syndicate.delivery.smtp import Reply
from syndicate.errors import DeliveryError
from syndicate.subscribers import sendlog
from syndicate.subscribers import store as subs
from syndicate.subscribers.db import Connection
from syndicate.subscribers.sendlog import State

BREAKER = 10  # the same refusal for this many recipients in a row stops the run
INTERRUPT_GRACE = 1.5  # seconds Ctrl+C waits for answers to messages already ended
GATHER = 0.001  # seconds a commit of `sending` marks waits for more lanes to reach their final dot


class Dispatch:
    def __init__(
        self,
        conn: Connection,
        issues: IssueCache,
        personalize: Personalizer,
        lanes: Lanes,
        head: Letterhead,
        options: SendOptions,
        clock: subs.Clock,
        report: SendReport,
    ) -> None:
        self.conn, self.issues, self.personalize, self.lanes = conn, issues, personalize, lanes
        self.head, self.options, self.clock, self.report = head, options, clock, report
        self.key = report.issue
        self.marked: set[int] = set()  # committed as `sending` in this run
        self.retries: list[tuple[float, int, int]] = []  # (due, subscriber id, tries so far)
        self.in_flight = 0
        self.halt: DeliveryError | None = None  # stop dispatching; raised once the lanes are quiet
        self.interrupted = False
        self._give_up_at = 0.0  # when Ctrl+C stops waiting for anything (monotonic seconds)
        self._streak: tuple[str, int, str] | None = None
        self._streak_count = 0
        self._next_at = 0.0
        self._changes: list[sendlog.StateChange] = []

    def _stamp(self) -> str:
        return self.clock().isoformat(timespec="seconds")

    def _set(self, sid: int, state: State, detail: str, *, count_attempt: bool) -> None:
        """A change of a recipient's row, written with the next commit (`_flush`), which comes before
        any lane may send another final dot."""
        self._changes.append((sid, state, detail, count_attempt))

    def _flush(self, sending: list[int]) -> None:
        if self._changes or sending:
            sendlog.record_states(self.conn, self.key, self._changes, sending, self._stamp())
            self._changes = []

    def plan(self) -> list[int]:
        """Add a pending row for every current subscriber (once per issue); return the rows to try."""
        rows = sendlog.plan_issue(self.conn, self.key, self._stamp())
        wanted: set[State] = {"pending", "deferred"}
        if self.options.resend_unknown:
            wanted.add("sending")
        if self.options.retry_failed:
            wanted.add("failed")
        todo = []
        for row in rows:
            if row.state in wanted and row.status == "subscribed":
                todo.append(row.subscriber_id)
            elif row.state == "sending":
                self.report.unknown.append(row.email)
            elif row.state == "sent":
                self.report.already_had += 1
            elif row.state == "skipped":
                self.report.no_match += 1
            elif row.state == "failed":
                self.report.failed_before += 1
            else:
                self.report.left += 1
        return todo

    def _budget(self) -> int | None:
        """How many messages the sending limits still allow (None: no limit)."""
        now = self.clock()
        left = []
        for limit, span in ((self.options.max_per_hour, 1), (self.options.max_per_day, 24)):
            if limit:
                since = (now - timedelta(hours=span)).isoformat(timespec="seconds")
                left.append(max(0, limit - sendlog.sent_since(self.conn, since)))
        return min(left) if left else None

    def _job(self, sid: int, tries: int) -> Job | None:
        """The recipient's message, or None (and the reason recorded) when there is nothing to send."""
        sub = subs.get(self.conn, sid)
        if sub is None or sub.status != "subscribed":
            self.report.left += 1
            return None
        issue = self.issues(sub.tags)
        if issue is None:
            self._set(sid, "skipped", "no posts match the subscriber's tags", count_attempt=False)
            self.report.no_match += 1
            return None
        data = wire_bytes(self.personalize(issue, recipient_for(sub, self.head), self.clock()))
        return Job(sid, envelope_sender(self.head, sid, self.key), sub.email, data, tries)

    def _next(self, todo: deque[int]) -> tuple[int, int] | None:
        if self.retries and self.retries[0][0] <= time.monotonic():
            _, sid, tries = heapq.heappop(self.retries)
            return sid, tries
        return (todo.popleft(), 0) if todo else None

    def _dispatch(
        self,
        todo: deque[int],
        budget: list[int | None],
        progress: Callable[[int], None] | None,
        queued: int | None = None,
    ) -> None:
        """Hand out messages until every lane holds two (or, with `queued`, until that many wait for a
        lane), the rate says wait, or a limit is reached."""
        while self.in_flight < 2 * self.lanes.count and self.halt is None:
            if queued is not None and self.lanes.waiting() >= queued:
                return
            if self.options.rate > 0 and self._next_at > time.monotonic():
                return
            picked = self._next(todo)
            if picked is None:
                return
            if budget[0] == 0:
                todo.appendleft(picked[0])
                self.report.stopped = "the sending limit ([smtp] max_per_hour or max_per_day) is reached"
                self.halt = DeliveryError(f"{self.report.stopped}; the next run goes on with the rest")
                return
            job = self._job(*picked)
            if job is None:
                if progress is not None:
                    progress(1)
                continue
            if budget[0] is not None:
                budget[0] -= 1
            if self.options.rate > 0:
                self._next_at = max(self._next_at, time.monotonic()) + 1.0 / self.options.rate
            self.lanes.put(job)
            self.in_flight += 1

    def _wait(self) -> float:
        """How long to wait for the lanes before looking at the queue again."""
        waits = [0.25]
        if self.retries:
            waits.append(self.retries[0][0] - time.monotonic())
        if self.options.rate > 0:
            waits.append(self._next_at - time.monotonic())
        return max(0.0, min(waits))

    def run(self, todo_ids: list[int], progress: Callable[[int], None] | None) -> SendReport:
        todo = deque(todo_ids)
        budget = [self._budget()]
        try:
            while True:
                self._dispatch(todo, budget, progress)
                if self.in_flight == 0 and (self.halt is not None or not (todo or self.retries)):
                    break
                events = self._gathered(self.lanes.events_within(self._wait()))
                self._handle(events, progress, lambda marks: self._dispatch(todo, budget, progress, queued=marks))
        except KeyboardInterrupt:
            self._interrupt()
        finally:
            self._flush([])
            # interrupted: what is left of the one grace period; a lane still waiting on a silent server is let go
            self.lanes.close(wait=max(0.0, self._give_up_at - time.monotonic()) if self.interrupted else 10.0)
        self.report.waiting += len(todo) + len(self.retries)
        if self.interrupted:
            raise DeliveryError(
                f"interrupted: {self.key} went to {self.report.sent} recipients in this run; "
                "run the same command again to send to the rest"
            )
        if self.halt is not None and not self.report.stopped:
            raise self.halt
        return self.report

    def _gathered(self, events: list[Mark | Done | Broken]) -> list[Mark | Done | Broken]:
        """Group commit: when a lane waits at its final dot, give the others a moment (GATHER) to reach
        theirs, so one fsync covers them all."""
        marks = sum(isinstance(e, Mark) for e in events)
        # the lanes holding a message (in_flight also counts those queued for a lane)
        holding = min(self.in_flight, self.lanes.count) - sum(isinstance(e, Done) for e in events)
        if marks and marks < holding:
            events += self.lanes.events_within(GATHER)
        return events

    def _handle(
        self,
        events: list[Mark | Done | Broken],
        progress: Callable[[int], None] | None,
        before_answer: Callable[[int], None] | None = None,
    ) -> None:
        """Record the answers, then commit the marks and let those lanes send their dots. Before that,
        `before_answer(n)` can queue the next messages, so each of those n dots can carry the next
        message's envelope (PIPELINING)."""
        for event in events:
            if isinstance(event, Done):
                self.in_flight -= 1
                self._done(event.job, event.reply)
                if progress is not None:
                    progress(1)
            elif isinstance(event, Broken):
                self.in_flight -= 1
                self.halt = self.halt or event.error
        marks = [e for e in events if isinstance(e, Mark)]
        if marks and before_answer is not None:
            try:
                before_answer(len(marks))
            except BaseException:
                for mark in marks:  # no dot goes out: the lanes are let go at once, not after close()'s wait
                    mark.answer.put(False)
                raise
        go = not self.interrupted
        sending = [m.job.subscriber_id for m in marks] if go else []
        self._flush(sending)  # the answers, and the marks, in one commit before any dot goes out
        self.marked.update(sending)
        for mark in marks:
            mark.answer.put(go)

    def _done(self, job: Job, reply: Reply) -> None:
        sid, counted = job.subscriber_id, job.subscriber_id in self.marked
        self.marked.discard(sid)
        if reply.refuses_the_sender:  # the server refuses us, not this reader: mark nobody, stop
            if counted:
                self._set(sid, "deferred", reply.describe(), count_attempt=False)
            else:
                self.report.waiting += 1
            self.halt = self.halt or DeliveryError(
                f"the SMTP server refuses to take mail from us: {reply.describe()}; nobody was marked failed "
                f"or bounced; check [smtp] host, username and {SMTP_PASSWORD_ENV}, then run again"
            )
            return
        self._trip(reply)
        retry = reply.kind in ("transient", "not_sent") and job.tries < len(self.options.retry_delays)
        if retry and not self.interrupted and self.halt is None:
            self._set(sid, "deferred", reply.describe(), count_attempt=not counted)
            due = time.monotonic() + self.options.retry_delays[job.tries]
            heapq.heappush(self.retries, (due, sid, job.tries + 1))
            return
        self._record(job, reply, counted=counted)

    def _trip(self, reply: Reply) -> None:
        """The circuit breaker: the same refusal, recipient after recipient, means the server is the
        problem; stop rather than mark everyone failed or deferred."""
        if reply.kind == "accepted":
            self._streak, self._streak_count = None, 0
            return
        if reply.kind not in ("transient", "permanent"):
            return
        same = (reply.kind, reply.code, reply.stage)
        self._streak_count = self._streak_count + 1 if same == self._streak else 1
        self._streak = same
        if self._streak_count >= BREAKER and self.halt is None:
            self.halt = DeliveryError(
                f"the last {BREAKER} recipients were all refused with {reply.describe()}; stopped so the rest "
                "are not refused too; check the SMTP server, then run the same command again"
            )

    def _record(self, job: Job, reply: Reply, *, counted: bool) -> None:
        sid, detail = job.subscriber_id, reply.describe()
        if reply.kind == "accepted":
            self._set(sid, "sent", detail, count_attempt=not counted)
            self.report.sent += 1
        elif reply.kind == "permanent":
            self._set(sid, "failed", detail, count_attempt=not counted)
            if reply.bounced:
                subs.set_status(self.conn, sid, "bounced", self.clock())
            self.report.failed += 1
            self.report.problems.append(f"{job.email}: failed: {detail}")
        elif reply.kind == "unknown":
            self._set(sid, "sending", detail, count_attempt=False)
            self.report.unknown.append(job.email)
        elif self.interrupted or (reply.kind == "not_sent" and "interrupted" in reply.text):
            self.report.waiting += 1  # the row stays as it was: pending, or deferred from an earlier run
        else:  # transient after every retry, or the connection failed twice before the message could go
            self._set(sid, "deferred", detail, count_attempt=not counted)
            self.report.deferred += 1
            self.report.problems.append(f"{job.email}: deferred: {detail}")

    def _interrupt(self) -> None:
        """Ctrl+C: no new message, no further final dot; wait briefly for answers to those already ended."""
        self.interrupted = True
        self.lanes.stopping.set()
        self._give_up_at = deadline = time.monotonic() + INTERRUPT_GRACE
        # only a message whose dot went out has an answer worth waiting for; the others are not sent
        while self.marked and time.monotonic() < deadline:
            self._handle(self.lanes.events_within(max(0.0, deadline - time.monotonic())), None)
