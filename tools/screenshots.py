"""Screenshots of the web UI for docs/: the chat with an answer and the admin tab, each at 1280×800
(desktop) and 390×844 (phone).

    .venv/bin/python tools/screenshots.py            # indexes corpus/ into a temp folder first (~2 min)
    .venv/bin/python tools/screenshots.py --data-dir data   # use an existing index

Needs Debian's Chromium and node_modules/axe-core (`make test` installs both). Generating the answer
runs the bundled model on the CPU (20 s to a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.service import IngestService  # noqa: E402
from kreiswissen.settings import AdminSettings, Settings  # noqa: E402
from rag.answer_service import AnswerService  # noqa: E402
from tests.conftest import serve  # noqa: E402
from tests.test_ui_browser import (  # noqa: E402
    ADMIN_PASSWORD,
    QUESTION,
    chromium,
    login_admin,
    open_app,
    wait_for_answer,
)
from ui.admin_auth import hash_password  # noqa: E402
from ui.server import create_server  # noqa: E402

SIZES = {"1280": (1280, 800), "390": (390, 844)}
MAX_BYTES = 400 * 1024


def take(settings: Settings, out: Path) -> list[Path]:
    service = AnswerService(settings)
    app = create_server(settings, service)
    written: list[Path] = []
    with serve(app) as url, chromium(*SIZES["1280"]) as browser:
        page = browser.new_page()
        open_app(page, url)
        page.get_by_role("textbox", name="Ihre Frage").fill(QUESTION)
        page.get_by_role("button", name="Fragen", exact=True).click()
        wait_for_answer(page, 1)
        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(500)
            # Desktop: the answer beside its sources. Phone: the whole page, the sources below the chat.
            page.evaluate("window.scrollTo(0, 0)")
            path = out / f"chat-{name}.png"
            page.screenshot(path=str(path), full_page=width < 600)
            written.append(path)
        page.set_viewport_size({"width": 1280, "height": 800})
        login_admin(page)
        page.locator("#kw-admin-start").wait_for()
        page.wait_for_timeout(1000)
        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(500)
            page.evaluate("window.scrollTo(0, 0)")
            path = out / f"admin-{name}.png"
            page.screenshot(path=str(path))
            written.append(path)
    for path in written:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SystemExit(f"{path} ist {size // 1024} KB groß (höchstens {MAX_BYTES // 1024} KB).")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshots der Weboberfläche für docs/ erzeugen.")
    parser.add_argument("--data-dir", type=Path, help="vorhandener Datenordner mit Index (sonst temporär)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="Zielordner (Standard: docs/)")
    args = parser.parse_args()
    admin = AdminSettings(password_hash=hash_password(ADMIN_PASSWORD, iterations=1000))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kw-screens-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        settings = Settings(data_dir=data_dir, models_dir=ROOT / "models", admin=admin)
        if args.data_dir is None:
            print("Indexiere corpus/ …")
            IngestService(settings).ingest([ROOT / "corpus"])
        for path in take(settings, args.out):
            print(f"{path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
