"""Several SMTP connections at once ("lanes"), each in its own thread, none touching the database.

A lane takes a message, sends it up to the final dot, then asks the run (the one writer
to the send log, in the calling thread) to commit the recipient as `sending`, and waits
for that answer before it sends the dot. The run commits every waiting lane's mark in
one transaction (one fsync for all of them), so many connections cost no more fsyncs
than one, and exactly-once holds as with one connection. With PIPELINING a lane takes its
next message off the queue before it sends a final dot, so that the dot can carry the next
envelope (delivery/smtp.py).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from syndicate.delivery.smtp import ConnectError, Reply, Transport


@dataclass
class Job:
    """One message to one recipient."""

    subscriber_id: int
    sender: str  # the envelope sender
    email: str
    data: bytes
    tries: int = 0  # earlier attempts in this run (4xx answers, dropped connections)


@dataclass
class Mark:
    """A lane is about to send the final dot of `job`; `answer` tells it whether to."""

    job: Job
    answer: queue.SimpleQueue[bool] = field(default_factory=queue.SimpleQueue)


@dataclass(frozen=True, slots=True)
class Done:
    job: Job
    reply: Reply


@dataclass(frozen=True, slots=True)
class Broken:
    """A lane could not connect, for good: the run stops with this error."""

    error: ConnectError


Event = Mark | Done | Broken


class Lane(threading.Thread):
    """One connection: sends the jobs it is given, reports each outcome."""

    def __init__(
        self,
        transport: Transport,
        jobs: queue.SimpleQueue[Job | None],
        events: queue.SimpleQueue[Event],
        connect_delays: Sequence[float],
        stopping: threading.Event,
    ) -> None:
        super().__init__(name="syndicate-smtp", daemon=True)
        self.transport = transport
        self.jobs = jobs
        self.events = events
        self.delays = tuple(connect_delays)
        self.stopping = stopping
        self.taken: list[Job | None] = []  # the next job (or the end), once taken off the queue early

    def run(self) -> None:
        try:
            job = self.jobs.get()
            while job is not None:
                self.taken = []
                self.events.put(Done(job, self._send(job)))
                job = self.taken[0] if self.taken else self.jobs.get()
        except ConnectError as exc:
            self.events.put(Broken(exc))
        finally:
            self.transport.close()

    def _connect(self) -> None:
        for attempt in range(len(self.delays) + 1):
            try:
                self.transport.connect()
                return
            except ConnectError as exc:
                if not exc.transient or attempt == len(self.delays) or self.stopping.wait(self.delays[attempt]):
                    raise

    def _send(self, job: Job) -> Reply:
        reply = Reply("not_sent", 0, "not connected", "connection")
        for _ in range(2):  # a connection that dropped between messages: reconnect once and go on
            if self.stopping.is_set():
                return Reply("not_sent", 0, "interrupted before sending", "connection")
            if not self.transport.connected:
                self._connect()
            reply = self.transport.deliver(job.sender, job.email, job.data, lambda: self._may_end(job), self._follow)
            if reply.kind != "not_sent":
                break
        return reply

    def _follow(self) -> tuple[str, str] | None:
        """The envelope of this lane's next message, when one is already waiting (taken off the queue)."""
        if not self.taken and not self.stopping.is_set():
            try:
                self.taken.append(self.jobs.get_nowait())
            except queue.Empty:
                return None
        upcoming = self.taken[0] if self.taken else None
        return (upcoming.sender, upcoming.email) if upcoming is not None else None

    def _may_end(self, job: Job) -> bool:
        mark = Mark(job)
        self.events.put(mark)
        return mark.answer.get()


class Lanes:
    """N lanes, started on first use; `close` ends them (each finishes the message it holds)."""

    def __init__(self, make_transport: Callable[[], Transport], count: int, connect_delays: Sequence[float]) -> None:
        self.make_transport = make_transport
        self.count = max(1, count)
        self.delays = connect_delays
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.stopping = threading.Event()
        self._lanes: list[Lane] = []

    def put(self, job: Job) -> None:
        if len(self._lanes) < self.count:  # one more connection for each message in flight, up to N
            lane = Lane(self.make_transport(), self.jobs, self.events, self.delays, self.stopping)
            lane.start()
            self._lanes.append(lane)
        self.jobs.put(job)

    def waiting(self) -> int:
        """Messages handed out that no lane has taken yet."""
        return self.jobs.qsize()

    def events_within(self, timeout: float) -> list[Event]:
        """The next event (waiting up to `timeout` seconds) and every other one already there."""
        try:
            found = [self.events.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                found.append(self.events.get_nowait())
            except queue.Empty:
                return found

    def close(self, wait: float) -> None:
        """End every lane, waiting at most `wait` seconds for them all (not for each)."""
        self.stopping.set()
        for _ in self._lanes:
            self.jobs.put(None)
        deadline = time.monotonic() + wait
        for lane in self._lanes:
            lane.join(max(0.0, deadline - time.monotonic()))
