"""Worker processes that stop at once when their parent stops, and never outlive it.

``concurrent.futures``' pool waits for the work in progress when it shuts down (an interrupted
batch hung for minutes) and its workers live on when the parent is killed. Here each worker is a
spawned process with a pipe of its own:

* a worker ignores Ctrl+C (the parent handles it) and exits within ``PARENT_POLL_SECONDS`` once its
  parent is gone, even after ``kill -9`` of the parent;
* when the parent stops early (Ctrl+C, an error, or the consumer closing the generator) it
  terminates the workers (SIGTERM, then SIGKILL after ``STOP_GRACE_SECONDS``), ignoring further
  Ctrl+C meanwhile, so any number of interrupts ends the work within seconds.

"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import wait
from typing import Callable, Iterator

PARENT_POLL_SECONDS = 0.5  # how often a worker checks that its parent is alive
STOP_GRACE_SECONDS = 2.0  # time given to terminated workers before they are killed


def _exit_when_orphaned(parent_pid: int) -> None:
    """Exit this process (from a daemon thread) as soon as ``parent_pid`` is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _serve(link, parent_pid: int, function: Callable, initializer: Callable | None, initargs: tuple) -> None:
    """Worker loop: receive ``(index, args)``, send back ``("ok", result)`` or ``("error", exception)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_when_orphaned(parent_pid)
    failure = None
    try:
        if initializer is not None:
            initializer(*initargs)
    except Exception as error:  # reported with the first job
        failure = error
    while True:
        try:
            job = link.recv()
        except EOFError:  # the parent closed its end
            return
        if job is None:
            return
        try:
            if failure is not None:
                raise failure
            reply = ("ok", function(*job[1]))
        except Exception as error:
            reply = ("error", error)
        try:
            link.send(reply)
        except Exception as error:  # e.g. an exception that cannot be pickled
            link.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))


def _ignore_interrupts():
    """Ignore Ctrl+C (main thread only); returns the handler to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _restore_interrupts(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)


def _stop(processes: list, links: list) -> None:
    """Terminate, then kill, every worker still running; further Ctrl+C are ignored meanwhile."""
    previous = _ignore_interrupts()
    try:
        for process in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(STOP_GRACE_SECONDS)
        for link in links:
            link.close()
    finally:
        _restore_interrupts(previous)


def run_in_processes(
    function: Callable, jobs: list[tuple], workers: int, initializer: Callable | None = None, initargs: tuple = ()
) -> Iterator[tuple[int, object]]:
    """Run ``function(*job)`` for every job in ``workers`` spawned processes (each first runs
    ``initializer(*initargs)``); yields ``(index of the job, result)`` as each one finishes.

    ``function`` and ``initializer`` must be module-level functions (they are pickled). An
    exception in a worker is raised here; leaving early stops every worker at once."""
    jobs = list(jobs)
    if not jobs:
        return
    context = multiprocessing.get_context("spawn")
    processes, links = [], []
    try:
        previous = _ignore_interrupts()  # a spawned child inherits "ignore Ctrl+C" from its first instruction
        try:
            for _ in range(min(workers, len(jobs))):
                link, child_link = context.Pipe()
                process = context.Process(
                    target=_serve,
                    daemon=True,
                    name="musicgen-worker",
                    args=(child_link, os.getpid(), function, initializer, initargs),
                )
                process.start()
                child_link.close()
                processes.append(process)
                links.append(link)
        finally:
            _restore_interrupts(previous)
        waiting = iter(enumerate(jobs))
        busy = {}  # link -> index of the job it is working on
        for link in links:
            index, args = next(waiting)
            link.send((index, args))
            busy[link] = index
        while busy:
            for link in wait(list(busy)):
                index = busy.pop(link)
                try:
                    status, value = link.recv()
                except EOFError:
                    process = processes[links.index(link)]
                    process.join(STOP_GRACE_SECONDS)
                    code = process.exitcode
                    raise RuntimeError(f"a worker process ended unexpectedly (exit code {code})") from None
                if status == "error":
                    raise value
                following = next(waiting, None)
                if following is not None:
                    link.send(following)
                    busy[link] = following[0]
                yield index, value
        for link in links:
            link.send(None)  # done: let the workers exit by themselves
        for process in processes:
            process.join(STOP_GRACE_SECONDS)
    finally:
        _stop(processes, links)
