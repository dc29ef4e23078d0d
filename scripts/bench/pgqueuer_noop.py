"""PGQueuer's side of `recon-bench jobs`: no-op jobs through PGQueuer on the same cluster.

    python pgqueuer_noop.py enqueue JOBS     installs PGQueuer's schema (durable tables, its
                                             default) and enqueues JOBS no-op jobs with the batch
                                             API, 1,000 a call
    python pgqueuer_noop.py work BATCH       one worker process: PGQueuer's own runner
                                             (`pgqueuer.run`, what `pgq run` calls) on uvloop, in
                                             drain mode with --batch-size BATCH and its other
                                             defaults: dequeues until the queue is empty, exits.
                                             (`pgq run` itself fails in 1.6.0 before starting:
                                             its --log-level reaches the logger as a string.)

The connection comes from the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE), which
asyncpg reads. recon-bench runs both and times the worker processes.
"""

import asyncio
import contextlib
import sys

import asyncpg
import uvloop
from pgqueuer import AsyncpgDriver, Job, PgQueuer, Queries
from pgqueuer import run as run_worker
from pgqueuer.types import QueueExecutionMode


@contextlib.asynccontextmanager
async def manager():
    connection = await asyncpg.connect()
    pgq = PgQueuer(AsyncpgDriver(connection))

    @pgq.entrypoint("noop")
    async def noop(job: Job) -> None:
        return None

    try:
        yield pgq
    finally:
        await connection.close()


async def enqueue(total: int) -> None:
    connection = await asyncpg.connect()
    try:
        queries = Queries(AsyncpgDriver(connection))
        await queries.install()
        left = total
        while left > 0:
            batch = min(1000, left)
            await queries.enqueue(["noop"] * batch, [None] * batch, [0] * batch)
            left -= batch
        print(f"enqueued {total}")
    finally:
        await connection.close()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("enqueue", "work"):
        sys.exit("usage: pgqueuer_noop.py enqueue JOBS | work BATCH")
    if sys.argv[1] == "enqueue":
        asyncio.run(enqueue(int(sys.argv[2])))
    else:
        uvloop.run(run_worker(manager, batch_size=int(sys.argv[2]), mode=QueueExecutionMode.drain))
