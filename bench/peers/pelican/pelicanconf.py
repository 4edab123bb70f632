"""Pelican settings for bench/build_bench.py: the same feeds syndicate builds, nothing else.

RSS 2.0 and Atom for the whole site and for every tag and category, full content,
the newest 100 items each. Every HTML page (articles, indexes, archives, tag and
category pages) is switched off, so Pelican reads and renders every post but
writes only feeds. The content cache is on: a run without --ignore-cache reuses
what the last run read (Pelican compares file modification times).
"""

AUTHOR = "Bench Author"
SITENAME = "Benchmark Blog"
SITEURL = "https://bench.example.org"
FEED_DOMAIN = SITEURL
TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "en"

PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS: list[str] = []
STATIC_PATHS: list[str] = []
THEME_STATIC_PATHS: list[str] = []
OUTPUT_PATH = "output"

FEED_MAX_ITEMS = 100
RSS_FEED_SUMMARY_ONLY = False
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
CATEGORY_FEED_ATOM = "feeds/category/{slug}.atom.xml"
CATEGORY_FEED_RSS = "feeds/category/{slug}.rss.xml"
TAG_FEED_ATOM = "feeds/tag/{slug}.atom.xml"
TAG_FEED_RSS = "feeds/tag/{slug}.rss.xml"
FEED_ATOM = None
FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None

# Feeds only: no HTML pages.
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
PAGE_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
TAG_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
DIRECT_TEMPLATES: list[str] = []
ARTICLE_URL = "posts/{date:%Y}/{date:%m}/{date:%d}/{slug}/"
SLUGIFY_SOURCE = "basename"

CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
DELETE_OUTPUT_DIRECTORY = False
