"""Products on the dashboard side: create and edit, their ordered media, which files are previews."""
