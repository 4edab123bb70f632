"""Everything that produces Posts: Markdown files, feeds, and the bytes they come from."""
