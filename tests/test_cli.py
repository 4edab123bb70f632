"""The command line: summary line, --today, one-line errors with exit 1, usage errors with exit 2, help, version."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import REPO_ROOT, copy_example_site, output_files, post_text, write_site

from syndicate import __version__
from syndicate.cli.main import main

SUMMARY = re.compile(r"^built (\d+) files from (\d+) posts? in \d+\.\d\d s\b")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def three_posts(tmp_path: Path) -> Path:
    write_site(
        tmp_path,
        {
            "2013-04-15-first.md": post_text("First", "2013-04-15 10:00:00", tags=["OpenStack"]),
            "2013-04-16-second.md": post_text("Second", "2013-04-16 10:00:00", tags=["OpenStack", "SDN"]),
            "2013-04-20-third.md": post_text("Third", "2013-04-20 10:00:00", categories=["General"]),
        },
    )
    return tmp_path


def hashes(folder: Path) -> dict[str, str]:
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in output_files(folder).items()}


def test_build_prints_one_summary_line(tmp_path: Path) -> None:
    site = three_posts(tmp_path)
    result = run("build", "--site", site, "--today", "2013-04-30")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    assert int(match[2]) == 3
    assert int(match[1]) == len(output_files(site / "public")) - 1  # every file but the manifest
    assert (site / "public" / "tags" / "sdn" / "atom.xml").is_file()


def test_build_accepts_the_config_file_itself(tmp_path: Path) -> None:
    site = three_posts(tmp_path)
    result = run("build", "--site", site / "syndicate.toml", "--today", "2013-04-30", "--out", tmp_path / "elsewhere")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere" / "rss.xml").is_file()
    assert not (site / "public").exists()


def test_today_leaves_later_posts_out(tmp_path: Path) -> None:
    site = three_posts(tmp_path)
    result = run("build", "--site", site, "--today", "2013-04-16")
    assert result.exit_code == 0, result.output
    assert SUMMARY.match(result.stdout) and " from 2 posts " in result.stdout
    assert b"Third" not in (site / "public" / "rss.xml").read_bytes()
    assert not (site / "public" / "categories").exists()


@pytest.mark.parametrize("bad", ["yesterday", "2013-13-01", "30/04/2013"])
def test_bad_today_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    result = run("build", "--site", three_posts(tmp_path), "--today", bad)
    assert result.exit_code == 2
    assert "--today" in result.stderr


def test_yaml_error_is_one_line_exit_1_and_outputs_untouched(tmp_path: Path) -> None:
    site = three_posts(tmp_path)
    assert run("build", "--site", site, "--today", "2013-04-30").exit_code == 0
    before = output_files(site / "public")
    (site / "posts" / "x.md").write_text(
        "---\ntitle: Broken\ndate: 2013-04-21\ntags: [a, b\nslug: x\n---\nBody\n", encoding="utf-8"
    )
    result = run("build", "--site", site, "--today", "2013-04-30")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""
    naming = [line for line in result.stderr.splitlines() if "posts/x.md:4: " in line]
    assert len(naming) == 1, result.stderr
    assert "YAML" in naming[0]
    assert len(result.stderr.splitlines()) <= 2, result.stderr  # the cause, and at most one summary line
    assert output_files(site / "public") == before


def test_errors_name_posts_relative_to_the_site_when_run_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = three_posts(tmp_path)
    (site / "posts" / "x.md").write_text("---\ntitle: a: b\ndate: 2013-04-21\n---\n", encoding="utf-8")
    monkeypatch.chdir(site)
    result = run("build", "--today", "2013-04-30")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("error: posts/x.md:2: YAML front matter: the value holds"), (
        result.stderr
    )


def test_a_refusal_is_three_lines_at_most_and_keep_going_lists_every_bad_post(tmp_path: Path) -> None:
    site = three_posts(tmp_path)
    (site / "posts" / "a.md").write_bytes(b"")
    (site / "posts" / "b.md").write_bytes(b"---\ntitle: T\ndate: 2013-04-15\n---\ncaf\xe9\n")
    (site / "posts" / "c.md").write_text("---\ntitle: T\n---\n", encoding="utf-8")
    for n in range(40):
        (site / "posts" / f"more-{n:02d}.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    result = run("build", "--site", site, "--today", "2013-04-30")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) <= 3, result.stderr
    assert lines[0] == "error: posts/a.md: empty file: add front matter with a title and a date"
    assert "43 posts could not be read" in lines[1] and "--keep-going" in lines[1]
    assert not (site / "public").exists()
    kept_going = run("build", "--site", site, "--today", "2013-04-30", "--keep-going")
    assert kept_going.exit_code == 1
    expected = ["posts/a.md: empty file", "posts/b.md:5: not UTF-8", "posts/c.md:2: missing date"]
    expected += [f"posts/more-{n:02d}.md:3: YAML front matter" for n in range(40)]
    for text in expected:
        assert sum(text in line for line in kept_going.stderr.splitlines()) == 1, (text, kept_going.stderr)


def test_build_without_a_site_says_how_to_start(tmp_path: Path) -> None:
    result = run("build", "--site", tmp_path)
    assert result.exit_code == 1
    assert "syndicate init" in result.stderr
    assert "Traceback" not in result.output


def test_config_error_is_one_line(tmp_path: Path) -> None:
    site = three_posts(tmp_path)
    text = (site / "syndicate.toml").read_text(encoding="utf-8").replace("max_items = 20", "max_item = 20")
    (site / "syndicate.toml").write_text(text, encoding="utf-8")
    result = run("build", "--site", site)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "did you mean 'max_items'?" in result.stderr
    assert str(site / "syndicate.toml") in result.stderr


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    site = three_posts(tmp_path / "site")
    assert run("build", "--site", site, "--today", "2013-04-30", "--out", tmp_path / "one").exit_code == 0
    first = hashes(tmp_path / "one")
    again = run("build", "--site", site, "--today", "2013-04-30", "--out", tmp_path / "one")
    assert again.exit_code == 0 and "(0 written," in again.stdout
    assert run("build", "--site", site, "--today", "2013-04-30", "--out", tmp_path / "two").exit_code == 0
    assert hashes(tmp_path / "one") == first
    assert hashes(tmp_path / "two") == first


def test_example_site_builds_twice_identically(tmp_path: Path) -> None:
    for name in ("a", "b"):  # separate copies: no build cache shared between the two
        config = copy_example_site(tmp_path / f"site-{name}")
        assert run("build", "--site", config, "--today", "2013-04-30", "--out", tmp_path / name).exit_code == 0
    assert hashes(tmp_path / "a") == hashes(tmp_path / "b")


def test_init_new_build(tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    result = run("init", blog, "--title", "My “Cloud” Blog", "--url", "https://me.example.org/")
    assert result.exit_code == 0, result.output
    assert (blog / "syndicate.toml").is_file()
    result = run(
        "new",
        "Grizzly to Havana",
        "--tag",
        "OpenStack",
        "--tag",
        "C++",
        "--site",
        blog,
        "--date",
        "2024-01-02T10:00:00",
    )
    assert result.exit_code == 0, result.output
    created = blog / "posts" / "2024-01-02-grizzly-to-havana.md"
    assert created.is_file() and str(created.name) in result.stdout
    result = run("new", "A draft", "--draft", "--site", blog, "--date", "2024-01-03T10:00:00")
    assert result.exit_code == 0, result.output
    result = run("build", "--site", blog, "--today", "2024-02-01")
    assert result.exit_code == 0, result.output
    assert " from 2 posts " in result.stdout  # the scaffold's first post and ours; not the draft
    out = blog / "public"
    assert (out / "tags" / "openstack" / "rss.xml").is_file()
    assert (out / "tags" / "c-plus-plus" / "atom.xml").is_file()
    assert "My “Cloud” Blog" in (out / "atom.xml").read_text(encoding="utf-8")
    assert b"A draft" not in (out / "atom.xml").read_bytes()


def test_init_refuses_an_existing_site(tmp_path: Path) -> None:
    assert run("init", tmp_path / "blog").exit_code == 0
    result = run("init", tmp_path / "blog")
    assert result.exit_code == 1
    assert "already" in result.stderr


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    run("init", blog)
    assert run("new", "Same", "--site", blog, "--date", "2024-01-02T10:00:00").exit_code == 0
    result = run("new", "Same", "--site", blog, "--date", "2024-01-02T11:00:00")
    assert result.exit_code == 1
    assert "already exists" in result.stderr


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    for flag in ("-h", "--help"):
        result = run(name, flag)
        assert result.exit_code == 0, result.output
        assert "Example" in result.stdout, f"syndicate {name} {flag} shows no example"
        assert f"syndicate {name}" in result.stdout


def test_main_help_lists_every_command() -> None:
    result = run("-h")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    for name in main.commands:
        assert name in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["build", "--no-such-option"],
        ["init"],
        ["new"],
        ["build", "--today"],
        ["check", "/definitely/not/a/folder"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_version_in_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "syndicate", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"syndicate, version {__version__}"
    assert done.stderr == ""


def test_every_command_is_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in sorted(main.commands) if f"syndicate {name}" not in readme]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"
