"""The ASGI app uvicorn loads (`rectify.web.main:app`): rectify's database from RECTIFY_DATABASE_URL,
the clock fixed by RECTIFY_WEB_AS_OF when set (`rectify web --as-of`)."""

import os

from rectify.web.app import create_app

app = create_app(as_of=os.environ.get("RECTIFY_WEB_AS_OF") or None)
