"""How big a real big plan is inside its zip, and what reading it costs: the basis of plan.limits' archive bounds.

Writes a ROWS-row .docx plan as an office lays it out (python-docx, header block, title, the appendix table with
section rows), prints its size on disk, its XML uncompressed, the archive's ratio, then reads it as
`plan check` does in a fresh child process and prints the time and the child's peak RSS.

    .venv/bin/python bench/bench_archive_limits.py [ROWS]        # default 20000
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.synthetic, run as a script


def write_plan(path: Path, rows: int) -> Path:
    from docx import Document

    document = Document()
    block = document.add_table(rows=1, cols=2)
    block.cell(0, 0).text = "UBND TỈNH QUẢNG NAM\nSỞ GIÁO DỤC VÀ ĐÀO TẠO"
    block.cell(0, 1).text = "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Kế hoạch cải cách hành chính năm 2020")
    header = [
        "TT",
        "Nội dung nhiệm vụ",
        "Sản phẩm",
        "Phòng chủ trì",
        "Phòng phối hợp",
        "Thời gian hoàn thành",
    ]
    table = document.add_table(rows=rows + 2, cols=len(header))
    table.style = "Table Grid"
    cells = table._cells  # one pass over the grid: table.cell(r, c) walks it again for every cell
    width = len(header)
    for column, text in enumerate(header):
        cells[column].text = text
    cells[width].text = "I"
    cells[width + 1].text = "Công tác chung"
    for i in range(1, rows + 1):
        row = [str(i), f"Nhiệm vụ số {i} của kế hoạch năm", "Báo cáo", "Văn phòng Sở", "Phòng TCCB",
               f"Trước {1 + i % 28:02d}/{1 + i % 12:02d}/2020"]  # fmt: skip
        for column, text in enumerate(row):
            cells[(i + 1) * width + column].text = text
    document.save(str(path))
    return path


def _read(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from bench.synthetic import sample_directory
    from plan.check import check_plan
    from plan.importers import read_plan

    started = time.perf_counter()
    raw = read_plan(Path(path))
    check_plan(raw, sample_directory(), 2020)
    queue.put((time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as folder:
        path = write_plan(Path(folder) / "ke-hoach.docx", rows)
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
        total = sum(m.file_size for m in members)
        compressed = sum(m.compress_size for m in members)
        document = next(m for m in members if m.filename == "word/document.xml")
        print(f"{rows:,} rows: file {path.stat().st_size / 1e6:.1f} MB, uncompressed {total / 1e6:.1f} MB "
              f"(document.xml {document.file_size / 1e6:.1f} MB), whole-archive ratio {total / compressed:.0f}:1, "
              f"document.xml ratio {document.file_size / document.compress_size:.0f}:1")  # fmt: skip
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=_read, args=(str(path), queue))
        child.start()
        seconds, peak_mb = queue.get()
        child.join()
        print(f"read + check in a fresh process: {seconds:.1f} s, peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
