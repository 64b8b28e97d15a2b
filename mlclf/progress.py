"""Progress of the long loops users wait for (tokenising a corpus): done, rate, time left.

Lines go to stderr at most every few seconds, and once at the end, e.g.

    tokenising masakhanews/hau train (hierarchical): 1,280/2,219 documents (58%), 1,912 docs/s, 0:00:01 left
"""
from __future__ import annotations

import datetime
import sys
import time

import tensorflow as tf


class Progress:
    """Counts documents as they are done and reports them on `stream`."""

    def __init__(self, what: str, total: int | None = None, every_seconds: float = 5.0,
                 stream=None):
        self.what, self.total, self.every_seconds = what, total, every_seconds
        self.stream = stream or sys.stderr
        self.done = 0
        self._start = self._reported = time.monotonic()

    def advance(self, count: int) -> None:
        self.done += int(count)
        now = time.monotonic()
        if now - self._reported >= self.every_seconds:
            self._reported = now
            self._report(now)

    def _advanced(self, count):
        self.advance(count)
        return count

    def finish(self) -> None:
        self._report(time.monotonic(), finished=True)

    def _report(self, now: float, finished: bool = False) -> None:
        seconds = max(now - self._start, 1e-9)
        rate = self.done / seconds
        line = f"{self.what}: {self.done:,}"
        if self.total:
            line += f"/{self.total:,} documents ({100 * self.done / self.total:.0f}%)"
        else:
            line += " documents"
        line += f", {rate:,.0f} docs/s"
        if finished:
            line += f", done in {datetime.timedelta(seconds=round(seconds))}"
        elif self.total and rate > 0:
            left = max(self.total - self.done, 0) / rate
            line += f", {datetime.timedelta(seconds=round(left))} left"
        print(line, file=self.stream, flush=True)

    def counted(self, batch: dict) -> dict:
        """A tf.data map function: reports the batch's documents (the rows of its first
        feature) as done."""
        first = next(iter(batch.values()))
        rows = (first.nrows(out_type=tf.int32) if isinstance(first, tf.RaggedTensor)
                else tf.shape(first)[0])
        report = tf.py_function(self._advanced, [rows], tf.int32)
        with tf.control_dependencies([report]):
            return tf.nest.map_structure(tf.identity, batch)
