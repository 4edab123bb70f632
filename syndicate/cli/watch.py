"""`syndicate build --watch`: rebuild whenever a post, template or the config changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from syndicate import Config


def watched_paths(config: Config) -> list[Path]:
    paths = [config.path]
    paths += [Path(s.location) for s in config.sources if s.kind == "markdown" or not s.location.startswith("http")]
    if config.templates_dir is not None:
        paths.append(config.templates_dir)
    return [p for p in paths if p.exists()]


def watch_and_rebuild(config: Config, rebuild: Callable[[], None]) -> None:
    """Block until interrupted; after each batch of file changes, print what changed and rebuild."""
    from watchfiles import watch

    out = config.output_dir.resolve()
    cache = (config.root / ".syndicate-cache").resolve()

    def relevant(_change: object, path: str) -> bool:
        resolved = Path(path).resolve()
        return not (
            resolved == out or out in resolved.parents or cache in resolved.parents or resolved.name.startswith(".")
        )

    click.echo(f"watching {', '.join(str(p) for p in watched_paths(config))} (Ctrl-C to stop)", err=True)
    for changes in watch(*watched_paths(config), watch_filter=relevant, raise_interrupt=False):
        names = sorted({Path(path).name for _, path in changes})
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        click.echo(f"changed: {shown}", err=True)
        rebuild()
