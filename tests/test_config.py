"""syndicate.toml → Config: the minimal file works, every mistake names its key and the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import MINIMAL_CONFIG, toml_text, write_site

from syndicate.config import find_config, load_config
from syndicate.errors import ConfigError


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "syndicate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def with_change(table: str, key: str, value: Any) -> str:
    tables = {name: dict(t) for name, t in MINIMAL_CONFIG.items()}
    tables.setdefault(table, {})[key] = value
    return toml_text(tables)


def test_minimal_config_from_the_issue(tmp_path: Path) -> None:
    path = write_site(tmp_path, {})
    config = load_config(path)
    assert config.path == path
    assert config.site.title == "Example Blog"
    assert config.site.url == "https://blog.example.org/"
    assert config.site.description == "Notes on clouds and networks"
    assert config.site.language == "en"
    assert config.site.timezone == ZoneInfo("America/Los_Angeles")
    assert (config.site.author.name, config.site.author.email) == ("Example Author", "author@example.org")
    assert [(s.kind, s.location) for s in config.sources] == [("markdown", str((tmp_path / "posts").resolve()))]
    assert config.output_dir == (tmp_path / "public").resolve()
    assert config.output_url == "https://blog.example.org/"
    assert config.feeds.formats == ("rss", "atom", "json")
    assert config.feeds.max_items == 20
    assert config.feeds.full_content is True


def test_the_repository_config_loads(repo_root: Path) -> None:
    config = load_config(repo_root / "syndicate.toml")
    assert config.output_dir == (repo_root / "feeds").resolve()
    assert config.sources[0].location == str((repo_root / "samples" / "posts").resolve())


def test_output_dir_override_keeps_the_configured_key_valid(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, {}), output_dir=tmp_path / "elsewhere")
    assert config.output_dir == (tmp_path / "elsewhere").resolve()


def test_defaults_when_optional_tables_are_missing(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[site]\ntitle = "T"\nurl = "https://example.org"\nauthor = "A"\n',
    )
    config = load_config(path)
    assert config.site.url == "https://example.org/"
    assert config.site.timezone == ZoneInfo("UTC")
    assert config.feeds.max_items == 20
    assert config.output_dir == (tmp_path / "public").resolve()


WRONG_TYPES = [
    ("site", "title", 5),
    ("site", "url", 5),
    ("site", "url", "blog.example.org"),
    ("site", "description", ["x"]),
    ("site", "language", True),
    ("site", "timezone", 7),
    ("site", "author", 42),
    ("site", "permalink", "/{year}/{month}/"),
    ("site", "permalink", 1),
    ("site", "postal_address", 1),
    ("content", "posts", 3),
    ("content", "templates", False),
    ("output", "dir", 1),
    ("output", "url", "/feeds/"),
    ("feeds", "formats", "rss"),
    ("feeds", "formats", ["rss", "xml"]),
    ("feeds", "formats", [1]),
    ("feeds", "max_items", "20"),
    ("feeds", "max_items", True),
    ("feeds", "max_items", 2.5),
    ("feeds", "max_items", 0),
    ("feeds", "full_content", "yes"),
    ("feeds", "tags", 1),
    ("feeds", "categories", "no"),
    ("digest", "enabled", "true"),
    ("digest", "subject", 1),
    ("digest", "max_items", "all"),
    ("digest", "unsubscribe_url", "unsubscribe"),
    ("smtp", "host", 1),
    ("smtp", "port", "25"),
    ("smtp", "security", "tls"),
    ("smtp", "timeout", "30"),
    ("smtp", "rate", True),
]


@pytest.mark.parametrize(("table", "key", "value"), WRONG_TYPES, ids=lambda v: repr(v))
def test_wrong_value_names_key_and_file(tmp_path: Path, table: str, key: str, value: Any) -> None:
    path = write_config(tmp_path, with_change(table, key, value))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message
    assert f"[{table}]" in message
    assert key in message
    assert "\n" not in message


@pytest.mark.parametrize(("key", "value"), [("database", 1), ("max_feed_bytes", "20MB")])
def test_wrong_top_level_value(tmp_path: Path, key: str, value: Any) -> None:
    path = write_config(tmp_path, f"{key} = {value!r}\n".replace("'", '"') + toml_text(MINIMAL_CONFIG))
    with pytest.raises(ConfigError, match=key) as err:
        load_config(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("table", ["site", "content", "output", "feeds", "digest", "smtp"])
def test_table_that_is_not_a_table(tmp_path: Path, table: str) -> None:
    tables = {name: t for name, t in MINIMAL_CONFIG.items() if name != table}
    path = write_config(tmp_path, f'{table} = "oops"\n' + toml_text(tables))
    with pytest.raises(ConfigError, match=rf"{table} must be a table") as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {table}"), "a top-level key has no [table] prefix"


def test_author_table_keys_are_checked(tmp_path: Path) -> None:
    path = write_config(tmp_path, with_change("site", "author", {"name": "A", "mail": "a@example.org"}))
    with pytest.raises(ConfigError, match=r"\[site\.author\] unknown key 'mail'; did you mean 'email'\?"):
        load_config(path)


def test_required_keys(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[site]\nurl = "https://example.org/"\nauthor = "A"\n')
    with pytest.raises(ConfigError, match=r"\[site\] title is required"):
        load_config(path)
    path = write_config(tmp_path, '[site]\ntitle = "T"\nurl = "https://example.org/"\n')
    with pytest.raises(ConfigError, match=r"\[site\] author is required"):
        load_config(path)


@pytest.mark.parametrize(
    ("table", "key", "suggestion"),
    [
        ("feeds", "max_item", "max_items"),
        ("site", "titel", "title"),
        ("output", "dirs", "dir"),
        ("feeds", "format", "formats"),
    ],
)
def test_unknown_key_with_suggestion(tmp_path: Path, table: str, key: str, suggestion: str) -> None:
    path = write_config(tmp_path, with_change(table, key, 1))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: [{table}] unknown key {key!r}; did you mean {suggestion!r}?"


def test_unknown_table_with_suggestion(tmp_path: Path) -> None:
    path = write_config(tmp_path, toml_text(MINIMAL_CONFIG) + "\n[feed]\nmax_items = 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'feed'; did you mean 'feeds'\?"):
        load_config(path)


def test_unknown_key_without_a_near_match(tmp_path: Path) -> None:
    path = write_config(tmp_path, with_change("feeds", "zzzzzz", 1))
    with pytest.raises(ConfigError, match=r"\[feeds\] unknown key 'zzzzzz'; remove it or check its spelling"):
        load_config(path)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "PST8PDT/../../etc/passwd", "", "../zoneinfo"])
def test_unknown_time_zone(tmp_path: Path, zone: str) -> None:
    path = write_config(tmp_path, with_change("site", "timezone", zone))
    with pytest.raises(ConfigError, match=r"\[site\] timezone .* is not a known IANA time zone") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found") as err:
        load_config(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(err.value)


def test_find_config_in_an_empty_folder_tells_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="syndicate init"):
        find_config(tmp_path)
    path = write_site(tmp_path, {})
    assert find_config(tmp_path) == path
    assert find_config(path) == path


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[site]\ntitle = "unclosed\n')
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_config(path)
    assert str(err.value).startswith(str(path))


def test_non_utf8_config(tmp_path: Path) -> None:
    path = tmp_path / "syndicate.toml"
    path.write_bytes(toml_text(MINIMAL_CONFIG).replace("Example Blog", "Caf\xe9").encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


@pytest.mark.parametrize("out", ["posts", "posts/public", "posts/a/b"])
def test_output_dir_inside_posts_dir(tmp_path: Path, out: str) -> None:
    path = write_config(tmp_path, with_change("output", "dir", out))
    with pytest.raises(ConfigError, match=r"\[output\] dir .* is inside the posts directory"):
        load_config(path)


def test_output_dir_inside_posts_dir_from_the_command_line(tmp_path: Path) -> None:
    path = write_site(tmp_path, {})
    with pytest.raises(ConfigError, match="inside the posts directory"):
        load_config(path, output_dir=tmp_path / "posts" / "out")


def test_output_dir_next_to_posts_is_fine(tmp_path: Path) -> None:
    path = write_config(tmp_path, with_change("output", "dir", "posts-out"))
    assert load_config(path).output_dir == (tmp_path / "posts-out").resolve()


def test_smtp_password_is_refused(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, toml_text({**MINIMAL_CONFIG, "smtp": {"host": "mail.example.org", "password": "hunter2"}})
    )
    with pytest.raises(ConfigError, match=r"\[smtp\] password must not be stored") as err:
        load_config(path)
    assert "hunter2" not in str(err.value)
    assert "SYNDICATE_SMTP_PASSWORD" in str(err.value)


def test_smtp_port_follows_security(tmp_path: Path) -> None:
    path = write_config(tmp_path, toml_text({**MINIMAL_CONFIG, "smtp": {"security": "ssl"}}))
    assert load_config(path).smtp.port == 465


def test_duplicate_formats_are_kept_once(tmp_path: Path) -> None:
    path = write_config(tmp_path, with_change("feeds", "formats", ["atom", "rss", "atom"]))
    assert load_config(path).feeds.formats == ("atom", "rss")
