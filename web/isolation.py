"""Work on an uploaded file in a process of its own, with a time and a memory limit.

Reading a plan (python-docx, openpyxl, pdfplumber) is CPU-bound and its memory grows with the file: done in the
web process it would stall every other request (not even /login answered) and keep the memory afterwards. Here
each job runs in a fresh child (a forkserver's fork, the readers preloaded), whose address space is limited with
``resource.setrlimit(RLIMIT_AS)``; past the time limit the child is killed. The child exits after the job, so its
memory goes back to the system. The web awaits the result off its event loop.

A user's error in the child (a bad file, a bound of plan.limits) comes back as its Vietnamese sentence; running out
of memory (a MemoryError, or the readers' own words for it, see ``plan.limits.out_of_memory``) or a child that died
comes back as the memory limit's sentence, naming NHACVIEC_WEB_WORK_MEMORY_MB.

Templates use it too (:func:`check_templates`): checking an admin's templates and rendering a preview run in such
a child (``TEMPLATE_SECONDS``, ``TEMPLATE_MEMORY_MB``; on the web NHACVIEC_WEB_TEMPLATE_SECONDS/_MEMORY_MB), so
that whatever templates.limits misses cannot stall or bloat the web process or the CLI: a child killed for time
or memory is one Vietnamese sentence saying the template is too heavy.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from plan.errors import UserError, say
from plan.limits import out_of_memory
from templates.render import CheckedRenders, check_and_render

T = TypeVar("T")

PRELOAD = [
    "plan.importers",
    "plan.check",
    "plan.importers.docx_plan",
    "plan.importers.xlsx_plan",
    "templates.render",
]
TEMPLATE_SECONDS = (
    30.0  # a check of a template folder and its preview (templates.render.VALIDATE_SECONDS inside)
)
TEMPLATE_MEMORY_MB = 1024  # that child's address space
_context_lock = threading.Lock()
_context: Any = None


class WorkLimitError(UserError):
    """A job went past its time or memory limit (the message names the limit)."""


def _mp_context() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


def _limit_memory(memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _child(connection: Any, memory_bytes: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: limit memory, run, send back the result or a user's error as its sentence (exceptions with
    odd signatures never cross the pipe)."""
    _limit_memory(memory_bytes)
    try:
        outcome: tuple[str, Any] = ("ok", function(*args))
    except UserError as error:
        outcome = ("error", getattr(error, "message", None) or say(error, {}))
    except MemoryError:
        outcome = ("memory", None)
    except Exception as error:  # a library's own words for running out of memory, or a failure of its own
        if out_of_memory(error):
            outcome = ("memory", None)
        else:
            logging.getLogger(__name__).exception("the limited child failed")
            outcome = (
                "error",
                "Có lỗi không mong đợi khi xử lý: hãy kiểm tra lại dữ liệu, hoặc báo quản trị viên.",
            )
    try:
        connection.send(outcome)
    except MemoryError:
        connection.send(("memory", None))
    finally:
        connection.close()


def run_limited(
    function: Callable[..., T],
    *args: Any,
    seconds: float,
    memory_mb: int,
    too_slow: str | None = None,
    too_big: str | None = None,
) -> T:
    """``function(*args)`` in a child process within ``seconds`` and ``memory_mb``; a UserError otherwise
    (``too_slow`` / ``too_big`` its sentence, by default one about reading a file)."""
    context = _mp_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, memory_mb * 1024 * 1024, function, args), daemon=True
    )
    process.start()
    sender.close()
    memory_error = WorkLimitError(
        too_big
        or f"Đọc tệp cần hơn {memory_mb:,} MB bộ nhớ, quá giới hạn cho phép (NHACVIEC_WEB_WORK_MEMORY_MB): hãy "
        "tách tệp thành các tệp nhỏ hơn, hoặc nhờ quản trị viên tăng NHACVIEC_WEB_WORK_MEMORY_MB."
    )
    try:
        if not receiver.poll(seconds):
            process.kill()
            raise WorkLimitError(
                too_slow
                or f"Đọc tệp mất hơn {seconds:g} giây, quá giới hạn: hãy tách tệp thành các tệp nhỏ hơn "
                "(hoặc tăng NHACVIEC_WEB_WORK_SECONDS)."
            )
        try:
            kind, value = receiver.recv()
        except (EOFError, OSError):  # the child died (the kernel or the allocator ended it)
            raise memory_error from None
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(1)
    if kind == "error":
        raise UserError(str(value))
    if kind == "memory":
        raise memory_error
    return value


def check_templates(
    directory: Path,
    renders: Sequence[tuple[str, str, Mapping[str, Any]]] = (),
    zns_file: Path | None = None,
    *,
    seconds: float = TEMPLATE_SECONDS,
    memory_mb: int = TEMPLATE_MEMORY_MB,
) -> CheckedRenders:
    """:func:`templates.render.check_and_render` in a limited child: the folder's problems, or its renders."""
    return run_limited(
        check_and_render,
        directory,
        list(renders),
        zns_file,
        seconds=seconds,
        memory_mb=memory_mb,
        too_slow=f"Mẫu quá nặng: kiểm tra và dựng thử mất hơn {seconds:g} giây, hãy bỏ vòng lặp lớn, "
        "phép nhân chuỗi hay danh sách lớn trong mẫu.",
        too_big=f"Mẫu quá nặng: kiểm tra và dựng thử cần hơn {memory_mb:,} MB bộ nhớ, hãy bỏ phép nhân chuỗi "
        "hay danh sách lớn trong mẫu.",
    )
