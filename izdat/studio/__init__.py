"""The studio: all of izdat in the browser (``izdat studio``).

A local web application (Starlette + uvicorn, plain HTML/CSS/JS, nothing fetched from elsewhere):
cut a song into a bone record, play a record from its picture, dub a song through a chain of tape
decks, and watch copies spread through the underground. Long jobs run in background processes with
progress; results stay in a data folder until deleted.

>>> from izdat.studio import create_app
>>> app = create_app("/tmp/izdat-studio-doctest")   # doctest: +SKIP
"""

from izdat.studio.app import create_app, default_data_dir

__all__ = ["create_app", "default_data_dir", "serve"]


def serve(*, host: str = "127.0.0.1", port: int = 8350, data_dir=None, workers: int = 1,
          max_upload_mb: float = 200, max_data_gb: float = 4.0, log_level: str = "warning") -> None:
    """Run the studio with uvicorn until interrupted.

    On this machine only (the default) it answers only requests whose ``Host`` is 127.0.0.1,
    localhost or [::1] with this ``port``; on another address, any ``Host`` (changes still need
    the page's token and a same-origin ``Origin``).
    """
    import uvicorn

    local = host in ("127.0.0.1", "localhost", "::1")
    hosts = ["127.0.0.1", "localhost", "::1"] if local else None
    app = create_app(data_dir, workers=workers, max_upload_mb=max_upload_mb, allowed_hosts=hosts,
                     port=port if local else None, max_data_gb=max_data_gb)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
