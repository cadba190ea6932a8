"""Old Office files (.doc, .xls) read by converting them with LibreOffice in headless mode.

``converted(path, target)`` runs ``soffice --headless --convert-to docx|xlsx`` into a temporary folder
(with a profile of its own, so conversions never wait for a LibreOffice the user has open, nor for each
other) and yields the converted file, deleted afterwards. Without LibreOffice, or when the conversion
fails, a :class:`PlanFileError` says in one sentence what to do.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plan.model import PlanFileError

INSTALL_HINT = (
    "cài LibreOffice (Debian/Ubuntu: sudo apt-get install --no-install-recommends "
    "libreoffice-writer-nogui libreoffice-calc-nogui)"
)
TIMEOUT_SECONDS = 180
_NAMES = {".doc": ("Word", ".docx"), ".xls": ("Excel", ".xlsx")}


def soffice() -> str | None:
    """The LibreOffice program, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


@contextmanager
def converted(path: Path, *, timeout: float = TIMEOUT_SECONDS) -> Iterator[Path]:
    """The .docx (for a .doc) or .xlsx (for a .xls) that LibreOffice makes of ``path``."""
    file = str(path)
    app, target = _NAMES[path.suffix.lower()]
    program = soffice()
    if program is None:
        raise PlanFileError(
            file,
            f"Cần LibreOffice để đọc tệp {path.suffix.lower()}: hãy {INSTALL_HINT}, "
            f"hoặc mở tệp bằng {app} và lưu lại dưới dạng {target}.",
        )
    with tempfile.TemporaryDirectory(prefix="nhacviec-office-") as temp:
        folder = Path(temp)
        source = folder / f"ke-hoach{path.suffix.lower()}"  # a plain name: soffice trips on some paths
        shutil.copyfile(path, source)
        command = [
            program,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target.lstrip("."),
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        try:
            subprocess.run(
                command, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise PlanFileError(
                file,
                f"LibreOffice chuyển đổi tệp quá {int(timeout)} giây; hãy mở tệp bằng {app} "
                f"và lưu lại dưới dạng {target}.",
            ) from None
        result = folder / "out" / f"ke-hoach{target}"
        if not result.is_file() or result.stat().st_size == 0:
            raise PlanFileError(
                file,
                f"LibreOffice không chuyển đổi được tệp (tệp hỏng, có mật khẩu hoặc không phải tệp {app}); "
                f"hãy mở tệp bằng {app} và lưu lại dưới dạng {target}.",
            )
        yield result
