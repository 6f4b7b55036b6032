"""The export as files (``flask opendata export DIR``): the four datasets, dated, and a README
of their columns in English and Chinese. Written through the same streams as the downloads."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from portal.core import clock
from portal.core.i18n import force_locale, local
from portal.opendata.exports import CASE_COLUMNS, PROPOSAL_COLUMNS, case_rows, proposal_rows
from portal.opendata.filters import Filters
from portal.opendata.formats import csv_chunks, json_chunks

DATASETS = (("proposals", PROPOSAL_COLUMNS, proposal_rows), ("cases", CASE_COLUMNS, case_rows))


def _text(lazy, locale: str) -> str:
    with force_locale(locale):
        return str(lazy)


def readme(day: str) -> str:
    cfg = current_app.config
    lines = [
        f"# Commons open data / 社区议事厅开放数据 ({day})",
        "",
        "Public proposals and grid cases with every lifecycle timestamp. No personal data: no"
        " supporter, email address or phone number; a proposal's author appears by display name,"
        " as on its public page. Timestamps are ISO 8601 in UTC; CSV files are UTF-8 with a"
        " byte-order mark; an empty cell means no value; in CSV, text starting with =, +, - or @"
        " gets a leading apostrophe so that no spreadsheet runs it as a formula.",
        "",
        "公开的提议和网格案件及其全部生命周期时间戳。不含个人数据：没有附议人、电子邮箱或手机号；"
        "提议作者仅以公开页面上显示的昵称出现。时间为 UTC 的 ISO 8601 格式；CSV 文件为带 BOM 的"
        " UTF-8；空单元格表示无值；CSV 中以 =、+、-、@ 开头的文字前加一个撇号，"
        "以免电子表格把它当作公式执行。",
        "",
        f"Licence / 许可协议: {cfg['OPEN_DATA_LICENSE']} ({cfg['OPEN_DATA_LICENSE_URL']})",
        "",
    ]
    for name, columns, _rows in DATASETS:
        lines += [
            f"## {name}-{day}.csv, {name}-{day}.json",
            "",
            "| column / 列 | English | 中文 |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{c.name}` | {_text(c.description, 'en')} | {_text(c.description, 'zh_Hans')} |"
            for c in columns
        ]
        lines.append("")
    return "\n".join(lines)


def export(directory: Path) -> list[Path]:
    """Write the dated files into ``directory`` (made if missing); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    day = local(clock.now()).date().isoformat()  # type: ignore[union-attr]
    written = []
    for name, columns, rows in DATASETS:
        for fmt, write in (("csv", csv_chunks), ("json", json_chunks)):
            path = directory / f"{name}-{day}.{fmt}"
            with path.open("w", encoding="utf-8", newline="") as out:
                for chunk in write(columns, rows(Filters())):
                    out.write(chunk)
            written.append(path)
    path = directory / "README.md"  # of the files of this day, the latest
    path.write_text(readme(day), encoding="utf-8")
    written.append(path)
    return written
