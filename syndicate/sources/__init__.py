"""Outside bytes and Posts: Markdown files and feeds (fetched when remote) read into Posts, and a Post written
back as a Markdown file (`syndicate import`)."""
