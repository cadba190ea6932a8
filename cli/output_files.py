"""Files a command writes: the path checked before any work, and a failed write said in one Vietnamese sentence.

- :func:`check_output_file`: the folder exists and is a folder, the path is not a folder, and both may be
  written (a real probe, nothing is written); missing folders are never created.
- :func:`writing`: a block that writes the file; an OSError in it becomes one sentence
  (:func:`write_error_text`), never the system's English.

Every command that writes a file (``units export``, ``tasks export``, ``rules export``, ``report build
--out``) goes through these, so each refuses a bad path the same way.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plan.errors import UserError


def check_output_file(path: Path | str, what: str = "tệp") -> Path:
    """``path`` if a file may be written there, checked before any work: its folder exists and is a folder, the path
    itself is not a folder, and both may be written; else one Vietnamese sentence naming the path and what to do.
    Missing folders are never created (every command that writes a file refuses the same way)."""
    path = Path(path)
    parent = path.parent
    try:
        if path.is_dir():
            raise UserError(
                f"{path} là một thư mục, không phải {what}: hãy ghi ra một tệp trong đó hoặc chọn tên khác."
            )
        if not parent.exists():
            raise UserError(f"Thư mục {parent} không có: tạo thư mục trước hoặc chọn chỗ khác để ghi {what}.")
        if not parent.is_dir():
            raise UserError(f"{parent} là một tệp, không phải thư mục: hãy chọn chỗ khác để ghi {what}.")
        existed = path.exists()
        with path.open("ab"):  # a real probe: permissions, read-only disks, /proc; nothing is written
            pass
        if not existed:
            path.unlink(missing_ok=True)
    except OSError as error:
        raise UserError(write_error_text(path, error, what)) from None
    return path


def write_error_text(path: Path | str, error: OSError, what: str = "tệp") -> str:
    """One Vietnamese sentence for an OSError met while writing ``path`` (never the system's English)."""
    path = Path(path)
    code = error.errno
    if code == errno.ENOENT:
        if not path.parent.exists():
            return f"Thư mục {path.parent} không có: tạo thư mục trước hoặc chọn chỗ khác để ghi {what}."
        return f"Không tạo được {what} {path} ở thư mục này: hãy chọn chỗ khác để ghi."
    if code == errno.EISDIR:
        return f"{path} là một thư mục, không phải {what}: hãy ghi ra một tệp trong đó hoặc chọn tên khác."
    if code in (errno.ENOTDIR, errno.EEXIST):
        return f"Một phần của đường dẫn {path} là tệp, không phải thư mục: hãy chọn chỗ khác để ghi {what}."
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Không có quyền ghi {what} {path}: hãy chọn chỗ khác hoặc xin quyền ghi."
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"Ổ đĩa hết chỗ khi ghi {what} {path}: hãy giải phóng chỗ trống hoặc chọn ổ khác."
    if code == errno.ENAMETOOLONG:
        return f"Tên {what} {path} quá dài: hãy chọn tên ngắn hơn."
    return f"Không ghi được {what} {path} (lỗi hệ thống số {code}): hãy chọn chỗ khác để ghi."


@contextmanager
def writing(path: Path | str, what: str = "tệp") -> Iterator[Path]:
    """Write ``path`` inside this block: an OSError becomes one Vietnamese sentence (a :class:`UserError`)."""
    try:
        yield Path(path)
    except OSError as error:
        raise UserError(write_error_text(path, error, what)) from None
