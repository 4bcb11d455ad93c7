"""A browser for sign-in tests, to name in `BROWSER`: `python fake_browser.py URL` loads the
address and follows its redirects (the sign-in page "signs in" at once and sends it back to the
command's listener), then exits 0 if the last page answered 200."""

from __future__ import annotations

import sys

import httpx

if __name__ == "__main__":
    answer = httpx.get(sys.argv[1], follow_redirects=True, timeout=30)
    sys.exit(0 if answer.status_code == 200 else 1)
